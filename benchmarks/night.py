"""A night's capacity: the model of benchmarks/capacity.py, checked against a measured night.

The measured night: SITES small pharmacies (2,000 patients each) enqueued at once, as the
scheduler does at 22:00, and drained through the real queue (Redis on loopback) by two
`drill worker` processes of one thread each. Before it, the same sites' drill time is measured
one after the other in-process (`drill run --all` on a sample), which is what the model takes as
a small drill's duration. The model's prediction of the night is then set against the measured
one, and the model answers for the stated pharmacy sizes and host shapes (docs/scaling.md).

    python -m benchmarks.night [--sites 50] [--sample 10]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import capacity
from benchmarks.backups import cached_backup
from benchmarks.queue_path import PORT, PROJECT, catalog_for, reports
from benchmarks.results import record

WORKERS = 2
HOSTS = (capacity.Host(2, 24), capacity.Host(8, 64), capacity.Host(16, 128), capacity.Host(32, 256))
TENANT_SITES = 10_000


def drill_command() -> list[str]:
    return [sys.executable, "-m", "drills.cli"]


def one_after_the_other(directory: Path, backup, sample: int) -> float:
    """Seconds per small drill, `sample` sites drilled in-process one after the other."""
    catalog = catalog_for(directory, backup.path, backup.identity, sample)
    env = {**os.environ, "DRILL_CATALOG": str(catalog)}
    subprocess.run([*drill_command(), "keys", "init"], env=env, cwd=PROJECT, check=True, capture_output=True)
    started = time.perf_counter()
    subprocess.run([*drill_command(), "run", "--all", "--json"], env=env, cwd=PROJECT, capture_output=True)
    elapsed = time.perf_counter() - started
    assert reports(directory) == sample, "the in-process drills did not all report"
    return elapsed / sample


def through_the_queue(directory: Path, backup, sites: int) -> float:
    """Seconds from enqueueing `sites` drills to their last report, drained by WORKERS processes."""
    catalog = catalog_for(directory, backup.path, backup.identity, sites)
    env = {**os.environ, "DRILL_CATALOG": str(catalog), "DRILL_REDIS_URL": f"redis://127.0.0.1:{PORT}/0",
           "DRILL_WORKER_THREADS": "1"}
    subprocess.run([*drill_command(), "keys", "init"], env=env, cwd=PROJECT, check=True, capture_output=True)
    redis = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(PORT), "--save", "",
                              "--dir", str(directory)], stdout=subprocess.DEVNULL)
    workers = []
    try:
        time.sleep(0.5)
        workers = [subprocess.Popen([*drill_command(), "worker"], env=env, cwd=PROJECT, stderr=subprocess.DEVNULL)
                   for _ in range(WORKERS)]
        time.sleep(5)  # the workers' start-up (imports, reaper pass) is not part of the night
        started = time.perf_counter()
        subprocess.run([*drill_command(), "enqueue", "--all"], env=env, cwd=PROJECT, check=True, capture_output=True)
        deadline = time.monotonic() + 60 * sites
        while reports(directory) < sites and time.monotonic() < deadline:
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        assert reports(directory) == sites, "the workers did not drain the queue"
        return elapsed
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(120)
        redis.terminate()
        redis.wait(30)


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    options.add_argument("--sites", type=int, default=50)
    options.add_argument("--sample", type=int, default=10)
    arguments = options.parse_args()
    small = cached_backup("2.5 MB")
    with tempfile.TemporaryDirectory(prefix="bench-night-") as first, \
            tempfile.TemporaryDirectory(prefix="bench-night-") as second:
        per_drill = one_after_the_other(Path(first), small, arguments.sample)
        measured = through_the_queue(Path(second), small, arguments.sites)
    size = small.path.stat().st_size
    points = capacity.measured_points((size, per_drill))
    this_host = capacity.Host(os.cpu_count() or 2, round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / capacity.GIB))
    predicted = capacity.night([size] * arguments.sites, this_host, points)[1]
    write(arguments, size, per_drill, measured, predicted, points)
    return 0


def write(arguments, size: float, per_drill: float, measured: float, predicted: float, points) -> None:
    sizes = capacity.pharmacy_sizes(10_000)
    quantiles = sorted(sizes)
    rows = [
        "| measure | value |", "|---|---|",
        f"| a small drill ({size / 1e6:.1f} MB, 2,000 patients), one after the other in-process "
        f"(mean of {arguments.sample}) | {per_drill:.2f} s |",
        f"| **measured night**: {arguments.sites} small sites enqueued at once, drained by {WORKERS} worker "
        f"processes | **{measured:.1f} s** ({3600 * arguments.sites / measured:,.0f} drills/hour) |",
        f"| the model's prediction for the same night on this host "
        f"({capacity.Host(os.cpu_count() or 2, 0).slots} drill at a time per 2 cores) | {predicted:.1f} s |",
        f"| **measured / predicted** | **{measured / predicted:.2f}** |",
        "",
        f"Pharmacies modelled: log-normal backup sizes, median 700 MB, kept between 200 MB and 5 GB "
        f"(10,000 drawn: 10th percentile {quantiles[1000] / 1e6:,.0f} MB, median {quantiles[5000] / 1e6:,.0f} MB, "
        f"90th percentile {quantiles[9000] / 1e6:,.0f} MB, {sum(sizes) / 1e12:.1f} TB in all). Drill time by size "
        "from the measured points: " + ", ".join(f"{x / 1e6:,.0f} MB {y:.1f} s" for x, y in points) + ".",
        "",
        "| worker host | drills at once | pharmacies drilled 22:00-06:00 | hosts for 10,000 sites (25% of the night kept for retries) |",
        "|---|---|---|---|",
        *(f"| {host.cores} cores, {host.memory_gib} GiB | {host.slots} | {capacity.capacity(host, points):,} | "
          f"{capacity.hosts_needed(TENANT_SITES, host, points)} |" for host in HOSTS),
    ]
    record("A night's capacity", f"python -m benchmarks.night --sites {arguments.sites} --sample {arguments.sample}", rows)


if __name__ == "__main__":
    raise SystemExit(main())
