"""One drill per site at a time, across every worker and `drill run`: a lease in Redis.

The lease is a key holding the attempt's own drill id (a fencing token: every attempt, a
redelivered or retried one included, has an id of its own), set only if absent, with a time to
live renewed while the drill runs. If its worker dies, the lease expires and the site is free
again. If the lease cannot be renewed in time (Redis stalled or unreachable, or the key taken
over), the drill is stopped through `on_lost` before the lease can expire, so two attempts of
one site never run at once, and the reaper never removes what a live lease owns.
"""

import logging
import os
import threading
import time
from contextlib import contextmanager

import redis
from drills import reasons

LEASE_PREFIX = "restore-drill:lease:"
RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"
RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
SAFETY = 2 / 3  # a lease not renewed for this share of its time to live is lost: a third is left to stop
log = logging.getLogger("restore_drill.leases")


class SiteLease:
    def __init__(self, client: redis.Redis, site_id: str, attempt_id: str, ttl_seconds: float, on_lost=lambda: None):
        self.client, self.site_id, self.key, self.attempt_id = client, site_id, LEASE_PREFIX + site_id, attempt_id
        self.ttl_ms, self.on_lost = int(ttl_seconds * 1000), on_lost
        self.stopped, self.lost = threading.Event(), threading.Event()
        self.renewer: threading.Thread | None = None
        self.deadman: threading.Timer | None = None

    def acquire(self) -> bool:
        sent = time.monotonic()
        if not self.client.set(self.key, self.attempt_id, nx=True, px=self.ttl_ms):
            return False
        self.arm(sent)
        return True

    def holder(self) -> str | None:
        value = self.client.get(self.key)
        return value.decode() if value else None

    def __enter__(self) -> "SiteLease":
        self.renewer = threading.Thread(target=self.keep_renewed, daemon=True, name=f"lease {self.key}")
        self.renewer.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stopped.set()
        if self.deadman:
            self.deadman.cancel()
        self.renewer.join(timeout=self.ttl_ms / 1000)
        try:
            self.client.eval(RELEASE, 1, self.key, self.attempt_id)
        except redis.RedisError:
            pass  # the lease expires by itself

    def arm(self, sent: float) -> None:
        """Count the lease lost if no renewal sent after `sent` succeeds in time. Timed from when
        the request was sent, so it fires before Redis can expire the key, whatever blocks."""
        if self.deadman:
            self.deadman.cancel()
        delay = max(0.0, sent + self.ttl_ms / 1000 * SAFETY - time.monotonic())
        self.deadman = threading.Timer(delay, self.lose, args=("not renewed in time: Redis stalled or unreachable",))
        self.deadman.daemon = True
        self.deadman.start()

    def keep_renewed(self) -> None:
        """Renew at a third of the time to live; a key taken over is lost at once."""
        while not self.stopped.wait(self.ttl_ms / 3000) and not self.lost.is_set():
            sent = time.monotonic()
            try:
                renewed = self.client.eval(RENEW, 1, self.key, self.attempt_id, self.ttl_ms)
            except redis.RedisError:
                continue  # the deadman decides when a stall has lasted too long
            if renewed != 1:
                self.lose("held by another attempt or expired")
                return
            self.arm(sent)

    def lose(self, why: str) -> None:
        if self.stopped.is_set() or self.lost.is_set():
            return
        self.lost.set()
        log.error("site lease lost: %s", why, extra={"site": self.site_id, "drill_id": self.attempt_id})
        self.on_lost()


def live_drills(client: redis.Redis) -> set[str]:
    """The attempt ids holding a lease now (for the reaper)."""
    keys = list(client.scan_iter(match=LEASE_PREFIX + "*", count=1000))
    return {value.decode() for value in client.mget(keys) if value} if keys else set()


@contextmanager
def site_lock(site, attempt_id: str, watchdog):
    """`drill run` and `drill export` take the site's lease like a worker does, when a Redis is
    configured ($DRILL_REDIS_URL): none without it (the embedded mode). Plugged into drills
    through the `restore_drill.site_locks` entry point."""
    if not os.environ.get("DRILL_REDIS_URL"):
        yield
        return
    from drills.errors import InfrastructureError
    from drills.watchdog import LEASE_LOST
    from workers.broker import redis_client, settings

    lease = SiteLease(redis_client(), site.id, attempt_id, settings.lease_seconds,
                      on_lost=lambda: watchdog.fire(LEASE_LOST))
    try:
        acquired = lease.acquire()
        holder = None if acquired else lease.holder()
    except redis.RedisError as error:
        raise InfrastructureError(reasons.ERROR_LEASE, f"cannot take the site's lease in Redis: {type(error).__name__}",
                                  hint="check DRILL_REDIS_URL, or unset it to drill without the workers") from None
    if not acquired:
        raise InfrastructureError(reasons.ERROR_SITE_BUSY, f"another drill of {site.id} runs now ({holder})",
                                  hint="wait for it to end: `drill history` shows its report")
    with lease:
        yield
