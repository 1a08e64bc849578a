#!/usr/bin/env bash
# The test suite: setup, PostgreSQL and Redis (found or throwaway), ruff, then pytest "$@".
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
./scripts/setup.sh
source scripts/services.sh
services_up

.venv/bin/ruff check .
# Two processes (pytest-xdist), a file at a time each: each has its own database and Redis
# database (tests/conftest.py); PYTEST_WORKERS=0 runs in this process.
.venv/bin/pytest -n "${PYTEST_WORKERS:-2}" --dist loadfile "$@"  # not exec: the EXIT trap removes throwaway services; set -e keeps pytest's status
