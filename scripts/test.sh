#!/usr/bin/env bash
# The test suite: setup, PostgreSQL and Redis (found or throwaway), ruff, then pytest "$@".
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
./scripts/setup.sh
source scripts/services.sh
services_up

.venv/bin/ruff check .
.venv/bin/pytest "$@"  # not exec: the EXIT trap removes throwaway services; set -e keeps pytest's status
