"""A drill's report: its format, its ids, its phases, how a stored one is read, and the one
summary every reader (the CLI, the index, the dashboard) shows of it.

A report is a JSON object, signed and chained by the evidence store (drills.reports.evidence);
in Python it stays a plain dict (what is signed is what is read), typed by `Report`.
"""

import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TypedDict
from drills import reasons

REPORT_FORMAT = 2  # 2: detached signature, signed_by and provenance; 1 is still read
PHASES = ("fetch", "decrypt", "restore", "verify", "teardown")
DRILL_ID = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{8}")
UNREADABLE = "unreadable"  # the outcome of a stored file that does not hold a whole report
NAMED = "named"  # backup.pick of a drill of a backup chosen by name (drill run --backup, drill restorable)
TARGET = "target"  # backup.pick of a physical backup recovered to a time (drill run --at)


class Report(TypedDict, total=False):
    format: int
    drill_id: str  # this attempt's id
    attempt_of: str | None  # the drill first asked for, when this attempt retries it
    site: str
    site_name: str
    tenant: str
    outcome: str  # pass, fail, error (or unreadable, for a damaged file)
    reason: str | None  # the reason code (drills.reasons) of the outcome; None for a pass
    message: str
    hint: str
    started_at: str
    finished_at: str
    phases: dict[str, float]  # seconds, PHASES
    rto_seconds: float | None
    targets: dict[str, int]
    backup: dict | None  # the backup drilled: name, size, sha256, times, manifest, pick (newest, random, named)
    requested_backup: str | None  # the name asked for (drill run --backup, the recovery-point finder), if any
    recovery: dict | None  # a physical backup's: set, target, end point (drills.engines.recovery)
    tables: dict | None  # each restored table's rows and columns (database engines)
    engine: dict
    contents_verified: bool
    findings: list[dict]
    host: str
    provenance: dict  # format 2: what produced the report (drills.reports.provenance)
    hosting: dict | None  # where each storage location is (drills.hosting); None if the site declares none
    sequence: int  # set by the evidence store, with previous_sha256 and signed_by
    previous_sha256: str | None
    signed_by: str  # format 2: the key id; the signature is the file NAME.sig beside it
    signature: dict  # format 1 only: embedded


@dataclass
class StoredReport:
    report: Report  # as signed and stored
    path: Path


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def new_drill_id(moment: datetime) -> str:
    """Sortable by time, unique: 20261123T020000Z-1a2b3c4d."""
    return f"{moment:%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"


def parse_report(data: bytes) -> Report | None:
    """The report `data` holds; None if it is not one whole JSON object (empty, cut short, not JSON)."""
    try:
        report = json.loads(data)
    except ValueError:  # UnicodeDecodeError included
        return None
    return report if isinstance(report, dict) else None


def read_report(path: Path) -> Report:
    """The report stored at `path`; if the file does not hold one (parse_report), a stand-in
    saying so, with the fields every reader uses: outcome `unreadable`, reason `report.unreadable`,
    the sequence, drill id and start time its file name gives."""
    data = path.read_bytes()
    report = parse_report(data)
    return unreadable_report(path, len(data)) if report is None else report


def unreadable_report(path: Path, size: int) -> Report:
    number, drill_id = path.stem.split("-", 1)
    started = datetime.strptime(drill_id[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc) \
        if DRILL_ID.fullmatch(drill_id) else None
    return {
        "sequence": int(number), "drill_id": drill_id, "site": path.parent.name, "site_name": path.parent.name,
        "outcome": UNREADABLE, "reason": reasons.REPORT_UNREADABLE,
        "message": f"{path.name} holds {size} bytes, not a whole report: a write that never completed "
                   "(disk full, crash, power loss), not an edit; its time is its file name's",
        "hint": f"`drill verify-chain {path.parent.name}` says whether the next report chained to it as it is; "
                "an evidence replica may hold the original",
        "started_at": started.isoformat(timespec="milliseconds") if started else None,
        "phases": {}, "rto_seconds": None, "targets": {}, "backup": None, "contents_verified": False, "findings": [],
    }


def summarize(report: Report, file_name: str) -> dict:
    """What the dashboard, the index and `drill history` show of a report; the report's file is
    named for the full story."""
    backup = report.get("backup") or {}
    return {
        "sequence": report.get("sequence"),
        "file": file_name,
        "drill_id": report.get("drill_id"),
        "outcome": report.get("outcome"),
        "reason": report.get("reason"),
        "message": report.get("message", ""),
        "started_at": report.get("started_at"),
        "rto_seconds": report.get("rto_seconds"),
        "rto_target": (report.get("targets") or {}).get("rto_seconds"),
        "rpo_target": (report.get("targets") or {}).get("rpo_seconds"),
        "phases": report.get("phases") or {},
        "backup_name": backup.get("name"),
        "backup_taken_at": backup.get("taken_at"),
        "backup_age_seconds": backup.get("age_seconds"),
        "contents_verified": report.get("contents_verified", True),  # reports before the field: as they were shown
        "backup_sha256": backup.get("sha256"),
        "backup_size": backup.get("size"),
        "chosen": report.get("requested_backup") is not None or (report.get("recovery") or {}).get("target",
                                                                                                     "latest") != "latest",
        "attention": sorted({finding["code"] for finding in report.get("findings") or []  # each code once: lines
                             if isinstance(finding, dict) and finding.get("status") == "warn"  # stay small
                             and isinstance(finding.get("code"), str) and finding["code"]}),
        "hosting": hosting_summary(report.get("hosting")),
    }


HOSTING_SUMMARY = ("what", "country", "eea", "host", "certificate", "expires")


def hosting_summary(hosting: dict | None) -> list[dict] | None:
    """Where each storage location was found (drills.hosting), as the status page and the compliance
    report show it; None for a drill whose site declared no hosting."""
    locations = (hosting or {}).get("locations") or []
    return [{key: location.get(key) for key in HOSTING_SUMMARY} for location in locations] or None


def backup_identity(backup, meter, taken: datetime | None, started_at: datetime, manifest_name: str | None,
                    pick: str) -> dict | None:
    """The report's `backup`: what was drilled, its hash only if every byte of it was read."""
    if not backup:
        return None
    complete = meter is not None and meter.bytes == backup.size
    return {
        "name": backup.name,
        "size": backup.size,
        "sha256": meter.sha256.hexdigest() if complete else None,
        "modified": backup.modified.isoformat(timespec="seconds"),
        "taken_at": taken.isoformat(timespec="seconds") if taken else None,
        "age_seconds": round((started_at - taken).total_seconds()) if taken else None,
        "manifest": manifest_name,
        "pick": pick,
    }


def is_routine(summary: dict) -> bool:
    """Whether a drill was of the backup the schedule picks (the newest, or one of the retention
    window): those a site's status is judged from. A backup named by an operator or the
    recovery-point finder is drilled to answer a question; its verdict says nothing of the newest."""
    return not summary.get("chosen")


def routine(summaries: list[dict]) -> list[dict]:
    return [summary for summary in summaries if is_routine(summary)]
