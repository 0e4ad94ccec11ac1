"""`drill verify-report`, `drill verify-chain`, `drill audit verify`: is the evidence intact?
Exit 1 when it is not."""

import json
from pathlib import Path

from drills.audit import AuditJournal, chain_problems, journal_lines
from drills.commands.common import catalog_of, trusted_keys, usage
from drills.commands.output import emit
from drills import finder
from drills.reports import anchors, keys
from drills.reports.chain import ChainProblem, replica_problems, verify_chains
from drills.reports.evidence import EvidenceStore
from drills.reports.signing import signature_path, verify

PROBLEM_WORDS = {"cut": "cut short (a crash while it was written)", "unreadable": "not a journal line (edited)",
                 "unlinked": "not linked to the line before (that line was edited, inserted or deleted)"}


def register(add) -> None:
    report = add("verify-report", verify_report, "check a signed report's (or anchor's) signature (exit 1 if invalid)")
    report.add_argument("file")
    report.add_argument("--signature", help="its detached signature (default: FILE.sig beside it)")
    report.add_argument("--public-key", help="trust only this public key (default: the catalog's keyring)")
    chain = add("verify-chain", verify_chain, "check a site's chain of reports: edited, deleted, reordered, "
                                              "replayed (exit 1)")
    chain.add_argument("site", nargs="?", metavar="SITE")
    chain.add_argument("--all", action="store_true", help="every site of the catalog")
    chain.add_argument("--public-key", help="trust only this public key (default: the keyring)")
    chain.add_argument("--no-replica", action="store_true",
                       help="skip the comparison with the evidence replica's locked copies")
    audit = add("audit verify", verify_audit, "check the journal: its chain, and every signed anchor of it, local "
                                              "or locked in the replica (exit 1: edited, rewritten, truncated)")
    audit.add_argument("--public-key", help="trust only this public key (default: the keyring)")
    audit.add_argument("--no-replica", action="store_true", help="skip the anchors locked in the evidence replica")
    add("audit anchor", anchor_audit, "sign the journal's head as a new anchor, copied to the replica (cron: hourly)")


def verify_report(arguments) -> int:
    path = Path(arguments.file)
    signature = Path(arguments.signature) if arguments.signature else signature_path(path)
    try:
        data = path.read_bytes()
        detached = signature.read_bytes() if signature.exists() or arguments.signature else None
    except OSError as error:
        raise usage(f"cannot read {error.filename}: {error.strerror}") from None
    valid, why = verify(data, detached, trusted_keys(arguments))
    print(json.dumps({"file": arguments.file, "valid": valid, "why": why}) if arguments.json
          else f"{arguments.file}: {'VALID' if valid else 'INVALID'}: {why}")
    return 0 if valid else 1


def verify_chain(arguments) -> int:
    catalog = catalog_of(arguments)
    if not arguments.all and not arguments.site:
        raise usage("name a site, or --all")
    sites = [site.id for site in catalog.sites] if arguments.all else [catalog.site(arguments.site).id]
    keyring, store = trusted_keys(arguments), EvidenceStore.of(catalog)
    chains = {site_id: store.site_reports(site_id) for site_id in sites}
    chains |= {finder.folder(site_id): answers for site_id in sites  # the recovery-point finder's, if any
               if (answers := finder.answers(store.root, site_id))}
    results = {}
    for site_id, problems in verify_chains(chains, keyring).items():
        if store.replica and not arguments.no_replica:
            problems += replica_problems(site_id, chains[site_id], store.replica)
        results[site_id] = (len(chains[site_id]), problems)
    lines = []
    for site_id, (count, problems) in results.items():
        lines.append(f"{site_id}: {count} report(s), " + (f"{len(problems)} problem(s)" if problems else "chain intact"))
        lines += [f"  {problem.file}: {problem.code}: {problem.message}" for problem in problems]
    emit(arguments, {site_id: {"reports": count, "problems": [p.as_dict() for p in problems]}
                     for site_id, (count, problems) in results.items()}, "\n".join(lines))
    return 1 if any(problems for _, problems in results.values()) else 0


def verify_audit(arguments) -> int:
    catalog = catalog_of(arguments)
    store, journal = EvidenceStore.of(catalog), AuditJournal(catalog.evidence)
    data = journal.read()  # once: the chain and every anchor are checked on the same bytes
    found = anchors.problems(store, trusted_keys(arguments), data, use_replica=not arguments.no_replica)
    return check_journal(journal, arguments, found, data)


def anchor_audit(arguments) -> int:
    catalog = catalog_of(arguments)
    path = anchors.anchor(EvidenceStore.of(catalog), keys.load_private(catalog.signing_key))
    emit(arguments, {"anchor": str(path) if path else None},
         f"anchored: {path}" if path else "nothing journaled since the newest anchor")
    return 0


def check_journal(journal: AuditJournal, arguments, anchor_problems: list[ChainProblem] = (),
                  data: bytes | None = None) -> int:
    data = journal.read() if data is None else data
    problems, total = chain_problems(data), len(journal_lines(data))
    broken = problems or anchor_problems
    lines = [f"{journal.path}: {total} event(s), " + ("BROKEN:" if broken else "chain intact, anchors hold")]
    lines += [f"  line {problem.line}: {PROBLEM_WORDS.get(problem.kind, problem.kind)}" for problem in problems]
    lines += [f"  anchor {problem.file}: {problem.code}: {problem.message}" for problem in anchor_problems]
    print(json.dumps({"journal": str(journal.path), "events": total,
                      "broken_lines": [problem.line for problem in problems],
                      "problems": [{"line": problem.line, "kind": problem.kind} for problem in problems],
                      "anchor_problems": [problem.as_dict() for problem in anchor_problems]})
          if arguments.json else "\n".join(lines))
    return 1 if broken else 0
