"""The dramatiq broker on Redis, configured once from the settings."""

from functools import cache

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker

from workers.settings import Settings

settings = Settings.from_environment()
# A dead worker's unacknowledged messages are re-queued by the "maintenance" that runs on
# maintenance_chance out of a million broker commands, once its heartbeat is older than the timeout.
broker = RedisBroker(url=settings.redis_url, heartbeat_timeout=settings.heartbeat_timeout_ms,
                     maintenance_chance=settings.maintenance_chance, namespace="restore-drill")
dramatiq.set_broker(broker)


@cache
def redis_client() -> redis.Redis:
    """A Redis client for leases, schedules and alert state (the broker keeps its own)."""
    return redis.Redis.from_url(settings.redis_url, socket_timeout=10, health_check_interval=30)
