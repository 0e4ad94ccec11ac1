"""The drill at scale: time and peak memory (RSS of the `drill run` process) for a 100 MB, 1 GB
and 4 GB backup, the slope of time against size and each phase's share; then two 1 GB drills
at once against one after the other, on this machine's cores. The figures go to
docs/benchmarks.md.

    python -m benchmarks.scale [--sizes '100 MB' '1 GB' '4 GB'] [--concurrent-size '1 GB']
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.backups import SIZES, cached_backup, drill, drill_catalog, finish_drill, start_drill
from benchmarks.results import record


def size_runs(sizes: list[str], workdir: Path) -> list[dict]:
    runs = []
    for size in sizes:
        backup = cached_backup(size)
        result = drill(drill_catalog(workdir / size.replace(" ", ""), backup))
        runs.append({"size": size, "mb": backup.size / 1e6, **result})
        print(f"bench: {size}: {result['seconds']:.1f} s, peak RSS {result['rss_mb']:.0f} MB, {result['phases']}",
              flush=True)
    return runs


def concurrency_run(size: str, workdir: Path) -> dict:
    """Two drills one after the other, then two at once (each its own catalog and evidence)."""
    backup = cached_backup(size)
    catalogs = [drill_catalog(workdir / f"slot{slot}", backup) for slot in (1, 2)]
    started = time.perf_counter()
    for catalog in catalogs:
        drill(catalog)
    sequential = time.perf_counter() - started
    started = time.perf_counter()
    results = [finish_drill(process) for process in [start_drill(catalog) for catalog in catalogs]]
    together = time.perf_counter() - started
    print(f"bench: two {size} drills: {sequential:.1f} s one after the other, {together:.1f} s at once", flush=True)
    return {"size": size, "mb": backup.size / 1e6, "sequential": sequential, "together": together,
            "each_together": [r["seconds"] for r in results]}


def linear_fit(runs: list[dict]) -> tuple[float, float]:
    """(seconds at size 0, MB per second) of the least-squares line through (MB, seconds)."""
    slope, intercept = statistics.linear_regression([r["mb"] for r in runs], [r["seconds"] for r in runs])
    return intercept, 1 / slope


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    options.add_argument("--sizes", nargs="+", choices=SIZES, default=["100 MB", "1 GB", "4 GB"])
    options.add_argument("--concurrent-size", choices=SIZES, default="1 GB")
    arguments = options.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-") as workdir:
        runs = size_runs(arguments.sizes, Path(workdir))
        concurrency = concurrency_run(arguments.concurrent_size, Path(workdir))
    write_scale(arguments, runs)
    write_concurrency(arguments, concurrency)
    return 0


def write_scale(arguments, runs: list[dict]) -> None:
    intercept, mb_per_second = linear_fit(runs)
    phases = list(runs[0]["phases"])
    rows = ["| backup | drill, fetch to verified | throughput | off the line | peak RSS of `drill run` | "
            + " | ".join(f"{phase} share" for phase in phases) + " |",
            "|---|---|---|---|---|" + "---|" * len(phases)]
    for run in runs:
        predicted = intercept + run["mb"] / mb_per_second
        total = sum(run["phases"].values())
        rows.append(f"| {run['size']} ({run['mb']:,.0f} MB) | {run['seconds']:.1f} s | {run['mb'] / run['seconds']:.1f} MB/s "
                    f"| {100 * (run['seconds'] - predicted) / predicted:+.0f}% | {run['rss_mb']:.0f} MB | "
                    + " | ".join(f"{100 * run['phases'][phase] / total:.1f}%" for phase in phases) + " |")
    rows += ["", f"Least-squares line: **{mb_per_second:.1f} MB/s** of backup, plus {intercept:.1f} s fixed "
                 "(container and server start, checks). Shares are of the phases' sum, teardown included."]
    sizes = " ".join(f"'{size}'" for size in arguments.sizes)
    record("Drill time and memory against backup size", f"python -m benchmarks.scale --sizes {sizes}", rows)


def write_concurrency(arguments, result: dict) -> None:
    gain = result["sequential"] / result["together"]
    record("Two drills at once", f"python -m benchmarks.scale --concurrent-size '{arguments.concurrent_size}'", [
        "| measure | value |", "|---|---|",
        f"| two {result['size']} drills ({result['mb']:,.0f} MB each), one after the other | {result['sequential']:.1f} s |",
        f"| the same two at once | {result['together']:.1f} s (each: "
        + ", ".join(f"{seconds:.1f} s" for seconds in result["each_together"]) + ") |",
        f"| **throughput at once / one after the other** | **{gain:.2f}** |",
    ])


if __name__ == "__main__":
    sys.exit(main())
