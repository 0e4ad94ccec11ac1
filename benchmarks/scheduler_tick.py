"""Cost of one scheduler tick with 10,000 sites, against a real Redis started on loopback.

Two figures: a quiet tick (nothing due: what the scheduler pays every DRILL_TICK_SECONDS)
and a busy tick (every site due at once: the worst minute of the night).

    python -m benchmarks.scheduler_tick [--sites 10000]
"""

import argparse
import statistics
import subprocess
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import redis
import yaml

from benchmarks.results import record
from workers.scheduler import Scheduler
from workers.settings import Settings


def catalog_of(directory: Path, count: int) -> Path:
    site = {"name": "Bench", "tenant": "bench", "source": {"type": "local", "path": "b"},
            "decrypt": {"identity_env": "X"}, "engine": {"type": "postgres"}, "targets": {"rto": "1h", "rpo": "1d"}}
    sites = [{"id": f"site-{n:05d}", **site, "schedule": "0 2 * * *"} for n in range(count)]
    path = directory / "catalog.yaml"
    path.write_text(yaml.safe_dump({"evidence": "e", "signing_key": "k", "sites": sites}))
    return path


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    options.add_argument("--sites", type=int, default=10_000)
    arguments = options.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        port = 16379
        server = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                                   "--dir", directory], stdout=subprocess.DEVNULL)
        try:
            time.sleep(0.5)
            client = redis.Redis(port=port)
            settings = replace(Settings.from_environment(), catalog=str(catalog_of(Path(directory), arguments.sites)),
                               jitter_seconds=0, tick_seconds=60)
            clock_now = [datetime(2026, 11, 23, 0, 0, 30, tzinfo=timezone.utc)]
            scheduler = Scheduler(settings, client, lambda site, drill_id: None, lambda: clock_now[0])
            started = time.perf_counter()
            scheduler.load()
            load_seconds = time.perf_counter() - started
            quiet = []
            for _ in range(5):
                clock_now[0] += timedelta(minutes=1)
                started = time.perf_counter()
                scheduler.tick()
                quiet.append(time.perf_counter() - started)
            clock_now[0] = datetime(2026, 11, 23, 1, 0, 30, tzinfo=timezone.utc)  # 02:00 in Paris
            started = time.perf_counter()
            enqueued = scheduler.tick()
            busy = time.perf_counter() - started
        finally:
            server.terminate()
    assert len(enqueued) == arguments.sites
    rows = [
        "| measure | value |", "|---|---|",
        f"| catalog load and validation, {arguments.sites:,} sites | {load_seconds:.2f} s |",
        f"| quiet tick (nothing due), median of 5 | {statistics.median(quiet) * 1000:.0f} ms |",
        f"| busy tick (all {arguments.sites:,} sites due: claim in Redis + enqueue) | {busy:.2f} s |",
    ]
    record("Scheduler tick", f"python -m benchmarks.scheduler_tick --sites {arguments.sites}", rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
