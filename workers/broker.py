"""The dramatiq broker on Redis, configured once from the settings."""

from functools import cache

import dramatiq
import redis

from drills.crypto.identities import read_secret_file
from drills.errors import ConfigError
from workers.redelivery import RecoveringRedisBroker
from workers.settings import Settings
from drills import reasons

settings = Settings.from_environment()


def connect(settings: Settings, **options) -> redis.Redis:
    """A client of the configured Redis, with the password read from its file (mode 600) and, for
    a rediss:// URL, a server certificate checked: signed by DRILL_REDIS_CA_FILE (else by an
    authority the system trusts) and naming the URL's host."""
    if settings.redis_password_file:
        options["password"] = redis_password(settings.redis_password_file)
    if settings.redis_url.startswith("rediss://"):
        options |= {"ssl_ca_certs": settings.redis_ca_file, "ssl_check_hostname": True}
    return redis.Redis.from_url(settings.redis_url, **options)


def redis_password(path: str) -> str:
    """The password in the file, which no message repeats (a bad file is named, never shown)."""
    try:
        password = read_secret_file(path).decode().strip()
    except UnicodeDecodeError:
        password = None
    if not password:
        raise ConfigError(f"the Redis password file {path} holds no password (one line of text)",
                          code=reasons.CONFIG_SECRET_UNREADABLE, hint="write in it the password Redis requires")
    return password


# A dead worker's unacknowledged messages are re-queued by the "maintenance" that runs on
# maintenance_chance out of a million broker commands, once its heartbeat is older than the timeout;
# a live worker's, dropped by a consumer whose connection failed, when that consumer is made again.
broker = RecoveringRedisBroker(client=connect(settings), heartbeat_timeout=settings.heartbeat_timeout_ms,
                               maintenance_chance=settings.maintenance_chance, namespace="restore-drill")
dramatiq.set_broker(broker)


@cache
def redis_client() -> redis.Redis:
    """A Redis client for leases, schedules and alert state (the broker keeps its own)."""
    return connect(settings, socket_timeout=10, health_check_interval=30)
