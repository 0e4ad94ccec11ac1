"""`drill run`, `drill export`, `drill demo`: drills run in this process (no broker needed).

The pipeline, and with it Docker and DuckDB, is imported only when a drill runs."""

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path

from drills.audit import AuditJournal
from drills.catalog import load_catalog
from drills.commands.common import add_recipients, catalog_of, cli_user, recipients_of, usage
from drills.engines.postgres import PHYSICAL
from drills.commands.output import (EXIT, describe, emit, progress_printer, recovery_point_text, summary,
                                    summary_row, table)
from drills import reasons


def register(add) -> None:
    run_command = add("run", run, "run drills now, in-process (no broker needed)")
    run_command.add_argument("sites", nargs="*", metavar="SITE")
    run_command.add_argument("--all", action="store_true", help="every site of the catalog")
    run_command.add_argument("--backup", metavar="NAME", help="drill this backup (a name as `drill backups SITE` "
                                                              "lists it) instead of the newest; one site only")
    run_command.add_argument("--at", metavar="TIME", type=point_in_time,
                             help="physical backups: recover to this time (ISO 8601; UTC without an offset) from "
                                  "the newest backup taken before it, instead of the latest point; one site only")
    export_command = add("export", export, "reversibility kit: restore the newest backup, export every table "
                                           "(Parquet, CSV, schema), encrypted with age to the client")
    export_command.add_argument("site", metavar="SITE")
    export_command.add_argument("--output", default=".", help="where the kit is written (default: here)")
    add_recipients(export_command)
    demo_command = add("demo", demo, "make four demo pharmacies with real backups and drill them", json=False)
    demo_command.add_argument("--dir", default="demo")
    demo_command.add_argument("--patients", type=int, default=2000)


def point_in_time(text: str) -> datetime:
    """--at: an ISO 8601 time, UTC when it names no offset, not in the future."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 time (2026-12-01T14:30:00+01:00)") from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    if moment > datetime.now(timezone.utc):
        raise argparse.ArgumentTypeError(f"{text} is in the future: a backup can only give back the past")
    return moment.astimezone(timezone.utc)


def drill_in_foreground(catalog, site, arguments, **options):
    """One drill of `site`, stopped by Ctrl-C or SIGTERM, under the site's lock; its stored report."""
    from drills.foreground import run_in_foreground
    from drills.pipeline import run_drill

    return run_in_foreground(site, lambda watchdog, drill_id: run_drill(
        catalog, site, progress=progress_printer(arguments, site.id), watchdog=watchdog, drill_id=drill_id,
        **options))


def run(arguments) -> int:
    catalog = catalog_of(arguments)
    sites = catalog.sites if arguments.all else [catalog.site(site_id) for site_id in arguments.sites]
    if not sites:
        raise usage("name the sites to drill, or --all")
    if (arguments.backup is not None or arguments.at is not None) and len(sites) != 1:
        raise usage("--backup and --at name a backup or a time of one site: name that site only")
    if arguments.at is not None and sites[0].engine.format not in PHYSICAL:
        raise usage(f"--at recovers a physical backup to a time; {sites[0].id}'s format is {sites[0].engine.format}")
    results = []
    for site in sites:
        result = drill_in_foreground(catalog, site, arguments, backup_name=arguments.backup, target=arguments.at)
        results.append(result)
        if not arguments.json:
            print(describe(result.report, result.path), flush=True)
        if result.report["reason"] == reasons.ERROR_INTERRUPTED:
            break  # Ctrl-C or SIGTERM stops the remaining sites too
    if arguments.json:
        summaries = [summary(result.report, result.path) for result in results]
        emit(arguments, summaries[0] if len(summaries) == 1 else summaries, "")
    elif len(results) > 1:
        print("\n" + table([summary_row(result.report) for result in results]))
    return max(EXIT[result.report["outcome"]] for result in results)


def export(arguments) -> int:
    """Drill the newest backup and hand its data over as an encrypted kit (exit codes: drill run's)."""
    from drills.kit import KitExport

    catalog = catalog_of(arguments)
    site = catalog.site(arguments.site)
    recipients = recipients_of(arguments)
    kit_export = KitExport(site, recipients, Path(arguments.output))
    result = drill_in_foreground(catalog, site, arguments, after_verify=kit_export)
    kit = None
    if kit_export.kit_path:
        kit = {"file": str(kit_export.kit_path), "sha256": kit_export.kit_sha256,
               "tables": len(kit_export.manifest["tables"]), "recipients": recipients}
        AuditJournal(catalog.evidence).record("kit.exported", cli_user(), site=site.id,
                                              drill_id=result.report["drill_id"], **kit)
    emit(arguments, {"drill_id": result.report["drill_id"], "outcome": result.report["outcome"],
                     "reason": result.report["reason"], "report": str(result.path), "kit": kit},
         describe(result.report, result.path) + "\n" + (
             f"  kit: {kit['file']} (sha256 {kit['sha256']}, {kit['tables']} tables, encrypted to "
             f"{len(recipients)} recipient(s))" if kit else "  no kit: the drill did not verify the data"))
    return EXIT[result.report["outcome"]]


def demo(arguments) -> int:
    """Exit 0 when each demo site ends as intended (green, corrupt, stale, amber; the finder's answer)."""
    from datetime import datetime, timezone

    from drills import finder
    from drills.demo.catalog import drilled_first, searched, unexpected, write_demo
    from drills.pipeline import run_drill

    directory = Path(arguments.dir)
    catalog_path = write_demo(directory, arguments.patients)
    print(f"demo catalog: {catalog_path}\n")
    catalog = load_catalog(catalog_path)
    reports, answers = [], []
    for site in catalog.sites:
        def drill(name=None, s=site):
            return run_drill(catalog, s, backup_name=name, progress=lambda phase: print(
                f"  {s.id}{f' ({name})' if name else ''}: {phase}...", flush=True))

        for name in drilled_first(directory, site.id):
            drill(name)
        result = drill()
        reports.append(result.report)
        print(describe(result.report, result.path), flush=True)
        if searched(site.id):
            answers.append(finder.find(catalog, site, drill, lambda: datetime.now(timezone.utc)))
            print(recovery_point_text(answers[-1]), flush=True)
    print("\n" + table([summary_row(report) for report in reports]))
    print(f"\nreports: {catalog.evidence}/SITE/  (check one: drill verify-report FILE --catalog {catalog_path})")
    surprises = unexpected(reports) + [f"{answer['site']}: the finder found no restorable backup"
                                       for answer in answers if not answer["found"]]
    for surprise in surprises:
        print(f"demo: unexpected: {surprise}", file=sys.stderr)
    return 1 if surprises else 0
