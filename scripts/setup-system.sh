#!/usr/bin/env bash
# Installs and starts what Restore Drill needs from the system: Debian packages,
# a Docker engine (started without a bridge network when none runs), Chromium for the
# dashboard's browser test, and nothing else.
# Idempotent: a second run only checks.
set -euo pipefail

# fonts-dejavu-core: the certificates' PDF fonts; poppler-utils: the certificate tests read PDFs;
# chromium, fonts-noto-color-emoji: the dashboard's browser test; openssh-server: the sftp source's
# tests; docker-compose: the deployment test; postgresql-client, mariadb-client: drill seal on the site side;
# zsh: the test of `drill completion zsh`.
packages=(docker.io debootstrap age redis-server postgresql-client mariadb-client zstd openssl fonts-dejavu-core poppler-utils
          chromium fonts-noto-color-emoji openssh-server docker-compose zsh)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  echo "setup: starting the Docker engine (no bridge network: restore containers use network none)"
  # In a session of its own, away from the terminal: a Ctrl-C of `make demo` (SIGINT to the
  # terminal's foreground process group, which this script is part of) must not stop it.
  setsid dockerd --bridge=none --iptables=false </dev/null >/var/log/dockerd.log 2>&1 &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  docker info >/dev/null 2>&1 || { echo "setup: the Docker engine did not start; see /var/log/dockerd.log" >&2; exit 1; }
fi
echo "setup: system ready"
