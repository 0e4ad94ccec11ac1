"""`drill verify-report`, `drill verify-chain`, `drill audit verify`: is the evidence intact?
Exit 1 when it is not."""

import json
from pathlib import Path

from drills.audit import AuditJournal
from drills.commands.common import catalog_of, trusted_keys, usage
from drills.commands.output import emit
from drills.reports.chain import replica_problems, verify_chains
from drills.reports.evidence import EvidenceStore
from drills.reports.signing import verify

PROBLEM_WORDS = {"cut": "cut short (a crash while it was written)", "unreadable": "not a journal line (edited)",
                 "unlinked": "not linked to the line before (that line was edited, inserted or deleted)"}


def register(add) -> None:
    report = add("verify-report", verify_report, "check a report's signature (exit 1 if invalid)")
    report.add_argument("file")
    report.add_argument("--public-key", help="trust only this public key (default: the catalog's keyring)")
    chain = add("verify-chain", verify_chain, "check a site's chain of reports: edited, deleted, reordered, "
                                              "replayed (exit 1)")
    chain.add_argument("site", nargs="?", metavar="SITE")
    chain.add_argument("--all", action="store_true", help="every site of the catalog")
    chain.add_argument("--public-key", help="trust only this public key (default: the keyring)")
    chain.add_argument("--no-replica", action="store_true",
                       help="skip the comparison with the evidence replica's locked copies")
    add("audit verify", verify_audit, "check the journal's chain (exit 1 if broken)")


def verify_report(arguments) -> int:
    try:
        data = Path(arguments.file).read_bytes()
    except OSError as error:
        raise usage(f"cannot read {arguments.file}: {error.strerror}") from None
    valid, why = verify(data, trusted_keys(arguments))
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
    return check_journal(AuditJournal(catalog_of(arguments).evidence), arguments)


def check_journal(journal: AuditJournal, arguments) -> int:
    problems, total = journal.problems(), journal.count()
    lines = [f"{journal.path}: {total} event(s), " + ("chain BROKEN:" if problems else "chain intact")]
    lines += [f"  line {problem.line}: {PROBLEM_WORDS.get(problem.kind, problem.kind)}" for problem in problems]
    print(json.dumps({"journal": str(journal.path), "events": total,
                      "broken_lines": [problem.line for problem in problems],
                      "problems": [{"line": problem.line, "kind": problem.kind} for problem in problems]})
          if arguments.json else "\n".join(lines))
    return 1 if problems else 0
