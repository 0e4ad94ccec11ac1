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

from drills.audit import AuditJournal, chain_problems, journal_lines
from drills.errors import InfrastructureError
from drills.reports.chain import ChainProblem, replica_problems, verify_chain
from drills.reports.evidence import EvidenceStore
from drills.reports.report import parse_report
from drills.reports.signing import SIGNATURE_SUFFIX, digest, verify
from drills import reasons

log = logging.getLogger("restore_drill.evidence")
FOLDER = ".journal-anchors"  # under the evidence root, and in the replica (a site id cannot start with a dot)
FORMAT = 1


def anchor_paths(evidence_root: Path) -> list[Path]:
    return sorted((Path(evidence_root) / FOLDER).glob("[0-9]*-*.json"))


def anchor(store: EvidenceStore, private_key, now: datetime | None = None) -> Path | None:
    """Sign the journal's head as the next anchor, copy it to the replica; None if there is
    nothing to anchor (an empty journal, or nothing journaled since the newest anchor).
    InfrastructureError audit.rewritten / audit.truncated, and nothing signed, if the journal no
    longer holds what the newest anchor signed, or its chain is broken: damage is never signed."""
    journal = AuditJournal(store.root)

    def link(sequence: int, previous: Path | None):
        newest = parse_report(previous.read_bytes()) if previous else None
        if journal.size() == (newest or {}).get("bytes", 0):
            return None  # nothing journaled since (the journal only grows): not read whole after every drill
        data = journal.read()
        lines = journal_lines(data)
        head = digest(lines[-1]) if lines else None
        if not lines or newest and (newest.get("lines"), newest.get("head_sha256")) == (len(lines), head):
            return None
        refuse_damage(data, lines, previous, newest)
        moment = now or datetime.now(timezone.utc)
        return f"{sequence:06d}-{moment:%Y%m%dT%H%M%SZ}.json", {
            "format": FORMAT, "journal": "journal.jsonl", "lines": len(lines), "bytes": len(data),
            "head_sha256": head, "at": moment.isoformat(timespec="milliseconds")}

    stored = store.append_link(FOLDER, link, private_key)
    if stored is None:
        return None
    store.replicate(FOLDER, stored[0])
    return stored[0]


def refuse_damage(data: bytes, lines: list[bytes], previous: Path | None, newest: dict | None) -> None:
    """InfrastructureError if the journal's chain is broken (a line cut by a crash aside) or it no
    longer holds the lines the newest anchor signed."""
    broken = [problem for problem in chain_problems(data) if problem.kind != "cut"]
    against = journal_against(previous.name, newest, lines) if newest else []
    if broken or against:
        code = against[0].code if against else reasons.AUDIT_REWRITTEN
        said = against[0].message if against else f"line {broken[0].line} is {broken[0].kind}"
        raise InfrastructureError(code, f"the audit journal is not anchored: {said}",
                                  hint="see `drill audit verify`; the anchors locked in the replica date the damage")


def anchor_logged(store: EvidenceStore, private_key) -> None:
    """anchor(), a failure logged: the drill's report is stored, the next drill (or `drill audit
    anchor`) anchors."""
    try:
        anchor(store, private_key)
    except (OSError, InfrastructureError) as error:
        log.error("audit journal not anchored: %s", error)


def problems(store: EvidenceStore, keyring: dict, journal: bytes, use_replica: bool = True) -> list[ChainProblem]:
    """What is wrong with the anchors (their chain, their copies in the replica) and with the
    journal (its bytes, as read) against each anchor that verifies, the replica's locked copy first."""
    paths = anchor_paths(store.root)
    found = verify_chain(paths, keyring)
    forged = {problem.file for problem in found if problem.code in (reasons.REPORT_EDITED, reasons.REPORT_UNSIGNED)}
    anchors = {path.name: parse_report(path.read_bytes()) for path in paths if path.name not in forged}
    if store.replica is not None and use_replica:
        differing = replica_problems(FOLDER, paths, store.replica)
        found += differing
        unlike_here = {problem.file.removesuffix(SIGNATURE_SUFFIX) for problem in differing
                       if problem.code != reasons.REPLICA_MISSING}
        anchors.update(locked_anchors(store.replica, keyring, unlike_here | forged))
    lines = journal_lines(journal)
    for name, document in sorted(anchors.items()):
        if document is not None:
            found += journal_against(name, document, lines)
    return found


def locked_anchors(replica, keyring: dict, names: set[str]) -> dict[str, dict]:
    """The replica's copies of the anchors `names` (those that differ from, or are missing in,
    the directory) whose signature verifies, by name."""
    verified = {}
    for name in sorted(name for name in names if name.endswith(".json")):
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
    if digest(lines[signed - 1]) != head:
        return [ChainProblem(name, reasons.AUDIT_REWRITTEN,
                             f"line {signed} is not the line this anchor signed at {at}: the journal was "
                             f"rewritten at or before line {signed}")]
    return []
