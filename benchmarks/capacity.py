"""A night's capacity: how many pharmacies one worker host drills between 22:00 and 06:00.

The model is an extrapolation of measured drills, not a guess: a drill's duration at a given
backup size is read off the measured points of docs/benchmarks.md ("Drill time and memory against
backup size", plus the small drill of the measured night), linear between points and along the
last segment beyond them. A host of C cores runs C/2 drills at once (`engine.jobs: 2` keeps two
cores busy: two 1 GB drills at once on 2 cores gave 1.04 the throughput of one after the other),
and never more than its memory holds: a drill reserves `engine.memory`, 4 GiB by default and
three times the dump plus 2 GiB for the sites that need it (docs/scaling.md). Sites are taken in
the scheduler's order (shuffled, not sorted), each by the first free slot that has the memory.
"""

import math
import random
import re
from dataclasses import dataclass
from pathlib import Path

MB, GIB = 1e6, 1024**3
NIGHT = 8 * 3600  # 22:00 to 06:00
BENCHMARKS = Path(__file__).parents[1] / "docs" / "benchmarks.md"
SCALE_ROW = re.compile(r"^\| [^|]*\(([\d,]+) MB\) \| ([\d.]+) s \|", re.M)


@dataclass(frozen=True)
class Host:
    cores: int
    memory_gib: int

    @property
    def slots(self) -> int:
        return max(1, self.cores // 2)


def measured_points(small: tuple[float, float] | None = None) -> list[tuple[float, float]]:
    """[(backup bytes, drill seconds)] from docs/benchmarks.md's scale table, plus `small`."""
    section = BENCHMARKS.read_text().split("## Drill time and memory against backup size", 1)[1].split("\n## ", 1)[0]
    points = [(float(size.replace(",", "")) * MB, float(seconds)) for size, seconds in SCALE_ROW.findall(section)]
    if small:
        points.append(small)
    if len(points) < 2:
        raise SystemExit("capacity: docs/benchmarks.md has no scale figures: run python -m benchmarks.scale first")
    return sorted(points)


def drill_seconds(size: float, points: list[tuple[float, float]]) -> float:
    """Linear between the measured points, along the first or last segment outside them."""
    segment = next((pair for pair in zip(points, points[1:]) if size <= pair[1][0]), (points[-2], points[-1]))
    (x0, y0), (x1, y1) = segment
    return max(points[0][1], y0 + (size - x0) * (y1 - y0) / (x1 - x0))


def memory_needed(size: float) -> float:
    return max(4 * GIB, 3 * size + 2 * GIB)


def pharmacy_sizes(count: int, smallest: float = 200 * MB, largest: float = 5000 * MB,
                   median: float = 700 * MB, sigma: float = 0.8, seed: int = 2026) -> list[float]:
    """Backup sizes of `count` pharmacies: log-normal around `median`, kept within [smallest, largest]."""
    draw = random.Random(seed)
    return [min(largest, max(smallest, median * math.exp(draw.gauss(0, sigma)))) for _ in range(count)]


def night(sizes: list[float], host: Host, points, window: float = NIGHT) -> tuple[int, float]:
    """(drills finished within `window`, seconds to finish them all) on one `host`."""
    free_at = [0.0] * host.slots  # when each slot is free
    running: list[tuple[float, float]] = []  # (end, memory) of drills in flight
    memory, finished, end, start = host.memory_gib * GIB, 0, 0.0, 0.0
    for size in sizes:
        need = min(memory_needed(size), memory)
        start = max(start, min(free_at))  # in the queue's order
        while True:
            running = [(done, held) for done, held in running if done > start]
            if sum(held for _, held in running) + need <= memory:
                break
            start = min(done for done, _ in running)
        slot = free_at.index(min(free_at))
        done = max(start, free_at[slot]) + drill_seconds(size, points)
        free_at[slot] = done
        running.append((done, need))
        finished += done <= window
        end = max(end, done)
    return finished, end


def capacity(host: Host, points, window: float = NIGHT) -> int:
    """Pharmacies of the stated sizes one `host` drills within `window` (a queue longer than it can drain)."""
    return night(pharmacy_sizes(400 * host.slots * math.ceil(window / 3600)), host, points, window)[0]


def hosts_needed(sites: int, host: Host, points, headroom: float = 0.25) -> int:
    """Hosts to drill `sites` pharmacies every night, leaving `headroom` of the night for retries."""
    return math.ceil(sites / capacity(host, points, NIGHT * (1 - headroom)))
