"""The `drill` commands that hand evidence to third parties: `certificate`, `export`, and
`audit verify` (wired in drills.cli). Whatever leaves is written in the audit journal."""

import getpass
import json
import os
import sys
from pathlib import Path

from drills.audit import AuditJournal
from drills.errors import ConfigError
from drills.reports.evidence import EvidenceStore


def command_certificate(arguments, catalog, keyring) -> int:
    from drills.certificates import certificate_files

    path = EvidenceStore(catalog.evidence).find(arguments.drill_id)
    languages = (arguments.lang,) if arguments.lang else ("fr", "en")
    files = certificate_files(path.read_bytes(), path.name, keyring, languages)
    output = Path(arguments.output)
    output.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (output / name).write_bytes(content)
    AuditJournal(catalog.evidence).record("certificate.issued", cli_user(), site=path.parent.name,
                                          report=path.name, files=sorted(files))
    written = [str(output / name) for name in files]
    print(json.dumps({"drill_id": arguments.drill_id, "report": str(path), "files": written}) if arguments.json
          else "\n".join(written))
    return 0


PROBLEM_WORDS = {"cut": "cut short (a crash while it was written)", "unreadable": "not a journal line (edited)",
                 "unlinked": "not linked to the line before (that line was edited, inserted or deleted)"}


def command_audit_verify(arguments, catalog) -> int:
    journal = AuditJournal(catalog.evidence)
    problems, total = journal.problems(), journal.count()
    if arguments.json:
        print(json.dumps({"journal": str(journal.path), "events": total,
                          "broken_lines": [problem.line for problem in problems],
                          "problems": [{"line": problem.line, "kind": problem.kind} for problem in problems]}))
    elif problems:
        print(f"{journal.path}: {total} event(s), chain BROKEN:")
        for problem in problems:
            print(f"  line {problem.line}: {PROBLEM_WORDS.get(problem.kind, problem.kind)}")
    else:
        print(f"{journal.path}: {total} event(s), chain intact")
    return 1 if problems else 0


def recipients_of(arguments) -> list[str]:
    """The age recipients of --recipient flags and --recipients-file files (one a line, # comments)."""
    recipients = list(arguments.recipient or [])
    for recipients_file in arguments.recipients_file or []:
        try:
            lines = Path(recipients_file).read_text().splitlines()
        except OSError as error:
            raise ConfigError(f"cannot read {recipients_file}: {error.strerror}", code="config.usage") from None
        recipients += [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    return recipients


def command_seal(arguments, catalog) -> int:
    from drills.seal import seal

    written = seal(catalog.site(arguments.site), Path(arguments.dump), recipients_of(arguments), arguments.dsn,
                   arguments.manifest)
    print(json.dumps(written) if arguments.json else
          f"{written['site']}: {written['backup']} and {written['manifest']} uploaded ({written['bytes']:,} bytes "
          f"sealed for {written['recipients']} recipient(s), {written['tables']} tables in the manifest)")
    return 0


def cli_user() -> str:
    """Who ran a command, for the journal: the operating system's user."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return f"cli:uid-{os.getuid()}"


def command_export(arguments, catalog) -> int:
    """Drill the newest backup and hand its data over as an encrypted kit (exit codes: drill run's)."""
    from drills.cli import EXIT, describe  # the drill's own summary and exit codes
    from drills.foreground import run_in_foreground
    from drills.kit import KitExport
    from drills.pipeline import run_drill

    site = catalog.site(arguments.site)
    recipients = recipients_of(arguments)
    export = KitExport(site, recipients, Path(arguments.output))
    progress = (lambda phase: None) if arguments.json else \
        (lambda phase: print(f"  {site.id}: {phase}...", file=sys.stderr, flush=True))
    result = run_in_foreground(site, lambda watchdog, drill_id: run_drill(
        catalog, site, progress=progress, after_verify=export, watchdog=watchdog, drill_id=drill_id))
    kit = None
    if export.kit_path:
        kit = {"file": str(export.kit_path), "sha256": export.kit_sha256,
               "tables": len(export.manifest["tables"]), "recipients": recipients}
        AuditJournal(catalog.evidence).record("kit.exported", cli_user(), site=site.id,
                                              drill_id=result.report["drill_id"], **kit)
    if arguments.json:
        print(json.dumps({"drill_id": result.report["drill_id"], "outcome": result.report["outcome"],
                          "reason": result.report["reason"], "report": str(result.path), "kit": kit}, indent=2))
    else:
        print(describe(result.report, result.path))
        print(f"  kit: {kit['file']} (sha256 {kit['sha256']}, {kit['tables']} tables, encrypted to "
              f"{len(recipients)} recipient(s))" if kit else "  no kit: the drill did not verify the data")
    return EXIT[result.report["outcome"]]
