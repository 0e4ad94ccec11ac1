"""Verification of what any engine restored, as its Engine says it is read: a database attached
read-only by DuckDB (drills.checks.database), or a tree of files walked (drills.checks.files)."""

from pathlib import Path

from drills.checks import database
from drills.checks.files import tree_findings
from drills.engines.plan import Engine, Tree


def verify(engine: Engine, work_dir: str, site, manifest, started_at, watchdog):
    """(findings, the canary's finding or None, each restored table's rows and columns or None
    for a tree of files). The verifier's blocking calls stop when the drill's watchdog fires."""
    reads = engine.reads
    if isinstance(reads, Tree):
        return tree_findings(Path(work_dir) / reads.root, manifest.files if manifest else None, reads.refused(work_dir),
                             site.checks.may_be_empty), None, None
    target = reads.target(site, work_dir, watchdog.remaining())
    findings, freshness, tables = database.verify_database(reads.dialect, target, site, manifest, started_at,
                                                           watchdog)
    return reads.set_aside(work_dir) + findings, freshness, tables
