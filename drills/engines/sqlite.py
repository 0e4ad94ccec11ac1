"""Engine `sqlite`: a database file (or `.backup` output), plain or compressed.

The file is streamed into the work directory (on a memory filesystem, bounded by
engine.tmpfs) by a throwaway container, where SQLite itself runs `PRAGMA integrity_check`
read-only: a hostile or damaged file meets SQLite's parser behind the container's walls first.
DuckDB then attaches the file read-only on the host (`sqlite` scanner) for the counts and the
site's checks. Tables are named as in the file (`patients`), without a schema.
"""

from pathlib import Path

from drills.checks import database
from drills.engines import tools
from drills.errors import BackupProblem

FILE_NAME = "restored.sqlite"
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
        raise BackupProblem("restore.failed", f"SQLite's integrity check failed: {tools.last_lines(verdict)}",
                            hint="the database file is damaged or not SQLite: check the backup job "
                                 "(use sqlite3 .backup, never a copy of a file being written)")


def verify(work_dir: str, site, manifest, started_at):
    path = Path(work_dir) / FILE_NAME
    with open(path, "rb") as handle:
        if handle.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
            raise BackupProblem("restore.failed", "the restored file is not an SQLite database",
                                hint="check the source's pattern and the backup job")
    return database.verify_database(database.SQLITE, str(path), site, manifest, started_at)
