"""The recovery-point finder (`drill restorable SITE`): which is the newest backup that restores
with its data whole, and how much data would be lost by restoring it.

The site's backups are taken from the newest down: each is drilled by name (drills.pipeline,
`backup_name`) until one restores with no sign of data destroyed at the source (LOSSES, found by
its own drill or by any drill of the same bytes: a backup that restores but lost rows or tables
since the one drilled before is named, and the search goes on to an older one). A backup whose verdict is already known is not drilled again: the index
names a drill of a backup of that name, the backup's bytes, read again, hash to the ciphertext
sha256 that drill's report holds, and that report's signature verifies; and the verdict depends
on those bytes alone (a pass, a history finding, or a failure of INTRINSIC: never one that a
key, the catalog's checks, the manifest beside it or our own resources decided, which may have
changed since). A
drill ending in error (our side failed), or a source that cannot be listed or read, stops the
search: nothing can be said of that backup or the older ones yet, and the answer says why.

The answer is a signed document of its own, chained per site in
EVIDENCE/.recovery-points/SITE/NNNNNN-TIME.json (+ .sig, like reports and journal anchors:
drills.reports.evidence.append_link), naming each report it relied on by file name and sha256.
"""

import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable

from drills.errors import DrillError
from drills.redaction import printable
from drills.reports import index, keys
from drills.reports.evidence import EvidenceStore
from drills.reports.report import parse_report
from drills.reports.signing import digest, read_signature, verify
from drills import reasons

FOLDER = ".recovery-points"  # EVIDENCE/.recovery-points/SITE/: out of the sites' own folders
FORMAT = 1
DEFAULT_MAX = 10
INTRINSIC = (reasons.DECRYPT_CORRUPT, reasons.RESTORE_FAILED, reasons.VERIFY_EMPTY, reasons.VERIFY_UNSAFE_ARCHIVE,
             reasons.VERIFY_RANSOMWARE_SUSPECT)  # failures the ciphertext alone decides: reused
LOSSES = (reasons.HISTORY_ROWS_DROPPED, reasons.HISTORY_SCHEMA_CHANGED)  # restores, but data was destroyed


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
    drilled_at: str | None = None  # when the drill the verdict comes from started
    attention: tuple[str, ...] = ()  # its warnings (history.rows_dropped...)
    report_sha256: str | None = None

    @property
    def whole(self) -> bool:
        """It restores, with no sign of data destroyed at the source."""
        return index.restored({"outcome": self.outcome, "reason": self.reason}) and \
            not (set(self.attention) | {self.reason}) & set(LOSSES)

    def as_dict(self) -> dict:
        return {"backup": printable(self.backup.name), "size": self.backup.size,
                "modified": self.backup.modified.isoformat(timespec="seconds"), "sha256": self.sha256,
                "taken_at": self.taken_at, "outcome": self.outcome, "reason": self.reason,
                "attention": list(self.attention), "drill_id": self.drill_id, "drilled_at": self.drilled_at,
                "reused": self.reused, "report": f"{self.report.parent.name}/{self.report.name}" if self.report else None,
                "report_sha256": self.report_sha256}


def folder(site_id: str) -> str:
    return f"{FOLDER}/{site_id}"


def answers(evidence_root: Path, site_id: str) -> list[Path]:
    """The site's finder answers, oldest first."""
    return sorted((Path(evidence_root) / folder(site_id)).glob("[0-9]*-*.json"))


def find(catalog, site, drill: Callable[[str], object], clock: Callable[[], datetime],
         max_backups: int = DEFAULT_MAX, again: bool = False, on_try: Callable[[Tried], None] = lambda tried: None,
         request_id: str | None = None) -> dict:
    """Search the newest restorable backup of `site` among its `max_backups` newest; `drill(name)`
    drills one backup by name and returns its StoredReport. The answer, signed and stored."""
    from drills import sources  # here: `drill --help` reaches this module, and needs no SFTP or S3 client

    store = EvidenceStore.of(catalog)
    keyring = keys.keyring(catalog.signing_key)
    tried: list[Tried] = []
    listed, stopped = [], None
    try:
        listed = sources.listing(site.source, site)
        summaries = index.read_all(store.root / site.id)
        for backup in listed[:max_backups]:
            known = None if again else known_verdict(store, site.id, backup, summaries, keyring)
            if known is None:
                stored = drill(backup.name)
                known = tried_of(backup, stored.report, stored.path, stored.path.read_bytes(), reused=False)
            known.attention = tuple(sorted(set(known.attention) | losses_seen(summaries, backup.name, known.sha256)))
            tried.append(known)
            on_try(known)
            if known.whole or known.outcome == "error":  # the answer, or no answer possible yet
                break
    except DrillError as error:  # the source unlisted or unreadable, a report not stored: no verdict
        stopped = error.code
    document = answer(site, tried, len(listed), max_backups, again, clock(), stopped, request_id)
    store_answer(store, catalog, site.id, document)
    return document


