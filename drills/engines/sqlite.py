"""Engine `sqlite`: a database file (or `.backup` output), plain or compressed.

The host writes the file into the work directory (on a memory filesystem, bounded by
engine.tmpfs: drills.engines.receiving), which a throwaway container mounts, where SQLite itself
runs `PRAGMA integrity_check` read-only: a hostile or damaged file meets SQLite's parser behind
the container's walls first.
DuckDB then attaches the file read-only on the host (`sqlite` scanner) for the counts and the
site's checks. Tables are named as in the file (`patients`), without a schema.

A view of the file would be SQL that DuckDB runs in the worker's process when named, and a
trigger or a virtual table code that the file chooses: before the host reads the file, they
are removed from its copy's schema inside the container (`sqlite3` with writable_schema), and
a finding names them. Only real tables are counted and queried.
"""

import shlex
from pathlib import Path

from drills.checks.dialects import SQLITE
from drills.checks.findings import WARN, Finding
from drills.engines.plan import WORK_INSIDE, Database, Engine, Plan, Step
from drills.engines.tools import file_options, file_plan, last_lines
from drills.errors import BackupProblem
from drills import reasons

FILE_NAME = "restored.sqlite"
NEUTRALISED = "neutralised.txt"
# Everything in the schema that is not a real table or an index: views, triggers, virtual tables
# (rootpage 0), and whatever else a hand-written sqlite_master holds.
NOT_DATA = "type NOT IN ('table', 'index') OR (type = 'table' AND rootpage = 0)"
NEUTRALISE = (f"SELECT type || ' ' || substr(name, 1, 64) FROM sqlite_master WHERE {NOT_DATA}; "
              f"PRAGMA writable_schema = ON; DELETE FROM sqlite_master WHERE {NOT_DATA}; PRAGMA writable_schema = OFF;")
SQLITE_MAGIC = b"SQLite format 3\x00"


INSIDE = f"{WORK_INSIDE}/{FILE_NAME}"
# The integrity check keeps up to 256 MiB of pages in its cache (sqlite3's default is 2 MB), at most a
# quarter of the container's memory (docs/benchmarks.md). The file is opened read-only and never
# memory-mapped: SQLite's advice for a database file from outside (sqlite.org/security.html).
CACHE_MAX = 256 * 1024 * 1024


def cache_kib(site) -> int:
    return min(CACHE_MAX, site.engine.memory // 4) // 1024


def plan(site, drill_id: str, work_dir: str, request=None) -> Plan:
    return file_plan(site, drill_id, work_dir, (
        Step("SQLite's integrity check", ("sqlite3", "-readonly", INSIDE,
                                          f"PRAGMA cache_size=-{cache_kib(site)}; PRAGMA integrity_check;"),
             expect="ok", output=last_lines, hint="the database file is damaged or not SQLite: check the backup job "
                                     "(use sqlite3 .backup, never a copy of a file being written)"),
        Step("setting the file's views and triggers aside",
             ("sh", "-c", f"sqlite3 -bail {INSIDE} {shlex.quote(NEUTRALISE)} > {WORK_INSIDE}/{NEUTRALISED}"),
             output=last_lines, hint="the database file's schema is damaged: check the backup job"),
    ), version=("sqlite3", "--version"), receive=FILE_NAME)


def attached_file(site, work_dir: str, seconds_left: float) -> str:
    """The restored file, for DuckDB's sqlite scanner: refused unless it starts as SQLite does."""
    path = Path(work_dir) / FILE_NAME
    with open(path, "rb") as handle:
        if handle.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
            raise BackupProblem(reasons.RESTORE_FAILED, "the restored file is not an SQLite database",
                                hint="check the source's pattern and the backup job")
    return str(path)


def neutralised_findings(listing: Path, shown_at_most: int = 10) -> list[Finding]:
    """The objects set aside, counted line by line (a hostile schema may list millions: the
    listing is never read whole), the first few named."""
    count, named = 0, []
    if listing.exists():
        with open(listing, errors="replace") as lines:
            for line in lines:
                if line.strip():
                    count += 1
                    if len(named) < shown_at_most:
                        named.append(line.strip())
    if not count:
        return []
    shown = ", ".join(named) + (f" and {count - len(named)} more" if count > len(named) else "")
    return [Finding(reasons.SCHEMA_NEUTRALISED, f"{count} object(s)", WARN, actual=count,
                    message=f"set aside before any query, never run by the verifier: {shown}",
                    hint="views, triggers and virtual tables are not checked: name real tables in checks.sql "
                         "and checks.newest_record")]


OPTIONS = file_options("sqlite", "An SQLite database file (or .backup output), plain, gzip or zstd: "
                                 "PRAGMA integrity_check in a throwaway container, then DuckDB's checks.", "file")
def set_aside(work_dir: str) -> list[Finding]:
    return neutralised_findings(Path(work_dir) / NEUTRALISED)


ENGINE = Engine("sqlite", OPTIONS, plan, Database(SQLITE, attached_file, set_aside), manifest="file")
