"""Checks a site's chain of reports: every link signed, numbered in order, and holding the
hash of the report before it. Each problem names the file and what happened to it:

- report.unsigned / report.edited: the signature is missing or does not match the content;
- chain.gap: sequence numbers jump: the reports in between were deleted;
- chain.broken: a report does not hold the hash of the one before: that one was edited or
  replaced after this one was written;
- chain.misplaced: the number in the file name is not the one signed inside (files renamed
  or swapped);
- chain.replayed: a drill already in the chain appears again (an old report copied back).
Deleting the newest reports leaves a shorter valid chain: the evidence replica is that anchor
kept elsewhere. With one, each report is also compared with its locked copy:
- replica.differs: the local report is not the one locked in the replica (edited here);
- replica.only: the replica holds a report the directory lacks (deleted here, newest included);
- replica.missing: not in the replica yet (it was unreachable): `drill evidence sync`.
"""

import json
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from cryptography.hazmat.primitives.serialization import load_pem_public_key

from drills.reports.keys import public_pem
from drills.reports.signing import digest, verify


@dataclass(frozen=True)
class ChainProblem:
    file: str
    code: str
    message: str

    def as_dict(self) -> dict:
        return asdict(self)


def verify_chain(paths: list[Path], keyring: dict) -> list[ChainProblem]:
    """Every problem of the chain formed by `paths` (one site's reports, in file-name order)."""
    problems, previous_digest, expected, seen = [], None, 1, {}
    for path in paths:
        data = path.read_bytes()
        valid, why = verify(data, keyring)
        if not valid:
            problems.append(ChainProblem(path.name, "report.unsigned" if "not signed" in why else "report.edited", why))
        try:
            report = json.loads(data)
            sequence = int(report["sequence"])
        except (ValueError, KeyError, TypeError):
            problems.append(ChainProblem(path.name, "report.edited", "not a report with a sequence number"))
            continue
        problems += link_problems(path, report, sequence, expected, previous_digest, seen)
        seen.setdefault(report.get("drill_id"), path.name)
        previous_digest, expected = digest(data), max(expected, sequence + 1)
    return problems


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


def link_problems(path: Path, report: dict, sequence: int, expected: int, previous_digest, seen) -> list[ChainProblem]:
    found = []
    if report.get("drill_id") in seen:
        found.append(ChainProblem(path.name, "chain.replayed",
                                  f"drill {report.get('drill_id')} is already in the chain as {seen[report.get('drill_id')]}"))
    if int(path.name.split("-")[0]) != sequence:
        found.append(ChainProblem(path.name, "chain.misplaced",
                                  f"the file name says {int(path.name.split('-')[0])}, the signed report says {sequence}"))
    if sequence > expected:
        found.append(ChainProblem(path.name, "chain.gap", f"report(s) {expected} to {sequence - 1} are missing: deleted"))
    elif report.get("previous_sha256") != previous_digest and not found:
        found.append(ChainProblem(path.name, "chain.broken",
                                  "it does not hold the hash of the report before it: that one was edited or replaced"))
    return found


def replica_problems(site_id: str, paths: list[Path], replica) -> list[ChainProblem]:
    """Differences between the site's reports on disk and their locked copies in `replica`."""
    problems, local = [], {path.name for path in paths}
    for path in paths:
        copy = replica.get(site_id, path.name)
        if copy is None:
            problems.append(ChainProblem(path.name, "replica.missing",
                                         "not in the evidence replica yet: run `drill evidence sync`"))
        elif copy != path.read_bytes():
            problems.append(ChainProblem(path.name, "replica.differs",
                                         "differs from its locked copy in the replica: edited here "
                                         "(the replica holds the original)"))
    for name in replica.names(site_id):
        if name not in local:
            problems.append(ChainProblem(name, "replica.only",
                                         "in the replica but not in the evidence directory: deleted here "
                                         "(the replica holds the original)"))
    return problems
