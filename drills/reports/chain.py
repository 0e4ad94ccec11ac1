"""Checks a site's chain of reports: every link signed, numbered in order, and holding the
hash of the report before it. Each problem names the file and what happened to it:

- report.unsigned / report.edited: the signature (NAME.json.sig, or embedded in a format 1
  report) is missing or does not match the content;
- report.unreadable: the file does not hold a whole JSON report (empty, cut short, not JSON): a
  damaged or incomplete write (a full disk or a crash under a version before atomic writes, data
  a filesystem lost), not an edit. It keeps its place: its number is its file name's, and the
  next report is checked against the sha256 of its bytes as they are (what the store chained
  to), so a write that failed makes no chain.gap and no chain.broken. If the next report holds
  another hash, the file changed after that report was written: that one is chain.broken, its
  message saying that the report before it is unreadable;
- chain.gap: sequence numbers jump: the reports in between were deleted;
- chain.broken: a report does not hold the hash of the one before: that one was edited or
  replaced after this one was written;
- chain.misplaced: the number in the file name is not the one signed inside (files renamed
  or swapped), or the report is of another site than its folder's (a chain copied over);
- chain.replayed: a drill already in the chain appears again (an old report copied back).
Deleting the newest reports leaves a shorter valid chain: the evidence replica is that anchor
kept elsewhere. With one, each report is also compared with its locked copy:
- replica.differs: the local report is not the one locked in the replica (edited here);
- replica.only: the replica holds a report the directory lacks (deleted here, newest included);
- replica.missing: not in the replica yet (it was unreachable): `drill evidence sync`.
"""

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from cryptography.hazmat.primitives.serialization import load_pem_public_key

from drills.reports.report import parse_report
from drills.reports.index import sequence_of
from drills.reports.keys import public_pem
from drills.reports.signing import digest, read_signature, signature_path, verify
from drills import reasons


BROKEN = "it does not hold the hash of the report before it: that one was edited or replaced"
BROKEN_AFTER_UNREADABLE = ("it does not hold the hash of the report before it, which is unreadable: that file changed "
                           "after this one was written (data lost by the filesystem, or replaced)")


@dataclass(frozen=True)
class ChainProblem:
    file: str
    code: str
    message: str

    def as_dict(self) -> dict:
        return asdict(self)


def verify_chain(paths: list[Path], keyring: dict) -> list[ChainProblem]:
    """Every problem of the chain formed by `paths` (one site's reports, in file-name order)."""
    problems, previous_digest, expected, seen, after_unreadable = [], None, 1, {}, False
    for path in paths:
        data = path.read_bytes()
        report = parse_report(data)
        if report is None:
            problems += unreadable_problems(path, data, expected)
            previous_digest, expected, after_unreadable = digest(data), max(expected, sequence_of(path) + 1), True
            continue
        valid, why = verify(data, read_signature(path), keyring)
        if not valid:
            code = reasons.REPORT_UNSIGNED if "not signed" in why else reasons.REPORT_EDITED
            problems.append(ChainProblem(path.name, code, why))
        try:
            sequence = int(report["sequence"])
        except (ValueError, KeyError, TypeError):
            problems.append(ChainProblem(path.name, reasons.REPORT_EDITED, "not a report with a sequence number"))
            continue
        problems += link_problems(path, report, sequence, expected, previous_digest, seen, after_unreadable)
        seen.setdefault(report.get("drill_id"), path.name)
        previous_digest, expected, after_unreadable = digest(data), max(expected, sequence + 1), False
    return problems


def unreadable_problems(path: Path, data: bytes, expected: int) -> list[ChainProblem]:
    found = [ChainProblem(path.name, reasons.REPORT_UNREADABLE,
                          f"{len(data)} bytes, not a whole JSON report: a damaged or incomplete write (disk full, "
                          "crash, power loss), not an edit; the next report must chain to it as it is")]
    if sequence_of(path) > expected:
        found.append(ChainProblem(path.name, reasons.CHAIN_GAP,
                                  f"report(s) {expected} to {sequence_of(path) - 1} are missing: deleted"))
    return found


def verify_chains(chains: dict[str, list[Path]], keyring: dict) -> dict[str, list[ChainProblem]]:
    """verify_chain() of each site's reports, sites spread over the machine's cores (signature
    checks are CPU-bound); {site: problems}, in the order given."""
    if len(chains) < 2 or (os.cpu_count() or 1) < 2:
        return {site: verify_chain(paths, keyring) for site, paths in chains.items()}
    pems = {key_id: public_pem(key) for key_id, key in keyring.items()}  # keys do not pickle; PEM does
    with ProcessPoolExecutor(os.cpu_count()) as pool:
        found = pool.map(verify_chain_with_pems, chains.values(), [pems] * len(chains), chunksize=16)
        return dict(zip(chains, found))


def verify_chain_with_pems(paths: list[Path], pems: dict[str, bytes]) -> list[ChainProblem]:
    return verify_chain(paths, {key_id: load_pem_public_key(pem) for key_id, pem in pems.items()})


def link_problems(path: Path, report: dict, sequence: int, expected: int, previous_digest, seen,
                  after_unreadable: bool) -> list[ChainProblem]:
    found = []
    if report.get("drill_id") is not None and report.get("drill_id") in seen:  # anchors have none
        found.append(ChainProblem(path.name, reasons.CHAIN_REPLAYED,
                                  f"drill {report.get('drill_id')} is already in the chain as {seen[report.get('drill_id')]}"))
    if sequence_of(path) != sequence:
        found.append(ChainProblem(path.name, reasons.CHAIN_MISPLACED,
                                  f"the file name says {sequence_of(path)}, the signed report says {sequence}"))
    if report.get("site", path.parent.name) != path.parent.name:  # anchors name no site
        found.append(ChainProblem(path.name, reasons.CHAIN_MISPLACED,
                                  f"a report of site {str(report['site'])[:80]!r}, filed under {path.parent.name!r}"))
    if sequence > expected:
        found.append(ChainProblem(path.name, reasons.CHAIN_GAP,
                                  f"report(s) {expected} to {sequence - 1} are missing: deleted"))
    elif report.get("previous_sha256") != previous_digest and not found:
        found.append(ChainProblem(path.name, reasons.CHAIN_BROKEN,
                                  BROKEN_AFTER_UNREADABLE if after_unreadable else BROKEN))
    return found


def replica_problems(site_id: str, paths: list[Path], replica) -> list[ChainProblem]:
    """Differences between the site's reports on disk and their locked copies in `replica`."""
    files = [file for path in paths for file in (path, signature_path(path)) if file.exists()]
    problems, local = [], {file.name for file in files}
    for path in files:
        copy = replica.get(site_id, path.name)
        if copy is None:
            problems.append(ChainProblem(path.name, reasons.REPLICA_MISSING,
                                         "not in the evidence replica yet: run `drill evidence sync`"))
        elif copy != (data := path.read_bytes()):
            what = "unreadable here (a damaged write)" if path.suffix == ".json" and parse_report(data) is None \
                else "edited here"
            problems.append(ChainProblem(path.name, reasons.REPLICA_DIFFERS,
                                         f"differs from its locked copy in the replica: {what} (the replica holds "
                                         "the original)"))
    for name in replica.names(site_id):
        if name not in local:
            problems.append(ChainProblem(name, reasons.REPLICA_ONLY,
                                         "in the replica but not in the evidence directory: deleted here "
                                         "(the replica holds the original)"))
    return problems
