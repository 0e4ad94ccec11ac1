#!/usr/bin/env bash
# Everything Restore Drill needs on a fresh Debian 12 machine, idempotent:
# system packages and a running Docker engine, the Python virtualenv, the restore images.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-system.sh

if [ ! -x .venv/bin/python ] || [ pyproject.toml -nt .venv/.installed ]; then
  echo "setup: installing the Python packages into .venv"
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -e '.[test,bench]'
  touch .venv/.installed
fi

bash scripts/build-images.sh
echo "setup: ready"
