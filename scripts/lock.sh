#!/usr/bin/env bash
# Regenerate the lock files from pyproject.toml: every package pinned, with the sha256 of each of
# its files on PyPI (pip install --require-hashes refuses anything else), for Python 3.11+ on any
# platform. Needs uv (`pip install uv`); reads only PyPI, whatever pip's own configuration on this
# machine says (find-links, constraints).
#   requirements.lock         every extra: `make setup`, CI, development
#   requirements-server.lock  the drill service (extra `server`): the app image (compose/Dockerfile)
#   requirements-site.lock    the core alone: `drill seal` on a site's server (README: Install)
# The two subsets are resolved within requirements.lock: the same versions everywhere.
set -euo pipefail
cd "$(dirname "$0")/.."
UV=${UV:-uv}
compile() {
  "$UV" pip compile pyproject.toml --generate-hashes --universal --python-version 3.11 \
    --index-url https://pypi.org/simple --no-config --custom-compile-command 'bash scripts/lock.sh' \
    --quiet "$@"
}
compile --all-extras --output-file requirements.lock
compile --extra server --constraint requirements.lock --output-file requirements-server.lock
compile --constraint requirements.lock --output-file requirements-site.lock
