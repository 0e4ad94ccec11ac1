"""Verification of what any engine restored, as its Engine says it is read: a database attached
read-only by DuckDB (drills.checks.database), or a tree of files walked (drills.checks.files)."""

from pathlib import Path

from drills.checks import database
from drills.checks.findings import FAIL
from drills.checks.files import tree_findings
from drills.engines.plan import Engine, Tree


def verify(engine: Engine, work_dir: str, site, manifest, started_at, watchdog, earlier: list = ()):
    """(findings, the canary's finding or None, each restored table's rows and columns or None
    for a tree of files). The verifier's blocking calls stop when the drill's watchdog fires.
    `earlier`: the findings of the restored server's own checks (amcheck); if one failed, the data is
    known damaged and is not read further (a damaged page stops the readers too)."""
    if any(finding.status == FAIL for finding in earlier):
        return list(earlier), None, None
    reads = engine.reads
    if isinstance(reads, Tree):
        return tree_findings(Path(work_dir) / reads.root, manifest.files if manifest else None, reads.refused(work_dir),
                             site.checks.may_be_empty), None, None
    target = reads.target(site, work_dir, watchdog.remaining())
    findings, freshness, tables = database.verify_database(reads.dialect, target, site, manifest, started_at,
                                                           watchdog)
    return list(earlier) + reads.set_aside(work_dir) + findings, freshness, tables
