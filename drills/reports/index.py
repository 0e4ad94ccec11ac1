"""The summary index: one JSON line per report, beside the site's reports (SITE/index.jsonl).

Derived data, never evidence: the signed report files stay the truth, and the index is
brought level with them after every append (`catch_up`), so a process that died between
the two writes leaves it one line behind until the site's next drill. Readers sort by
sequence and keep the first line of each, so a line written twice is harmless. A report file
that does not hold a whole report is summarized with outcome `unreadable` (once it is restored
from the replica, `drill index --rebuild`). Beside it, SITE/baseline.json holds the tables (rows,
columns) of the backup of the last drill that restored, which the next drill compares with
(drills.checks.history), derived from the reports the same way. It lets the dashboard read the newest drills of a
thousand sites by reading the end of a thousand small files, instead of parsing every report
ever written.
"""

import json
import logging
import os
from datetime import datetime, timezone
from pathlib import Path

from drills.durable import replaced
from drills.reports.report import read_report, routine, summarize
from drills import reasons

INDEX_NAME = "index.jsonl"
log = logging.getLogger("restore_drill.evidence")
EARLIEST = datetime.min.replace(tzinfo=timezone.utc)
BASELINE_NAME = "baseline.json"  # the tables of the last passing drill's backup (advance_baseline)
TAIL_BYTES = 32 * 1024  # the end of an index holds its newest ~60 summaries


def summary_of(path: Path) -> dict:
    """The summary of the report file `path`; an unreadable one is summarized as such (outcome
    `unreadable`, reason `report.unreadable`: drills.reports.report.read_report)."""
    return summarize(read_report(path), path.name)


def catch_up(site_dir: Path, report_paths: list[Path]) -> None:
    """Append the summaries of the reports the index does not hold yet; the baseline follows."""
    indexed = {entry["sequence"] for entry in read_all(site_dir)}
    missing = [(path, read_report(path)) for path in report_paths if sequence_of(path) not in indexed]
    if missing:
        append_line(site_dir / INDEX_NAME, "".join(json.dumps(summarize(report, path.name)) + "\n"
                                                   for path, report in missing))
        advance_baseline(site_dir, missing)


def restored(report_or_summary: dict) -> bool:
    """Whether a drill restored and verified its backup: it passed, or failed only on a history or
    hosting check (reasons.ATTENTION: those come last, so a drill whose reason is one of them passed
    every other check)."""
    return report_or_summary.get("outcome") == "pass" or report_or_summary.get("outcome") == "fail" and \
        str(report_or_summary.get("reason")).startswith(reasons.ATTENTION)


def read_baseline(site_dir: Path) -> dict | None:
    """What the backup of the site's last drill that restored held (drills.checks.history compares
    the next drill with it): {sequence, drill_id, file, backup_taken_at, tables}; None if there is
    none, or it is not whole (derived data: `drill index --rebuild` makes it again)."""
    try:
        baseline = json.loads((site_dir / BASELINE_NAME).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        log.error("history baseline unreadable, not compared: %s", error, extra={"site": site_dir.name})
        return None
    whole = isinstance(baseline, dict) and isinstance(baseline.get("sequence"), int) and all(
        isinstance(baseline.get(key), str) for key in ("drill_id", "backup_taken_at")) and \
        isinstance(baseline.get("tables"), dict) and all(
        isinstance(entry, dict) for entry in baseline["tables"].values())
    if not whole:
        log.error("history baseline damaged, not compared", extra={"site": site_dir.name})
    return baseline if whole else None


def advance_baseline(site_dir: Path, reports: list[tuple[Path, dict]]) -> None:
    """Make the newest drill among `reports` that restored its backup and read its tables the
    baseline, unless the baseline is of a newer one already (concurrent writers)."""
    restoring = [(path, report) for path, report in reports if restored(report)
                 and isinstance(report.get("tables"), dict) and (report.get("backup") or {}).get("taken_at")]
    if not restoring:
        return
    path, report = restoring[-1]
    current = read_baseline(site_dir)
    if current and current["sequence"] >= sequence_of(path):
        return
    document = {"sequence": sequence_of(path), "drill_id": report.get("drill_id"), "file": path.name,
                "backup_taken_at": report["backup"]["taken_at"], "tables": report["tables"]}
    with replaced(site_dir / BASELINE_NAME) as draft:
        draft.write(json.dumps(document))


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


def last_times(site_dir: Path) -> tuple[datetime | None, datetime | None]:
    """When the site's newest routine drill started (any outcome), and its newest passing one (a
    backup chosen by name says nothing of the newest backup); None where there is none. The whole
    index is read only when its end holds no pass."""
    recent = routine(read_newest(site_dir))
    passes = [entry for entry in recent if entry["outcome"] == "pass"] or \
        [entry for entry in routine(read_all(site_dir)) if entry["outcome"] == "pass"]
    return (time_of(recent[-1]["started_at"]) if recent else None,
            time_of(passes[-1]["started_at"]) if passes else None)


def ordered(lines: list[str]) -> list[dict]:
    by_sequence = {}
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # a line cut by a crash mid-write: the report file still has it all
        by_sequence.setdefault(entry.get("sequence"), entry)
    return [by_sequence[key] for key in sorted(key for key in by_sequence if isinstance(key, int))]


def time_of(text) -> datetime:
    """An RFC 3339 time of a report; the earliest time if there is none or it is not one."""
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return EARLIEST
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def sequence_of(path: Path) -> int:
    return int(path.name.split("-")[0])
