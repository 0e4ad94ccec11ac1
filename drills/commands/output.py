"""What every command prints: exit codes, human text or JSON (--json), tables, a drill's summary."""

import json
import sys
from pathlib import Path

from drills import reasons

EXIT = {"pass": 0, "fail": 1, "error": 2}
EXIT_CONFIG = 3


def emit(arguments, data, text: str) -> None:
    """`data` as JSON with --json, else `text`."""
    print(json.dumps(data, indent=2, ensure_ascii=False) if arguments.json else text, flush=True)


def emit_error(arguments, error) -> None:
    if getattr(arguments, "json", False):
        print(json.dumps({"error": error.code, "message": error.message, "hint": error.hint}))
    else:
        print(f"drill: {error}", file=sys.stderr)


def progress_printer(arguments, site_id: str):
    """A drill's phases on stderr as it runs (nothing with --json)."""
    if arguments.json:
        return lambda phase: None
    return lambda phase: print(f"  {site_id}: {phase}...", file=sys.stderr, flush=True)


def table(rows: list[dict]) -> str:
    if not rows:
        return "(none)"
    widths = {key: max(len(key), *(len(str(row[key])) for row in rows)) for key in rows[0]}
    lines = ["  ".join(key.ljust(widths[key]) for key in rows[0])]
    lines += ["  ".join(str(row[key]).ljust(widths[key]) for key in row) for row in rows]
    return "\n".join(lines)


def seconds_text(seconds) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def summary(report: dict, path: Path) -> dict:
    """A drill's report as `drill run --json` prints it."""
    keys_kept = ("drill_id", "site", "outcome", "reason", "message", "hint", "rto_seconds", "phases", "backup",
                 "findings")
    return {**{key: report[key] for key in keys_kept}, "report": str(path)}


def summary_row(report: dict) -> dict:
    backup = report.get("backup") or {}
    return {"site": report["site"], "outcome": report["outcome"].upper(), "reason": report["reason"] or "-",
            "rto": seconds_text(report["rto_seconds"]), "backup age": seconds_text(backup.get("age_seconds"))}


def describe(report: dict, path: Path) -> str:
    mark = {"pass": "PASS", "fail": "FAIL", "error": "ERROR"}[report["outcome"]]
    lines = [f"{report['site']}: {mark}" + (f" {report['reason']}" if report["reason"] else "")
             + f"  rto {seconds_text(report['rto_seconds'])} (target {seconds_text(report['targets']['rto_seconds'])})"]
    if report["message"]:
        lines.append(f"  {report['message']}")
    if report["hint"]:
        lines.append(f"  next: {report['hint']}")
    failed = [f for f in report["findings"] if f["status"] == "fail"]
    if len(failed) > 1:
        lines.append(f"  {len(failed)} failing findings: " + ", ".join(f"{f['code']} {f['subject']}" for f in failed))
    lines += [f"  warning {f['code']}: {f['message']}" for f in report["findings"] if f["status"] == "warn" and f["code"]]
    recovery = report.get("recovery")
    if recovery and recovery["end_lsn"]:
        lines.append(f"  recovered {recovery['set']} to {recovery['target']}: last transaction "
                     f"{recovery['end_time'] or 'none replayed'}, LSN {recovery['end_lsn']}")
    lines.append(f"  report: {path}")
    return "\n".join(lines)


def recovery_point_text(answer: dict) -> str:
    """The recovery-point finder's answer (drills.finder) as `drill restorable` prints it."""
    found, site = answer["found"], answer["site"]
    losses = {reasons.HISTORY_ROWS_DROPPED, reasons.HISTORY_SCHEMA_CHANGED}
    lost = [(t["backup"], sorted(losses & {*t["attention"], t["reason"]})) for t in answer["tried"]]
    lines = [f"{site}: {name} restores, but data was destroyed before it: {', '.join(codes)}"
             for name, codes in lost if codes]
    if found:
        lines.append(f"{site}: newest restorable backup: {found['backup']}, taken {found['taken_at']}; "
                     f"data lost by restoring it: {seconds_text(found['data_loss_seconds'])}")
    elif answer["stopped_by"]:
        lines.append(f"{site}: no answer: stopped by {answer['stopped_by']} (our side, not the backups); "
                     "ask again once it is fixed: the verdicts reached are reused")
    else:
        lines.append(f"{site}: NONE of the {len(answer['tried'])} newest backup(s) restores whole "
                     f"(--max {answer['max_backups'] * 2} looks further back)")
    return "\n".join(lines) + f"\n  answer: {answer['file']}"


def tried_text(tried: dict) -> str:
    """One backup the finder looked at, and where its verdict comes from."""
    how = f"known from drill {tried['drill_id']} of {(tried['drilled_at'] or '?')[:16]}" if tried["reused"] \
        else f"drilled: {tried['drill_id']}"
    said = tried["outcome"].upper() + (f" {tried['reason']}" if tried["reason"] else "")
    return f"  {tried['backup']}: {said}" + (f", {', '.join(tried['attention'])}" if tried["attention"] else "") \
        + f" ({how})"
