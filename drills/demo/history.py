"""Synthetic drill histories, for the dashboard's tests and its benchmark (a thousand sites and a
year of nightly drills). The reports have the shape the pipeline writes, are signed and chained
like real ones, and say `"host": "synthetic"`: they never stand for a drill that ran.
"""

import json
import random
from datetime import datetime, timedelta
from pathlib import Path

from drills.reports.report import REPORT_FORMAT, new_drill_id, summarize
from drills.reports import index
from drills.reports.provenance import provenance
from drills.reports.signing import digest, document_bytes, sign, signature_path
from drills import reasons

FAILURES = ((reasons.RESTORE_FAILED, "pg_restore failed (exit 1): invalid data in the dump"),
            (reasons.DECRYPT_CORRUPT, "the backup's ciphertext is damaged (chunk 12 does not authenticate)"),
            (reasons.BACKUP_STALE, "the newest backup is 3 days old (RPO 26h)"),
            (reasons.VERIFY_COUNT_MISMATCH, "public.ventes: 48210 rows restored, the manifest says 48220"))


def synthetic_report(site, started_at: datetime, outcome: str, rto: float, reason: str | None = None,
                     message: str = "") -> dict:
    """A report as the pipeline writes it (before signing), for `site` (a catalog Site)."""
    phases = {"fetch": round(rto * 0.05, 3), "decrypt": round(rto * 0.15, 3), "restore": round(rto * 0.6, 3),
              "verify": round(rto * 0.18, 3), "teardown": round(rto * 0.02, 3)}
    taken = started_at - timedelta(hours=3)
    finding = {"check": (reason or "drill").split(".")[0], "subject": "drill", "status": "fail",
               "expected": None, "actual": None, "message": message, "code": reason or "", "hint": ""}
    return {
        "format": REPORT_FORMAT, "drill_id": new_drill_id(started_at), "attempt_of": None, "site": site.id,
        "site_name": site.name,
        "tenant": site.tenant, "outcome": outcome, "reason": reason, "message": message, "hint": "",
        "started_at": started_at.isoformat(timespec="milliseconds"),
        "finished_at": (started_at + timedelta(seconds=rto)).isoformat(timespec="milliseconds"),
        "phases": phases, "rto_seconds": round(rto, 3) if outcome == "pass" else None,
        "targets": {"rto_seconds": site.targets.rto, "rpo_seconds": site.targets.rpo},
        "backup": {"name": f"{site.id}-{taken:%Y%m%d}.dump.age", "size": 48_000_000, "sha256": "0" * 64,
                   "modified": taken.isoformat(timespec="seconds"), "taken_at": taken.isoformat(timespec="seconds"),
                   "age_seconds": 3 * 3600, "manifest": f"{site.id}-{taken:%Y%m%d}.dump.age.manifest.json",
                   "pick": "newest"},
        "requested_backup": None,
        "recovery": None,  # a dump's drill
        "engine": {"type": site.engine.type, "format": site.engine.format, "image": site.engine.image},
        "contents_verified": True,  # as a drill compared with its manifest
        "tables": None,  # the restored tables are not made up
        "findings": [] if outcome == "pass" else [finding],
        "host": "synthetic",
        "provenance": {**provenance(site.engine.image, None, None), "host": "synthetic"},
        "hosting": None,  # where the data lives is not made up either
    }


def write_history(evidence: Path, site, private_key, days: int, end: datetime, failure_rate: float = 0.03,
                  seed: int = 0, last_outcome: str | None = None) -> int:
    """Write `days` nightly drills of `site` ending at `end` (a fresh chain), and its index;
    the number written. `last_outcome` forces the newest one (pass, fail or error)."""
    rng = random.Random(f"{site.id}-{seed}")
    directory = Path(evidence) / site.id
    directory.mkdir(parents=True, exist_ok=True)
    base_rto = rng.uniform(60, 900)
    previous, summaries = None, []
    for day in range(days):
        started = end - timedelta(days=days - 1 - day)
        outcome = "fail" if rng.random() < failure_rate else "pass"
        if day == days - 1 and last_outcome:
            outcome = last_outcome
        reason, message = rng.choice(FAILURES) if outcome == "fail" else (None, "")
        if outcome == "error":
            reason, message = reasons.ERROR_RUNTIME, "the Docker engine is not reachable"
        report = synthetic_report(site, started, outcome, base_rto * rng.uniform(0.8, 1.3), reason, message)
        data = document_bytes({**report, "sequence": day + 1, "previous_sha256": previous}, private_key)
        path = directory / f"{day + 1:06d}-{report['drill_id']}.json"
        path.write_bytes(data)  # no fsync per file (write_once's): generated data, 365,000 files for the benchmark
        signature_path(path).write_bytes(sign(data, private_key))
        previous = digest(data)
        summaries.append(json.dumps(summarize(json.loads(data), path.name)) + "\n")
    index.append_line(directory / index.INDEX_NAME, "".join(summaries))
    return days
