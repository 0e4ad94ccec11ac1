"""Engine `sqlite`: a database file (or `.backup` output), plain or compressed.

The file is streamed into the work directory (on a memory filesystem, bounded by
engine.tmpfs) by a throwaway container, where SQLite itself runs `PRAGMA integrity_check`
read-only: a hostile or damaged file meets SQLite's parser behind the container's walls first.
DuckDB then attaches the file read-only on the host (`sqlite` scanner) for the counts and the
site's checks. Tables are named as in the file (`patients`), without a schema.

A view of the file would be SQL that DuckDB runs in the worker's process when named, and a
trigger or a virtual table code that the file chooses: before the host reads the file, they
are removed from its copy's schema inside the container (`sqlite3` with writable_schema), and
a finding names them. Only real tables are counted and queried.
"""

import shlex
from pathlib import Path

from drills.checks import database
from drills.checks.findings import WARN, Finding
from drills.engines import tools
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


container_spec = tools.idle_container  # an idle tools container receives the plaintext
wait_ready = tools.wait_ready


def restore(runtime, container_id: str, engine, plaintext, ready=lambda: None) -> None:
    ready()
    inside = f"{tools.WORK_INSIDE}/{FILE_NAME}"
    tools.receive(runtime, container_id, engine, plaintext, ["sh", "-c", f"cat > {inside}"])
    checked = runtime.run(container_id, ["sqlite3", "-readonly", inside, "PRAGMA integrity_check;"],
                          timeout=engine.timeout)
    verdict = checked.output.strip()
    if checked.exit_code != 0 or verdict != "ok":
        raise BackupProblem(reasons.RESTORE_FAILED, f"SQLite's integrity check failed: {tools.last_lines(verdict)}",
                            hint="the database file is damaged or not SQLite: check the backup job "
                                 "(use sqlite3 .backup, never a copy of a file being written)")
    neutralised = runtime.run(container_id, ["sh", "-c", f"sqlite3 -bail {inside} {shlex.quote(NEUTRALISE)} "
                                                         f"> {tools.WORK_INSIDE}/{NEUTRALISED}"], timeout=engine.timeout)
    if neutralised.exit_code != 0:
        raise BackupProblem(reasons.RESTORE_FAILED, f"the file's views and triggers could not be set aside: "
                                                    f"{tools.last_lines(neutralised.output)}",
                            hint="the database file's schema is damaged: check the backup job")


def verify(work_dir: str, site, manifest, started_at, watchdog):
    path = Path(work_dir) / FILE_NAME
    with open(path, "rb") as handle:
        if handle.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
            raise BackupProblem(reasons.RESTORE_FAILED, "the restored file is not an SQLite database",
                                hint="check the source's pattern and the backup job")
    findings, freshness = database.verify_database(database.SQLITE, str(path), site, manifest, started_at, watchdog)
    return neutralised_findings(Path(work_dir) / NEUTRALISED) + findings, freshness


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
