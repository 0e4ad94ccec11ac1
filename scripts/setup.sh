#!/usr/bin/env bash
# Everything Restore Drill needs on a fresh Debian 12 machine, idempotent:
# system packages and a running Docker engine, the Python virtualenv, the restore images.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-system.sh

# The packages come from requirements.lock: every one pinned, with its hashes (scripts/lock.sh
# makes it from pyproject.toml); then the project itself, without resolving anything again.
if [ ! -x .venv/bin/python ] || [ pyproject.toml -nt .venv/.installed ] || [ requirements.lock -nt .venv/.installed ]; then
  echo "setup: installing the Python packages into .venv (requirements.lock)"
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
  .venv/bin/pip install --quiet --disable-pip-version-check --no-deps -e .
  touch .venv/.installed
fi

bash scripts/build-images.sh
echo "setup: ready"
