"""Settings of the queue side, from the environment (one place, documented in the README).

Secrets only by reference: the Redis password is read from the file DRILL_REDIS_PASSWORD_FILE
names when a connection is built (workers.broker), never held here, never in the URL.
"""

import os
from dataclasses import dataclass
from urllib.parse import urlsplit

from drills.errors import ConfigError
from drills import reasons


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


@dataclass(frozen=True)
class Settings:
    redis_url: str
    redis_password_file: str | None
    redis_ca_file: str | None
    catalog: str
    threads: int
    lease_seconds: int
    heartbeat_timeout_ms: int
    maintenance_chance: int
    max_retries: int
    min_backoff_ms: int
    max_backoff_ms: int
    timezone: str
    jitter_seconds: int
    tick_seconds: int
    metrics_port: int
    metrics_address: str
    reap_every_seconds: int
    reap_grace_seconds: int
    lost_after_seconds: int

    @classmethod
    def from_environment(cls) -> "Settings":
        redis_url = os.environ.get("DRILL_REDIS_URL", "redis://127.0.0.1:6379/0")
        redis_ca_file = os.environ.get("DRILL_REDIS_CA_FILE") or None
        check_redis_url(redis_url, redis_ca_file)
        return cls(
            redis_url=redis_url,
            redis_password_file=os.environ.get("DRILL_REDIS_PASSWORD_FILE") or None,
            redis_ca_file=redis_ca_file,
            catalog=os.environ.get("DRILL_CATALOG", "catalog.yaml"),
            # 1: a drill uses both cores of a 2-core host (engine.jobs 2); two at once gave 1.04x the
            # throughput for twice the memory (docs/benchmarks.md, "Two drills at once")
            threads=env_int("DRILL_WORKER_THREADS", 1),
            lease_seconds=env_int("DRILL_LEASE_SECONDS", 30),
            heartbeat_timeout_ms=env_int("DRILL_HEARTBEAT_TIMEOUT_MS", 60_000),
            # 10% of broker commands look for dead workers (cheap: one sorted-set range when none is
            # dead), so a dead worker's messages go back to their queue within seconds of its
            # heartbeat timeout, not after minutes of an idle fleet's rare commands
            maintenance_chance=env_int("DRILL_MAINTENANCE_CHANCE", 100_000),
            max_retries=env_int("DRILL_MAX_RETRIES", 3),
            min_backoff_ms=env_int("DRILL_MIN_BACKOFF_MS", 15_000),
            max_backoff_ms=env_int("DRILL_MAX_BACKOFF_MS", 600_000),
            timezone=os.environ.get("DRILL_TIMEZONE", "Europe/Paris"),
            jitter_seconds=env_int("DRILL_JITTER_SECONDS", 900),
            tick_seconds=env_int("DRILL_TICK_SECONDS", 30),
            metrics_port=env_int("DRILL_METRICS_PORT", 0),
            metrics_address=os.environ.get("DRILL_METRICS_ADDRESS") or "127.0.0.1",
            reap_every_seconds=env_int("DRILL_REAP_EVERY_SECONDS", 300),
            reap_grace_seconds=env_int("DRILL_REAP_GRACE_SECONDS", 120),
            lost_after_seconds=env_int("DRILL_LOST_AFTER_SECONDS", 86400),
        )


def dashboard_url() -> str | None:
    """DRILL_DASHBOARD_URL: the dashboard as people reach it (behind its proxy), for the site's link
    in the alerts; None when unset."""
    url = os.environ.get("DRILL_DASHBOARD_URL", "").rstrip("/")
    if url and urlsplit(url).scheme not in ("http", "https"):
        raise ConfigError("DRILL_DASHBOARD_URL is not an http(s) URL", code=reasons.CONFIG_INVALID,
                          hint="give the address people open, e.g. https://drill.infogest.fr")
    return url or None


def check_redis_url(url: str, ca_file: str | None) -> None:
    """Refuse a password written in the URL (it would show in `docker inspect`, `ps` and logs),
    and a certificate authority for a connection without TLS. Neither message repeats the URL."""
    parts = urlsplit(url)
    if parts.password:
        raise ConfigError("DRILL_REDIS_URL holds a password", code=reasons.CONFIG_SECRET_EXPOSED,
                          hint="take it out of the URL, into a file named by DRILL_REDIS_PASSWORD_FILE (mode 600)")
    if ca_file and parts.scheme != "rediss":
        raise ConfigError(f"DRILL_REDIS_CA_FILE is set but DRILL_REDIS_URL is {parts.scheme}://, without TLS",
                          code=reasons.CONFIG_INVALID, hint="use a rediss:// URL to reach Redis over TLS")
