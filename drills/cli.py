"""The `drill` command.

Exit codes (every command):
    0  pass (or the command succeeded)
    1  fail: a backup is not good (or a report does not verify)
    2  error: our infrastructure failed (Docker engine, storage); the site is not blamed
    3  bad configuration or usage
With several drills, the exit code is the worst outcome. `--json` prints machine-readable output.
"""

import argparse
import json
import os
import sys
from importlib.metadata import entry_points
from pathlib import Path

from drills import cli_evidence
from drills.audit import AuditJournal
from drills.catalog import load_catalog
from drills.errors import ConfigError, DrillError
from drills.reports import keys
from drills.reports.evidence import EvidenceStore
from drills.reports.chain import replica_problems, verify_chains
from drills.reports.signing import verify

COMMAND_PLUGINS = "restore_drill.commands"  # packages adding commands without drills importing them
EXIT = {"pass": 0, "fail": 1, "error": 2}
EXIT_CONFIG = 3


def main(argv: list[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    try:
        return arguments.command(arguments)
    except ConfigError as error:
        emit_error(arguments, error)
        return EXIT_CONFIG
    except DrillError as error:
        emit_error(arguments, error)
        return EXIT[error.outcome]


def emit_error(arguments, error: DrillError) -> None:
    if getattr(arguments, "json", False):
        print(json.dumps({"error": error.code, "message": error.message, "hint": error.hint}))
    else:
        print(f"drill: {error}", file=sys.stderr)


def catalog_of(arguments):
    return load_catalog(arguments.catalog or os.environ.get("DRILL_CATALOG") or "catalog.yaml")


def command_check(arguments) -> int:
    catalog = catalog_of(arguments)
    if arguments.json:
        print(json.dumps({"catalog": str(catalog.path), "sites": len(catalog.sites), "valid": True}))
    else:
        print(f"{catalog.path}: valid, {len(catalog.sites)} site(s)")
    return 0


def command_sites(arguments) -> int:
    catalog = catalog_of(arguments)
    rows = [{"id": s.id, "name": s.name, "tenant": s.tenant, "engine": f"{s.engine.type}/{s.engine.format}",
             "schedule": s.schedule} for s in catalog.sites]
    print(json.dumps(rows, indent=2) if arguments.json else table(rows))
    return 0


def command_run(arguments) -> int:
    from drills.foreground import run_in_foreground
    from drills.pipeline import run_drill  # the engine's libraries load only when a drill runs

    catalog = catalog_of(arguments)
    sites = catalog.sites if arguments.all else [catalog.site(site_id) for site_id in arguments.sites]
    if not sites:
        raise ConfigError("name the sites to drill, or --all", code="config.usage")
    results = []
    for site in sites:
        progress = (lambda phase, s=site: None) if arguments.json else \
            (lambda phase, s=site: print(f"  {s.id}: {phase}...", file=sys.stderr, flush=True))
        result = run_in_foreground(site, lambda watchdog, drill_id, s=site, p=progress: run_drill(
            catalog, s, progress=p, watchdog=watchdog, drill_id=drill_id))
        results.append(result)
        if not arguments.json:
            print(describe(result.report, result.path), flush=True)
        if result.report["reason"] == "error.interrupted":
            break  # Ctrl-C or SIGTERM stops the remaining sites too
    if arguments.json:
        summaries = [summary(result.report, result.path) for result in results]
        print(json.dumps(summaries[0] if len(summaries) == 1 else summaries, indent=2, ensure_ascii=False))
    elif len(results) > 1:
        print("\n" + table([summary_row(result.report) for result in results]))
    return max(EXIT[result.report["outcome"]] for result in results)


def summary(report: dict, path: Path) -> dict:
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
    lines.append(f"  report: {path}")
    return "\n".join(lines)


def seconds_text(seconds) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def command_history(arguments) -> int:
    catalog = catalog_of(arguments)
    if arguments.all or arguments.since or arguments.outcome:
        return fleet_history(arguments, catalog)
    if not arguments.site:
        raise ConfigError("name a site, or --all", code="config.usage")
    site = catalog.site(arguments.site)
    reports = EvidenceStore(catalog.evidence).history(site.id)[-arguments.limit:]
    if arguments.json:
        print(json.dumps([summary_row(r) | {"drill_id": r["drill_id"], "started_at": r["started_at"]}
                          for r in reports], indent=2))
    elif not reports:
        print(f"no drill yet for {site.id}: run `drill run {site.id}`")
    else:
        print(table([{"started": r["started_at"], "drill": r["drill_id"]} | summary_row(r) for r in reports]))
    return 0


def fleet_history(arguments, catalog) -> int:
    """Drills across sites from the compacted index (DuckDB), newest first."""
    from drills.catalog.validate import UNITS, parse_amount
    from drills.reports import compaction

    since = parse_amount(arguments.since, UNITS) if arguments.since else None
    if arguments.since and not since:
        raise ConfigError(f"--since expects a duration such as 30d or 12h, got {arguments.since!r}", code="config.usage")
    filters, values = ["TRUE"], []
    for column, value in (("site", arguments.site), ("outcome", arguments.outcome)):
        if value:
            filters.append(f"{column} = ?")
            values.append(value)
    if since:
        filters.append("started_at >= now() - to_seconds(?)")
        values.append(since)
    with compaction.connect(catalog.evidence) as connection:
        rows = connection.execute(
            "SELECT site, started_at::VARCHAR AS started_at, drill_id, upper(outcome) AS outcome, "
            "coalesce(reason, '-') AS reason, rto_seconds FROM summaries WHERE " + " AND ".join(filters) +
            f" ORDER BY started_at DESC LIMIT {int(arguments.limit)}", values).fetchall()
    found = [dict(zip(("site", "started", "drill", "outcome", "reason", "rto"), row)) for row in rows]
    if arguments.json:
        print(json.dumps(found, indent=2))
    else:
        print(table([{**row, "rto": seconds_text(row["rto"])} for row in found]))
    return 0


def command_index(arguments) -> int:
    """Rebuild the sites' indexes from their signed reports (if asked), then compact them."""
    from drills.reports import compaction

    catalog = catalog_of(arguments)
    if arguments.rebuild:
        for site in catalog.sites:
            site_dir = catalog.evidence / site.id
            if site_dir.is_dir():
                print(f"{site.id}: {compaction.rebuild_site_index(site_dir)} summaries rebuilt from the reports",
                      file=sys.stderr)
    rows = compaction.compact(catalog.evidence)
    print(json.dumps({"summaries": rows}) if arguments.json else
          f"{catalog.evidence / compaction.FOLDER / compaction.PARQUET}: {rows} drill summaries")
    return 0


def command_manifest(arguments) -> int:
    from drills.manifest import of_backup_file, of_live_database

    if arguments.engine in ("postgres", "mariadb"):
        if not arguments.dsn:
            raise ConfigError(f"{arguments.engine} counts a live database: give --dsn", code="config.usage")
        print(of_live_database(arguments.dsn, arguments.site, engine=arguments.engine))
    else:
        if not arguments.file:
            raise ConfigError(f"{arguments.engine} reads the backup itself: give --file", code="config.usage")
        print(of_backup_file(arguments.engine, Path(arguments.file), arguments.site))
    return 0


def trusted_keys(arguments) -> dict:
    """The keys a report may be signed with: --public-key if given, else the catalog's keyring."""
    if arguments.public_key:
        public_key = keys.load_public(Path(arguments.public_key))
        return {keys.key_id(public_key): public_key}
    return keys.keyring(catalog_of(arguments).signing_key)


def command_verify_report(arguments) -> int:
    try:
        data = Path(arguments.file).read_bytes()
    except OSError as error:
        raise ConfigError(f"cannot read {arguments.file}: {error.strerror}", code="config.usage") from None
    valid, why = verify(data, trusted_keys(arguments))
    print(json.dumps({"file": arguments.file, "valid": valid, "why": why}) if arguments.json
          else f"{arguments.file}: {'VALID' if valid else 'INVALID'}: {why}")
    return 0 if valid else 1


def command_verify_chain(arguments) -> int:
    catalog = catalog_of(arguments)
    if not arguments.all and not arguments.site:
        raise ConfigError("name a site, or --all", code="config.usage")
    sites = [site.id for site in catalog.sites] if arguments.all else [catalog.site(arguments.site).id]
    keyring, store = trusted_keys(arguments), EvidenceStore.of(catalog)
    chains = {site_id: store.site_reports(site_id) for site_id in sites}
    results = {}
    for site_id, problems in verify_chains(chains, keyring).items():
        if store.replica and not arguments.no_replica:
            problems += replica_problems(site_id, chains[site_id], store.replica)
        results[site_id] = (len(chains[site_id]), problems)
    if arguments.json:
        print(json.dumps({site_id: {"reports": count, "problems": [p.as_dict() for p in problems]}
                          for site_id, (count, problems) in results.items()}, indent=2))
    else:
        for site_id, (count, problems) in results.items():
            print(f"{site_id}: {count} report(s), " + (f"{len(problems)} problem(s)" if problems else "chain intact"))
            for problem in problems:
                print(f"  {problem.file}: {problem.code}: {problem.message}")
    return 1 if any(problems for _, problems in results.values()) else 0


def command_evidence_sync(arguments) -> int:
    catalog = catalog_of(arguments)
    store = EvidenceStore.of(catalog)
    if store.replica is None:
        raise ConfigError("the catalog has no evidence_replica", code="config.usage",
                          hint="see `drill schema`: evidence_replica")
    copied = store.sync([site.id for site in catalog.sites])
    print(json.dumps(copied) if arguments.json else
          "\n".join(f"{site_id}: {count} report(s) copied" for site_id, count in copied.items()))
    return 0


def command_keys_rotate(arguments) -> int:
    catalog = None if arguments.key else catalog_of(arguments)
    private_path = Path(arguments.key) if arguments.key else catalog.signing_key
    old_id, public_key = keys.rotate(private_path)
    if catalog:
        AuditJournal(catalog.evidence).record("key.rotated", cli_evidence.cli_user(), retired=old_id,
                                              signing=keys.key_id(public_key))
    print(f"signing key rotated: {old_id} retired (its public key stays in {keys.keyring_path(private_path)}), "
          f"{keys.key_id(public_key)} signs from now on")
    return 0


def command_keys_export_public(arguments) -> int:
    private_path = Path(arguments.key) if arguments.key else catalog_of(arguments).signing_key
    for identifier, public_key in keys.keyring(private_path).items():
        print(f"# {identifier}\n{keys.public_pem(public_key).decode()}", end="")
    return 0


def command_keys_init(arguments) -> int:
    private_path = Path(arguments.key) if arguments.key else catalog_of(arguments).signing_key
    public_key = keys.init(private_path)
    print(f"signing key {keys.key_id(public_key)} written to {private_path} (public half: "
          f"{keys.public_path(private_path)})")
    return 0


def command_demo(arguments) -> int:
    """Exit 0 when each demo site ends as intended (one green, one corrupt, one stale)."""
    from drills.demo.catalog import unexpected, write_demo
    from drills.pipeline import run_drill

    catalog_path = write_demo(Path(arguments.dir), arguments.patients)
    print(f"demo catalog: {catalog_path}\n")
    catalog = load_catalog(catalog_path)
    reports = []
    for site in catalog.sites:
        result = run_drill(catalog, site, progress=lambda phase, s=site: print(f"  {s.id}: {phase}...", flush=True))
        reports.append(result.report)
        print(describe(result.report, result.path), flush=True)
    print("\n" + table([summary_row(report) for report in reports]))
    print(f"\nreports: {catalog.evidence}/SITE/  (check one: drill verify-report FILE --catalog {catalog_path})")
    surprises = unexpected(reports)
    for surprise in surprises:
        print(f"demo: unexpected: {surprise}", file=sys.stderr)
    return 1 if surprises else 0


def command_users_add(arguments) -> int:
    """Add a dashboard user (or replace one of that name); the password is read, never an argument."""
    import getpass
    import tempfile

    import yaml

    from drills.access import hash_password, load_users

    path = Path(arguments.users or os.environ.get("DRILL_USERS") or "users.yaml")
    password = sys.stdin.readline().rstrip("\n") if arguments.password_stdin else getpass.getpass("password: ")
    if not arguments.password_stdin and getpass.getpass("again: ") != password:
        raise ConfigError("the two passwords differ", code="config.usage")
    if len(password) < 12:
        raise ConfigError("a password needs at least 12 characters", code="config.usage")
    document = yaml.safe_load(path.read_text()) if path.exists() else None
    entries = [entry for entry in (document or {}).get("users", []) if entry.get("name") != arguments.name]
    entry = {"name": arguments.name, "role": arguments.role, "password": hash_password(password)}
    entry.update({key: value for key, value in (("sites", arguments.site), ("tenants", arguments.tenant),
                                                 ("email", arguments.email)) if value})
    with tempfile.NamedTemporaryFile("w", dir=path.parent.resolve(), suffix=".yaml", delete=False) as draft:
        yaml.safe_dump({"users": [*entries, entry]}, draft, sort_keys=False)
    try:
        load_users(draft.name)  # never write a file the dashboard would refuse
        os.replace(draft.name, path)
    finally:
        Path(draft.name).unlink(missing_ok=True)
    print(f"{path}: user {arguments.name} ({arguments.role}) saved")
    return 0


def command_schema(arguments) -> int:
    from drills.catalog.docs import render

    print(render())
    return 0


def table(rows: list[dict]) -> str:
    if not rows:
        return "(none)"
    widths = {key: max(len(key), *(len(str(row[key])) for row in rows)) for key in rows[0]}
    lines = ["  ".join(key.ljust(widths[key]) for key in rows[0])]
    lines += ["  ".join(str(row[key]).ljust(widths[key]) for key in row) for row in rows]
    return "\n".join(lines)


class Parser(argparse.ArgumentParser):
    """Usage errors exit with 3, as documented, not argparse's 2 (which means error here)."""

    def error(self, message):
        self.print_usage(sys.stderr)
        print(f"drill: {message}", file=sys.stderr)
        sys.exit(EXIT_CONFIG)


def parser() -> argparse.ArgumentParser:
    root = Parser(prog="drill", description=__doc__.split("\n")[0],
                                   epilog=__doc__.split("\n", 2)[2], formatter_class=argparse.RawDescriptionHelpFormatter)
    common = Parser(add_help=False)
    common.add_argument("--catalog", help="catalog file (default: $DRILL_CATALOG, else ./catalog.yaml)")
    common.add_argument("--json", action="store_true", help="machine-readable output")
    commands = root.add_subparsers(required=True, metavar="COMMAND", parser_class=Parser)

    def add(name, function, help_text):
        command = commands.add_parser(name, parents=[common], help=help_text, description=help_text)
        command.set_defaults(command=function)
        return command

    add("check", command_check, "validate the catalog and report every problem with its line")
    add("sites", command_sites, "list the catalog's sites")
    run = add("run", command_run, "run drills now, in-process (no broker needed)")
    run.add_argument("sites", nargs="*", metavar="SITE")
    run.add_argument("--all", action="store_true", help="every site of the catalog")
    history = add("history", command_history, "past drills of a site, or of every site (--all, --since, --outcome)")
    history.add_argument("site", nargs="?", metavar="SITE")
    history.add_argument("--all", action="store_true", help="every site, from the compacted index")
    history.add_argument("--since", help="only drills started within this duration, e.g. 30d")
    history.add_argument("--outcome", choices=["pass", "fail", "error", "unreadable"])
    history.add_argument("--limit", type=int, default=20)
    index_command = add("index", command_index, "compact every site's index into one Parquet file for DuckDB")
    index_command.add_argument("--rebuild", action="store_true",
                               help="first rebuild each site's index from its signed reports")
    manifest = add("manifest", command_manifest,
                   "print the manifest of a live database (exact row counts) or of a backup file")
    manifest.add_argument("engine", choices=["postgres", "mariadb", "sqlite", "files"])
    manifest.add_argument("--dsn", help="postgres: libpq connection string, e.g. 'host=/run/pg dbname=lgo'; "
                                        "mariadb: 'host=localhost socket=/run/mysqld/mysqld.sock user=root "
                                        "database=lgo'")
    manifest.add_argument("--file", help="sqlite: the database file; files: the tar archive (plain, gzip, zstd)")
    manifest.add_argument("--site", required=True)
    verify_report = add("verify-report", command_verify_report, "check a report's signature (exit 1 if invalid)")
    verify_report.add_argument("file")
    verify_report.add_argument("--public-key", help="trust only this public key (default: the catalog's keyring)")
    verify_chain_command = add("verify-chain", command_verify_chain,
                               "check a site's chain of reports: edited, deleted, reordered, replayed (exit 1)")
    verify_chain_command.add_argument("site", nargs="?", metavar="SITE")
    verify_chain_command.add_argument("--all", action="store_true", help="every site of the catalog")
    verify_chain_command.add_argument("--public-key", help="trust only this public key (default: the keyring)")
    verify_chain_command.add_argument("--no-replica", action="store_true",
                                      help="skip the comparison with the evidence replica's locked copies")
    evidence = commands.add_parser("evidence", help="the evidence replica").add_subparsers(
        required=True, metavar="ACTION", parser_class=Parser)
    evidence.add_parser("sync", parents=[common], help="copy to the replica every report it lacks").set_defaults(
        command=command_evidence_sync)
    keys_command = commands.add_parser("keys", help="signing keys").add_subparsers(
        required=True, metavar="ACTION", parser_class=Parser)
    for action, function, help_text in (
            ("init", command_keys_init, "create the report signing key"),
            ("rotate", command_keys_rotate, "replace the signing key; reports signed before still verify"),
            ("export-public", command_keys_export_public, "print every public key ever used, for third parties")):
        key_action = keys_command.add_parser(action, parents=[common], help=help_text, description=help_text)
        key_action.add_argument("--key", help="the signing key file (default: the catalog's signing_key)")
        key_action.set_defaults(command=function)
    demo = add("demo", command_demo, "make three demo pharmacies with real backups and drill them")
    demo.add_argument("--dir", default="demo")
    demo.add_argument("--patients", type=int, default=2000)
    users = commands.add_parser("users", help="dashboard users").add_subparsers(
        required=True, metavar="ACTION", parser_class=Parser)
    users_add = users.add_parser("add", help="add or replace a user (asks for the password)")
    users_add.set_defaults(command=command_users_add)
    users_add.add_argument("name")
    users_add.add_argument("--role", required=True, choices=["viewer", "operator", "admin"])
    users_add.add_argument("--site", action="append", help="a viewer's site (repeat for several)")
    users_add.add_argument("--tenant", action="append", help="an operator's tenant (repeat for several)")
    users_add.add_argument("--email", help="matched when signing in through OpenID Connect")
    users_add.add_argument("--users", help="the users file (default: $DRILL_USERS, else ./users.yaml)")
    users_add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    users_add.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    certificate = add("certificate", lambda arguments: cli_evidence.command_certificate(
        arguments, catalog_of(arguments), trusted_keys(arguments)),
        "reversibility certificate of a passed drill: PDF and HTML, French and English, the report attached")
    certificate.add_argument("drill_id", metavar="DRILL_ID")
    certificate.add_argument("--lang", choices=["fr", "en"], help="one language only (default: both)")
    certificate.add_argument("--output", default=".", help="where to write the files (default: here)")
    certificate.add_argument("--public-key", help="trust only this public key (default: the keyring)")
    export = add("export", lambda arguments: cli_evidence.command_export(arguments, catalog_of(arguments)),
                 "reversibility kit: restore the newest backup, export every table (Parquet, CSV, schema), "
                 "encrypted with age to the client")
    export.add_argument("site", metavar="SITE")
    export.add_argument("--output", default=".", help="where the kit is written (default: here)")
    seal = add("seal", lambda arguments: cli_evidence.command_seal(arguments, catalog_of(arguments)),
               "site side: encrypt a dump and its manifest with age and upload both to the site's source")
    seal.add_argument("site", metavar="SITE")
    seal.add_argument("dump", metavar="DUMP", help="the dump or archive the backup job just wrote")
    seal.add_argument("--dsn", help="count the live PostgreSQL database for the manifest, e.g. 'dbname=lgo'")
    seal.add_argument("--manifest", help="or: the manifest the backup job wrote")
    for command in (export, seal):
        command.add_argument("--recipient", action="append", help="an age recipient, age1... (repeatable)")
        command.add_argument("--recipients-file", action="append", help="a file of recipients, one a line")
    audit = commands.add_parser("audit", help="the audit journal").add_subparsers(
        required=True, metavar="ACTION", parser_class=Parser)
    audit.add_parser("verify", parents=[common], help="check the journal's chain (exit 1 if broken)").set_defaults(
        command=lambda arguments: cli_evidence.command_audit_verify(arguments, catalog_of(arguments)))
    add("schema", command_schema, "print the catalog's documentation (every option, with examples)")
    for plugin in entry_points(group=COMMAND_PLUGINS):  # e.g. workers: worker, scheduler, enqueue
        plugin.load()(add)
    return root


if __name__ == "__main__":
    sys.exit(main())
