"""Anchors of the audit journal: its head, signed, kept beside it and in the evidence replica.

The journal (drills.audit) chains each line to the one before, so the sha256 of line N commits
to lines 1 to N; but whoever can write the file can rewrite a line and chain every later one
again, or cut its end. An anchor closes both: a document signed with the evidence key
(drills.reports.signing, detached) saying that the journal had `lines` lines and `bytes` bytes,
and that its last line's sha256 was `head_sha256`, at `at`. Anchors are a chain of their own,
stored and checked exactly as a site's reports are (EVIDENCE/.journal-anchors/NNNNNN-TIME.json and
its .sig, written once, numbered, each holding the sha256 of the one before), and copied to the
Object Lock replica (folder `.journal-anchors`). They sit with the reports, not in `.audit`: the
dashboard writes the journal but reads the evidence only (its own volume when deployed), so
whoever takes the dashboard over can neither sign nor remove an anchor. Against the journal,
`problems` then finds:
- audit.rewritten: line N is not the line an anchor signed: the journal was edited at or before
  it, even if every later line was chained again;
- audit.truncated: the journal has fewer lines than an anchor signed: its end was cut.
Whoever holds the signing key anchors: every drill once its report is stored, and `drill audit
anchor` (cron). Events after the newest anchor are protected by the chain alone until the next.
"""

import logging
from datetime import datetime, timezone
from pathlib import Path

from drills.audit import AuditJournal, digest as line_digest, journal_lines
from drills.errors import InfrastructureError
from drills.reports.chain import ChainProblem, replica_problems, verify_chain
from drills.reports.evidence import EvidenceStore, chain_lock, publish_signed
from drills.reports.index import sequence_of
from drills.reports.report import parse_report
from drills.reports.signing import SIGNATURE_SUFFIX, digest, document_bytes, verify
from drills import reasons

log = logging.getLogger("restore_drill.evidence")
FOLDER = ".journal-anchors"  # under the evidence root, and in the replica (a site id cannot start with a dot)
FORMAT = 1


def anchor_paths(evidence_root: Path) -> list[Path]:
    return sorted((Path(evidence_root) / FOLDER).glob("[0-9]*-*.json"))


def anchor(store: EvidenceStore, private_key, now: datetime | None = None) -> Path | None:
    """Sign the journal's head as the next anchor, copy it to the replica; None if the newest
    anchor already says the same (nothing was journaled since)."""
    folder = store.root / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    with chain_lock(folder):
        while True:
            lines, size, head = AuditJournal(store.root).head()
            existing = anchor_paths(store.root)
            newest = parse_report(existing[-1].read_bytes()) if existing else None
            if lines == 0 or newest and (newest.get("lines"), newest.get("head_sha256")) == (lines, head):
                return None  # nothing journaled yet, or since the newest anchor
            sequence = sequence_of(existing[-1]) + 1 if existing else 1
            moment = now or datetime.now(timezone.utc)
            document = {"format": FORMAT, "journal": "journal.jsonl", "sequence": sequence, "lines": lines,
                        "bytes": size, "head_sha256": head, "at": moment.isoformat(timespec="milliseconds"),
                        "previous_sha256": digest(existing[-1].read_bytes()) if existing else None}
            path = folder / f"{sequence:06d}-{moment:%Y%m%dT%H%M%SZ}.json"
            if publish_signed(path, document_bytes(document, private_key), private_key):
                break
    store.replicate(FOLDER, path)
    return path


def anchor_logged(store: EvidenceStore, private_key) -> None:
    """anchor(), a failure logged: the drill's report is stored, the next drill (or `drill audit
    anchor`) anchors."""
    try:
        anchor(store, private_key)
    except (OSError, InfrastructureError) as error:
        log.error("audit journal not anchored: %s", error)


def problems(store: EvidenceStore, keyring: dict, use_replica: bool = True) -> list[ChainProblem]:
    """What is wrong with the anchors (their chain, their copies in the replica) and with the
    journal against each anchor that verifies, the replica's locked copy first."""
    paths = anchor_paths(store.root)
    found = verify_chain(paths, keyring)
    forged = {problem.file for problem in found if problem.code in (reasons.REPORT_EDITED, reasons.REPORT_UNSIGNED)}
    anchors = {path.name: parse_report(path.read_bytes()) for path in paths if path.name not in forged}
    if store.replica is not None and use_replica:
        found += replica_problems(FOLDER, paths, store.replica)
        anchors.update(locked_anchors(store.replica, keyring))
    lines = journal_lines(AuditJournal(store.root).read())
    for name, document in sorted(anchors.items()):
        if document is not None:
            found += journal_against(name, document, lines)
    return found


def locked_anchors(replica, keyring: dict) -> dict[str, dict]:
    """The replica's anchors whose signature verifies, by name."""
    verified = {}
    for name in replica.names(FOLDER):
        if name.endswith(".json"):
            data, signature = replica.get(FOLDER, name) or b"", replica.get(FOLDER, name + SIGNATURE_SUFFIX)
            if verify(data, signature, keyring)[0]:
                verified[name] = parse_report(data)
    return verified


def journal_against(name: str, anchor_document: dict, lines: list[bytes]) -> list[ChainProblem]:
    signed, head, at = anchor_document.get("lines"), anchor_document.get("head_sha256"), anchor_document.get("at")
    if not isinstance(signed, int) or signed <= 0:
        return []
    if signed > len(lines):
        return [ChainProblem(name, reasons.AUDIT_TRUNCATED,
                             f"the journal has {len(lines)} line(s); this anchor signed {signed} at {at}: "
                             f"line(s) {len(lines) + 1} to {signed} were cut")]
    if line_digest(lines[signed - 1]) != head:
        return [ChainProblem(name, reasons.AUDIT_REWRITTEN,
                             f"line {signed} is not the line this anchor signed at {at}: the journal was "
                             f"rewritten at or before line {signed}")]
    return []
