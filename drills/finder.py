"""The recovery-point finder (`drill restorable SITE`): which is the newest backup that restores,
and how much data would be lost by restoring it.

The site's backups are taken from the newest down: each is drilled by name (drills.pipeline,
`backup_name`) until one passes. A backup whose verdict is already known is not drilled again:
the index names a drill of a backup of that name that passed or failed, the backup's bytes,
read again, hash to the ciphertext sha256 that drill's report holds, and that report's signature
verifies. A drill that failed only on freshness (backup.stale, verify.stale_data) says nothing
of whether the backup restores: it is drilled again. A drill ending in error (our side failed)
stops the search: nothing can be said of that backup or the older ones yet.

The answer is a signed document of its own, chained per site in
EVIDENCE/.recovery-points/SITE/NNNNNN-TIME.json (+ .sig, like reports and journal anchors:
drills.reports.evidence.append_link), naming each report it relied on by file name and sha256.
"""

import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable

from drills.reports import index, keys
from drills.reports.evidence import EvidenceStore
from drills.reports.report import read_report
from drills.reports.signing import digest, read_signature, verify
from drills import reasons

FOLDER = ".recovery-points"  # EVIDENCE/.recovery-points/SITE/: out of the sites' own folders
FORMAT = 1
DEFAULT_MAX = 10
FRESHNESS_ONLY = (reasons.BACKUP_STALE, reasons.VERIFY_STALE_DATA)


@dataclass
class Tried:
    backup: object  # drills.sources.backup.Backup
    outcome: str  # pass, fail or error
    reason: str | None
    drill_id: str | None
    report: Path | None
    reused: bool  # the verdict of an earlier drill of the same ciphertext, not drilled again
    sha256: str | None
    taken_at: str | None

    def as_dict(self) -> dict:
        return {"backup": self.backup.name, "size": self.backup.size,
                "modified": self.backup.modified.isoformat(timespec="seconds"), "sha256": self.sha256,
                "taken_at": self.taken_at, "outcome": self.outcome, "reason": self.reason,
                "drill_id": self.drill_id, "reused": self.reused,
                "report": f"{self.report.parent.name}/{self.report.name}" if self.report else None,
                "report_sha256": digest(self.report.read_bytes()) if self.report else None}


def folder(site_id: str) -> str:
    return f"{FOLDER}/{site_id}"


def answers(evidence_root: Path, site_id: str) -> list[Path]:
    """The site's finder answers, oldest first."""
    return sorted((Path(evidence_root) / folder(site_id)).glob("[0-9]*-*.json"))


def find(catalog, site, drill: Callable[[str], object], now: datetime, max_backups: int = DEFAULT_MAX,
         again: bool = False, on_try: Callable[[Tried], None] = lambda tried: None) -> dict:
    """Search the newest restorable backup of `site` among its `max_backups` newest; `drill(name)`
    drills one backup by name and returns its StoredReport. The answer, signed and stored."""
    from drills import sources  # here: `drill --help` reaches this module, and needs no SFTP or S3 client

    store = EvidenceStore.of(catalog)
    keyring = keys.keyring(catalog.signing_key)
    listed = sources.listing(site.source)
    summaries = index.read_all(store.root / site.id)
    tried: list[Tried] = []
    for backup in listed[:max_backups]:
        known = None if again else known_verdict(store, site.id, backup, summaries, keyring)
        if known is None:
            stored = drill(backup.name)
            known = tried_of(backup, stored.report, stored.path, reused=False)
        tried.append(known)
        on_try(known)
        if known.outcome != "fail":  # a pass answers; an error leaves the question open
            break
    document = answer(site, tried, len(listed), max_backups, again, now)
    store_answer(store, catalog, site.id, document)
    return document


def tried_of(backup, report: dict, path: Path, reused: bool) -> Tried:
    backup_part = report.get("backup") or {}
    return Tried(backup, report["outcome"], report.get("reason"), report.get("drill_id"), path, reused,
                 backup_part.get("sha256"), backup_part.get("taken_at"))


def known_verdict(store: EvidenceStore, site_id: str, backup, summaries: list[dict], keyring: dict) -> Tried | None:
    """The verdict a signed report already holds of this very ciphertext, or None."""
    candidates = [entry for entry in reversed(summaries)
                  if entry.get("backup_name") == backup.name and entry.get("backup_sha256")
                  and (entry.get("outcome") == "pass" or entry.get("outcome") == "fail"
                       and entry.get("reason") not in FRESHNESS_ONLY)]
    if not candidates:
        return None
    sha256 = ciphertext_sha256(backup)
    for entry in candidates:
        if entry["backup_sha256"] != sha256:
            continue
        path = store.root / site_id / entry["file"]
        try:
            data = path.read_bytes()
        except OSError:
            continue
        report = read_report(path)
        if verify(data, read_signature(path), keyring)[0] and (report.get("backup") or {}).get("sha256") == sha256:
            return tried_of(backup, report, path, reused=True)
    return None


def ciphertext_sha256(backup) -> str:
    from drills.streams import Meter, drain

    meter = Meter(backup.open())
    reader = io.BufferedReader(meter, buffer_size=1024 * 1024)
    try:
        drain(reader)
    finally:
        reader.close()
    return meter.sha256.hexdigest()


def answer(site, tried: list[Tried], listed: int, max_backups: int, again: bool, now: datetime) -> dict:
    passed = next((attempt for attempt in tried if attempt.outcome == "pass"), None)
    stopped = next((attempt for attempt in tried if attempt.outcome == "error"), None)
    found = None
    if passed:
        taken = index.time_of(passed.taken_at) if passed.taken_at else passed.backup.modified
        found = {"backup": passed.backup.name, "taken_at": taken.isoformat(timespec="seconds"),
                 "data_loss_seconds": round((now - taken).total_seconds()), "drill_id": passed.drill_id}
    return {"format": FORMAT, "kind": "recovery-point", "site": site.id, "site_name": site.name,
            "tenant": site.tenant, "at": now.isoformat(timespec="milliseconds"), "backups_listed": listed,
            "max_backups": max_backups, "again": again, "found": found,
            "stopped_by": stopped.reason if stopped else None, "tried": [attempt.as_dict() for attempt in tried]}


def store_answer(store: EvidenceStore, catalog, site_id: str, document: dict) -> Path:
    private_key = keys.load_private(catalog.signing_key)
    moment = datetime.fromisoformat(document["at"])
    path, _ = store.append_link(folder(site_id), lambda sequence, previous: (
        f"{sequence:06d}-{moment:%Y%m%dT%H%M%SZ}.json", document), private_key)
    store.replicate(folder(site_id), path)
    document["file"] = str(path)
    return path


def newest_restorable(summaries: list[dict]) -> dict | None:
    """The passing drill, among `summaries`, of the newest backup (by the time it was taken)."""
    passed = [entry for entry in summaries if entry.get("outcome") == "pass" and entry.get("backup_taken_at")]
    return max(passed, key=lambda entry: index.time_of(entry["backup_taken_at"]), default=None)
