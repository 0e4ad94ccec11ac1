"""The summary index: one JSON line per report, beside the site's reports (SITE/index.jsonl).

Derived data, never evidence: the signed report files stay the truth, and the index is
brought level with them after every append (`catch_up`), so a process that died between
the two writes leaves it one line behind until the site's next drill. Readers sort by
sequence and keep the first line of each, so a line written twice is harmless. A report file
that does not hold a whole report is summarized with outcome `unreadable` (once it is restored
from the replica, `drill index --rebuild`). It lets the dashboard read the newest drills of a
thousand sites by reading the end of a thousand small files, instead of parsing every report
ever written.
"""

import json
import os
from pathlib import Path

from drills.reports.report import read_report, summarize

INDEX_NAME = "index.jsonl"
TAIL_BYTES = 32 * 1024  # the end of an index holds its newest ~60 summaries


def summary_of(path: Path) -> dict:
    """The summary of the report file `path`; an unreadable one is summarized as such (outcome
    `unreadable`, reason `report.unreadable`: drills.reports.evidence.read_report)."""
    return summarize(read_report(path), path.name)


def catch_up(site_dir: Path, report_paths: list[Path]) -> None:
    """Append the summaries of the reports the index does not hold yet."""
    indexed = {entry["sequence"] for entry in read_all(site_dir)}
    missing = [path for path in report_paths if sequence_of(path) not in indexed]
    if missing:
        append_line(site_dir / INDEX_NAME, "".join(json.dumps(summary_of(path)) + "\n" for path in missing))


def append_line(path: Path, text: str) -> None:
    """One write with O_APPEND: concurrent writers never interleave inside a line. A line cut by
    a crash is ended first, so the next one is not glued to it."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        size = os.fstat(descriptor).st_size
        if size and os.pread(descriptor, 1, size - 1) != b"\n":
            text = "\n" + text
        os.write(descriptor, text.encode())
    finally:
        os.close(descriptor)


def read_all(site_dir: Path) -> list[dict]:
    """Every summary of the site, oldest first."""
    try:
        return ordered((site_dir / INDEX_NAME).read_text(encoding="utf-8").splitlines())
    except FileNotFoundError:
        return []


def read_newest(site_dir: Path) -> list[dict]:
    """The newest summaries of the site (those in the index's last TAIL_BYTES), oldest first."""
    try:
        with open(site_dir / INDEX_NAME, "rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - TAIL_BYTES))
            data = handle.read()
    except FileNotFoundError:
        return []
    lines = data.decode("utf-8", errors="replace").splitlines()
    return ordered(lines[1:] if size > TAIL_BYTES else lines)  # the first line may be cut


def ordered(lines: list[str]) -> list[dict]:
    by_sequence = {}
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # a line cut by a crash mid-write: the report file still has it all
        by_sequence.setdefault(entry.get("sequence"), entry)
    return [by_sequence[key] for key in sorted(key for key in by_sequence if isinstance(key, int))]


def sequence_of(path: Path) -> int:
    return int(path.name.split("-")[0])
