"""Settings of the queue side, from the environment (one place, documented in the README)."""

import os
from dataclasses import dataclass


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


@dataclass(frozen=True)
class Settings:
    redis_url: str
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
    reap_every_seconds: int
    reap_grace_seconds: int

    @classmethod
    def from_environment(cls) -> "Settings":
        return cls(
            redis_url=os.environ.get("DRILL_REDIS_URL", "redis://127.0.0.1:6379/0"),
            catalog=os.environ.get("DRILL_CATALOG", "catalog.yaml"),
            # 1: a drill uses both cores of a 2-core host (engine.jobs 2); two at once gave 1.04x the
            # throughput for twice the memory (docs/benchmarks.md, "Two drills at once")
            threads=env_int("DRILL_WORKER_THREADS", 1),
            lease_seconds=env_int("DRILL_LEASE_SECONDS", 30),
            heartbeat_timeout_ms=env_int("DRILL_HEARTBEAT_TIMEOUT_MS", 60_000),
            maintenance_chance=env_int("DRILL_MAINTENANCE_CHANCE", 1000),
            max_retries=env_int("DRILL_MAX_RETRIES", 3),
            min_backoff_ms=env_int("DRILL_MIN_BACKOFF_MS", 15_000),
            max_backoff_ms=env_int("DRILL_MAX_BACKOFF_MS", 600_000),
            timezone=os.environ.get("DRILL_TIMEZONE", "Europe/Paris"),
            jitter_seconds=env_int("DRILL_JITTER_SECONDS", 900),
            tick_seconds=env_int("DRILL_TICK_SECONDS", 30),
            metrics_port=env_int("DRILL_METRICS_PORT", 0),
            reap_every_seconds=env_int("DRILL_REAP_EVERY_SECONDS", 300),
            reap_grace_seconds=env_int("DRILL_REAP_GRACE_SECONDS", 120),
        )
