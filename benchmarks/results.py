"""Writes a benchmark's figures into its own section of docs/benchmarks.md, with the command,
the date and the machine, keeping the other sections."""

import os
import platform
import re
from datetime import datetime, timezone
from pathlib import Path

RESULTS = Path(__file__).parents[1] / "docs" / "benchmarks.md"


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    return f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB, {platform.platform()}"


def record(title: str, command: str, rows: list[str], notes: str = "") -> None:
    section = "\n".join([
        f"## {title}", "",
        f"Measured {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {machine()}, with `{command}`.", "",
        *rows, "", *([notes, ""] if notes else []),
    ])
    existing = RESULTS.read_text() if RESULTS.exists() else "# Benchmarks\n\nFigures written by `make bench`.\n\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    updated = pattern.sub(lambda _: section + "\n", existing) if pattern.search(existing) else existing.rstrip() + "\n\n" + section
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(updated)
    print("\n".join(rows))
