"""The compacted index: every site's summaries in one Parquet file, for fleet-wide questions
("which sites failed this month, and why?") that DuckDB answers without opening a thousand
files.

Derived data all the way down: the signed reports are the truth; each site's `index.jsonl` is
rebuilt from them (`rebuild_site_index`); the Parquet file (`EVIDENCE/.index/summaries.parquet`)
is compacted from those (`compact`), with the size each site's index had at that moment in
`offsets.json`. A query reads the Parquet file plus, for each site, only the index lines
written since (its tail), so answers are current without compacting after every drill. A
summary seen twice (a line written again, a tail overlapping the snapshot) counts once.
"""

import json
import os
from pathlib import Path

import duckdb

from drills.durable import replaced
from drills.reports import index
from drills.reports.evidence import EvidenceStore
from drills.reports.report import read_report

FOLDER = ".index"
PARQUET, OFFSETS = "summaries.parquet", "offsets.json"
COLUMNS = {
    "sequence": "BIGINT", "file": "VARCHAR", "drill_id": "VARCHAR", "outcome": "VARCHAR", "reason": "VARCHAR",
    "message": "VARCHAR", "started_at": "TIMESTAMPTZ", "rto_seconds": "DOUBLE", "rto_target": "BIGINT",
    "rpo_target": "BIGINT", "phases": "JSON", "backup_name": "VARCHAR", "backup_taken_at": "TIMESTAMPTZ",
    "backup_age_seconds": "DOUBLE", "contents_verified": "BOOLEAN",
}


def site_dirs(root: Path) -> list[Path]:
    if not Path(root).is_dir():
        return []
    with os.scandir(root) as entries:
        return sorted(Path(entry.path) for entry in entries if entry.is_dir() and not entry.name.startswith("."))


def rebuild_site_index(site_dir: Path) -> int:
    """Write the site's index anew from its signed reports (after damage or a format change, or
    once an unreadable report is restored from the replica); the number of summaries."""
    paths = EvidenceStore(site_dir.parent).site_reports(site_dir.name)
    lines = [json.dumps(index.summary_of(path)) + "\n" for path in paths]
    with replaced(site_dir / index.INDEX_NAME) as draft:
        draft.write("".join(lines))
    (site_dir / index.BASELINE_NAME).unlink(missing_ok=True)
    baseline = next((path for path, line in zip(reversed(paths), reversed(lines))
                     if index.restored(json.loads(line))), None)  # the newest that restored, read whole again
    if baseline:
        index.advance_baseline(site_dir, [(baseline, read_report(baseline))])
    return len(lines)


def compact(root: Path) -> int:
    """Snapshot every site's index into the Parquet file; the number of summaries in it."""
    root, folder = Path(root), Path(root) / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    indexes = [site / index.INDEX_NAME for site in site_dirs(root) if (site / index.INDEX_NAME).exists()]
    offsets = {path.parent.name: path.stat().st_size for path in indexes}  # taken first: a tail may overlap
    draft = folder / (PARQUET + ".compacting")
    with duckdb.connect() as connection:
        if indexes:
            connection.execute(f"CREATE TABLE summaries AS {select_from_json(indexes)}")
        else:
            connection.execute(f"CREATE TABLE summaries AS SELECT NULL::VARCHAR AS site, {empty_columns()} LIMIT 0")
        connection.execute(f"COPY summaries TO '{draft}' (FORMAT parquet, COMPRESSION zstd)")
        (rows,) = connection.execute("SELECT count(*) FROM summaries").fetchone()
    os.replace(draft, folder / PARQUET)
    (folder / OFFSETS).write_text(json.dumps(offsets))
    return rows


def select_from_json(paths: list[Path]) -> str:
    columns = "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in COLUMNS.items()) + "}"
    files = "[" + ", ".join("'" + str(path).replace("'", "''") + "'" for path in paths) + "]"
    return (f"SELECT regexp_extract(filename, '([^/]+)/{index.INDEX_NAME}$', 1) AS site, * EXCLUDE (filename) "
            f"FROM read_json({files}, format = 'newline_delimited', columns = {columns}, filename = true, "
            "ignore_errors = true) WHERE sequence IS NOT NULL")


def empty_columns() -> str:
    return ", ".join(f"NULL::{kind} AS {name}" for name, kind in COLUMNS.items())


def tail_rows(root: Path, offsets: dict[str, int]) -> list[tuple]:
    """Each site's summaries written since the snapshot (read from its offset on), as rows."""
    rows = []
    for site in site_dirs(root):
        try:
            if (site / index.INDEX_NAME).stat().st_size <= offsets.get(site.name, 0):
                continue  # nothing written since the snapshot
            with open(site / index.INDEX_NAME, "rb") as handle:
                handle.seek(offsets.get(site.name, 0))
                lines = handle.read().decode("utf-8", errors="replace").splitlines()
        except FileNotFoundError:
            continue
        for entry in index.ordered(lines):
            rows.append((site.name, *[json.dumps(entry.get(name)) if kind == "JSON" else entry.get(name)
                                      for name, kind in COLUMNS.items()]))
    return rows


def connect(root: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the view `summaries` (site, and every summary column): the
    compacted snapshot, plus each site's lines written since, each drill once."""
    root, folder = Path(root), Path(root) / FOLDER
    connection = duckdb.connect()
    snapshot = (folder / PARQUET).exists() and (folder / OFFSETS).exists()
    offsets = json.loads((folder / OFFSETS).read_text()) if snapshot else {}
    connection.execute("CREATE TABLE fresh (site VARCHAR, " + ", ".join(f"{name} {kind}" for name, kind in COLUMNS.items()) + ")")
    rows = tail_rows(root, offsets)
    if rows:
        connection.executemany(f"INSERT INTO fresh VALUES ({', '.join('?' * (len(COLUMNS) + 1))})", rows)
    union = (f"SELECT * FROM read_parquet('{folder / PARQUET}') UNION ALL " if snapshot else "") + "SELECT * FROM fresh"
    connection.execute(f"CREATE VIEW summaries AS SELECT * FROM ({union}) "
                       "QUALIFY row_number() OVER (PARTITION BY site, sequence ORDER BY site) = 1")
    return connection
