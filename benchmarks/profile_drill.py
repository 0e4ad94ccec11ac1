"""A profile of one drill (`drill run` under py-spy, idle time included, so the main thread's
shares are of the wall time): the folded stacks are saved in docs/profiles/, and the functions
holding the most time, inclusive and their own, go to docs/benchmarks.md.

    python -m benchmarks.profile_drill [--size '1 GB']
"""

import argparse
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from benchmarks.backups import SIZES, cached_backup, drill_catalog, finish_drill, start_drill
from benchmarks.results import RESULTS, record

PROFILES = RESULTS.parent / "profiles"
PROJECT = f"{Path(__file__).parents[1]}/"
DRILL_THREAD = "in_a_thread.<locals>.work (drills/foreground.py)"  # where the drill runs
WAITING_FOR_THE_DRILL = "in_a_thread (drills/foreground.py)"  # the main thread, joining it
FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")


def frames(stack: str) -> list[str]:
    """'function (path/file.py)' for each frame of a folded stack, outermost first, lines dropped."""
    named = []
    for frame in stack.split(";"):
        match = FRAME.match(frame)
        named.append(f"{match['function']} ({short(match['file'])})" if match else frame)
    return named


def short(path: str) -> str:
    """A frame's file as its package path: drills/pipeline.py, threading.py, duckdb/__init__.py."""
    for root in (PROJECT, "site-packages/", f"python{sys.version_info.major}.{sys.version_info.minor}/"):
        if root in path:
            return path.split(root, 1)[1]
    return path


def shares(folded: str) -> tuple[int, Counter, Counter, int]:
    """Of the drill's wall time, the main thread's samples: (samples, inclusive samples of our own
    functions, own samples of every function), counted in the thread the drill runs in
    (drills.foreground, the main thread waiting for it meanwhile); and the reading thread's busy
    samples (reading, hashing, decrypting, not waiting to hand a chunk over)."""
    inclusive, own, total, reading = Counter(), Counter(), 0, 0
    for line in folded.splitlines():
        stack, _, count = line.rpartition(" ")
        named, count = frames(stack), int(count)
        if "read_ahead.<locals>.produce (drills/streams.py)" in named:
            waiting = named[-1].endswith(("(queue.py)", "(threading.py)"))
            reading += 0 if waiting else count
        main = "<module> (drills/cli.py)" in named
        total += count if main else 0
        if not (DRILL_THREAD in named or (main and WAITING_FOR_THE_DRILL not in named)):
            continue  # another thread, or the main thread waiting for the drill's
        own[named[-1]] += count
        for frame in set(named):
            if "(drills/" in frame:
                inclusive[frame] += count
    return total, inclusive, own, reading


def profiled(catalog: Path, output: Path) -> tuple[dict, list[str]]:
    """One drill of the catalog's site under py-spy, its folded stacks saved at `output`: its
    figures, and the rows that say where its wall time went."""
    drill = start_drill(catalog)
    # attached to the drill's process, not wrapping it: its output and its peak RSS stay its own
    profiler = subprocess.Popen([str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(drill.pid),
                                 "--idle", "--format", "raw", "--rate", "50", "--output", str(output)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    result = finish_drill(drill)
    if profiler.wait() != 0:
        raise RuntimeError(f"py-spy failed (exit {profiler.returncode})")
    total, inclusive, own, reading = shares(output.read_text())
    entry = inclusive["Drill.run (drills/pipeline.py)"]  # it and its callers hold the whole drill: not shown
    return result, [
        f"Drill of {result['seconds']:.1f} s (fetch to verified), phases {result['phases']}; "
        f"{total:,} samples at 50 Hz; stacks in [{output.relative_to(RESULTS.parent)}]"
        f"({output.relative_to(RESULTS.parent)}).", "",
        "| our function (time inside it, callees included) | share of the drill's wall time |", "|---|---|",
        *[f"| `{frame}` | {100 * count / total:.1f}% |" for frame, count in inclusive.most_common(20)
          if count < entry][:12], "",
        "| function where the time is spent (its own time) | share |", "|---|---|",
        *(f"| `{frame}` | {100 * count / total:.1f}% |" for frame, count in own.most_common(10)), "",
        f"Beside the main thread, the reading thread (drills.streams.read_ahead) was busy reading, hashing and "
        f"decrypting for {100 * reading / total:.1f}% of the wall time, overlapped with the above."]


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    options.add_argument("--size", choices=SIZES, default="1 GB")
    arguments = options.parse_args()
    backup = cached_backup(arguments.size)
    PROFILES.mkdir(exist_ok=True)
    output = PROFILES / f"drill-{arguments.size.replace(' ', '').lower()}.folded"
    with tempfile.TemporaryDirectory(prefix="bench-") as workdir:
        _, rows = profiled(drill_catalog(Path(workdir), backup), output)
    record(f"Profile of a {arguments.size} drill", f"python -m benchmarks.profile_drill --size '{arguments.size}'", rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
