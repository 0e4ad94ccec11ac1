"""One drill per site at a time, across every worker: a lease in Redis.

The lease is a key holding the drill id, set only if absent, with a time to live renewed
while the drill runs. If its worker dies, the lease expires and the site is free again.
"""

import threading

import redis

LEASE_PREFIX = "restore-drill:lease:"
RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"
RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


class SiteLease:
    def __init__(self, client: redis.Redis, site_id: str, drill_id: str, ttl_seconds: int):
        self.client, self.key, self.drill_id = client, LEASE_PREFIX + site_id, drill_id
        self.ttl_ms = ttl_seconds * 1000
        self.stopped = threading.Event()
        self.renewer: threading.Thread | None = None

    def acquire(self) -> bool:
        return bool(self.client.set(self.key, self.drill_id, nx=True, px=self.ttl_ms))

    def holder(self) -> str | None:
        value = self.client.get(self.key)
        return value.decode() if value else None

    def __enter__(self) -> "SiteLease":
        self.renewer = threading.Thread(target=self.keep_renewed, daemon=True, name=f"lease {self.key}")
        self.renewer.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stopped.set()
        self.renewer.join()
        try:
            self.client.eval(RELEASE, 1, self.key, self.drill_id)
        except redis.RedisError:
            pass  # the lease expires by itself

    def keep_renewed(self) -> None:
        """Renew at a third of the time to live; a Redis hiccup is retried at the next beat."""
        while not self.stopped.wait(self.ttl_ms / 3000):
            try:
                self.client.eval(RENEW, 1, self.key, self.drill_id, self.ttl_ms)
            except redis.RedisError:
                continue


def live_drills(client: redis.Redis) -> set[str]:
    """The drill ids holding a lease now (for the reaper)."""
    keys = list(client.scan_iter(match=LEASE_PREFIX + "*", count=1000))
    return {value.decode() for value in client.mget(keys) if value} if keys else set()
