#!/bin/sh
# Starts Redis with the password of the compose secret `redis_password` and protected mode on.
# The password goes into a config file on a memory filesystem (/run/redis, a tmpfs), never on a
# command line that `ps` or `docker inspect` would show.
#   redis-entry.sh [redis-server options...]
set -eu
secret=/run/secrets/redis_password
config=/run/redis/redis.conf

password=$(cat "$secret")
case $password in
  "" | *[!A-Za-z0-9._~+/=-]*)
    echo "redis: $secret must hold one line of letters, digits or ._~+/=- (make one: openssl rand -hex 32)" >&2
    exit 1 ;;
esac
umask 077
# protected-mode in the file, not on the command line: the official image's entrypoint turns it
# off unless the config file names it.
printf 'protected-mode yes\nrequirepass %s\n' "$password" >"$config"
if id redis >/dev/null 2>&1; then
  chown redis "$config"  # readable by the redis user the official image's entrypoint drops to
fi

if command -v docker-entrypoint.sh >/dev/null; then
  exec docker-entrypoint.sh redis-server "$config" "$@"
fi
exec redis-server "$config" "$@"