def tried_of(backup, report: dict, path: Path, data: bytes, reused: bool) -> Tried:
    backup_part = report.get("backup") or {}
    attention = sorted({finding.get("code") for finding in report.get("findings") or []
                        if finding.get("status") == "warn" and finding.get("code")})
    return Tried(backup, report["outcome"], report.get("reason"), report.get("drill_id"), path, reused,
                 backup_part.get("sha256"), backup_part.get("taken_at"), report.get("started_at"), tuple(attention),
                 digest(data))


def losses_seen(summaries: list[dict], name: str, sha256: str | None) -> set[str]:
    """The signs of data destroyed that any drill of these very bytes found (the routine drill
    that compared them with the night before): a drill by name later, compared with nothing
    older, does not clear them."""
    same = [entry for entry in summaries if sha256 and entry.get("backup_name") == name
            and entry.get("backup_sha256") == sha256]
    return {code for entry in same for code in [*(entry.get("attention") or ()), entry.get("reason")]} & set(LOSSES)


def known_verdict(store: EvidenceStore, site_id: str, backup, summaries: list[dict], keyring: dict) -> Tried | None:
    """The verdict a signed report already holds of this very ciphertext, if it depends on the
    ciphertext alone (or on it against the backup before: history.*); else None."""
    candidates = [entry for entry in reversed(summaries)
                  if entry.get("backup_name") == backup.name and entry.get("backup_sha256")
                  and (index.restored(entry) or entry.get("outcome") == "fail" and entry.get("reason") in INTRINSIC)]
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
        report = parse_report(data)
        if report and verify(data, read_signature(path), keyring)[0] and \
                (report.get("backup") or {}).get("sha256") == sha256:
            return tried_of(backup, report, path, data, reused=True)
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


def answer(site, tried: list[Tried], listed: int, max_backups: int, again: bool, now: datetime,
           stopped: str | None = None, request_id: str | None = None) -> dict:
    """The finder's document: `found` is the newest backup that restores whole; the newer ones that
    restore but lost data are in `tried` with their warnings."""
    whole = next((attempt for attempt in tried if attempt.whole), None)
    erred = next((attempt for attempt in tried if attempt.outcome == "error"), None)
    found = None
    if whole:
        taken = index.time_of(whole.taken_at) if whole.taken_at else whole.backup.modified
        found = {"backup": printable(whole.backup.name), "taken_at": taken.isoformat(timespec="seconds"),
                 "data_loss_seconds": round((now - taken).total_seconds()), "drill_id": whole.drill_id}
    return {"format": FORMAT, "kind": "recovery-point", "site": site.id, "site_name": site.name,
            "tenant": site.tenant, "at": now.isoformat(timespec="milliseconds"), "request_id": request_id,
            "backups_listed": listed, "max_backups": max_backups, "again": again, "found": found,
            "stopped_by": stopped or (erred.reason if erred else None),
            "tried": [attempt.as_dict() for attempt in tried]}


def store_answer(store: EvidenceStore, catalog, site_id: str, document: dict) -> Path:
    private_key = keys.load_private(catalog.signing_key)
    moment = datetime.fromisoformat(document["at"])
    path, _ = store.append_link(folder(site_id), lambda sequence, previous: (
        f"{sequence:06d}-{moment:%Y%m%dT%H%M%SZ}.json", document), private_key)
    store.replicate(folder(site_id), path)
    document["file"] = str(path)
    return path


def newest_restorable(summaries: list[dict], failing: dict | None = None) -> dict | None:
    """The passing drill, among `summaries`, of the newest backup (by the time it was taken) with
    no sign of data destroyed; never one of the backup `failing` (a report) names unless of the
    same bytes."""
    def eligible(entry: dict) -> bool:
        if entry.get("outcome") != "pass" or not entry.get("backup_taken_at") or set(entry.get("attention") or ()) \
                & set(LOSSES):
            return False
        backup = (failing or {}).get("backup") or {}
        return entry.get("backup_name") != backup.get("name") or entry.get("backup_sha256") == backup.get("sha256")

    return max(filter(eligible, summaries), key=lambda entry: (index.time_of(entry["backup_taken_at"]),
                                                               entry.get("sequence") or 0), default=None)
