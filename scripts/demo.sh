#!/usr/bin/env bash
# The one-machine trial: installs what is missing, then runs web, worker, beat, Redis and a mail sink.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
./scripts/setup.sh
exec .venv/bin/python scripts/run_demo.py
