"""The mechanisms that keep a hostile backup from reaching past its container, unit by unit:
messages cut to their code and location, bounded line filters and output frames, the drill's
watchdog, a locked-down DuckDB, honest freshness. The real attacks run in the fault catalogue."""

import itertools
import sqlite3
import struct
import threading
import time
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import duckdb
import pytest

from drills import manifest, redaction
from drills.checks.duckdb_connection import connect_with, lock_down
from drills.engines.mariadb import without_client_commands
from drills.engines.plain_sql import without_privileges
from drills.errors import BackupProblem
from drills.runtimes.docker import OutputCollector
from drills.streams import MAX_LINE, Stopped, read_ahead, whole_lines
from drills.watchdog import INTERRUPTED, TIMEOUT, Watchdog

ROW = "DUPONT Jean 1850512345678"
PG_RESTORE_FAILURE = f"""pg_restore: while PROCESSING TOC:
pg_restore: from TOC entry 3335; 0 16386 TABLE DATA public patients postgres
pg_restore: error: COPY failed for table "patients": ERROR:  invalid input syntax for type integer: "{ROW}"
CONTEXT:  COPY patients, line 1, column id: "{ROW}"
pg_restore: error: could not execute query: ERROR:  patient {ROW} refused
Command was: INSERT INTO public.patients VALUES (1, '{ROW}');
({ROW}, 'suite')
pg_restore: warning: errors ignored on restore: 1
"""


def test_a_restore_tools_message_keeps_its_location_and_code_and_drops_every_row():
    kept = redaction.tool_output(PG_RESTORE_FAILURE, count=10)
    assert "DUPONT" not in kept and "1850512345678" not in kept
    assert "from TOC entry 3335; 0 16386 TABLE DATA public patients postgres" in kept
    assert 'COPY failed for table "…": ERROR' in kept and "errors ignored on restore: 1" in kept


def test_psql_and_mariadb_errors_keep_their_code_and_line_only():
    assert redaction.tool_output("psql:<stdin>:7604: ERROR:  22P02\n") == "psql:<stdin>:7604: ERROR 22P02"
    assert redaction.tool_output(f"ERROR 1062 (23000) at line 1917: Duplicate entry '{ROW}' for key 'PRIMARY'") \
        == "ERROR 1062 (23000) at line 1917"
    assert redaction.tool_output(f"WARNING:  patient {ROW}\n") == "WARNING"


def test_a_database_error_masks_the_values_it_quotes():
    error = duckdb.ConversionException(f"Conversion Error: Could not convert string '{ROW}' to INT32\nLINE 1: ...")
    assert redaction.error_text(error) == "Conversion Error: Could not convert string '…' to INT32"
    assert "DUPONT" not in redaction.error_text(f'IO Error: failed: ERROR:  trigger said {ROW}')


def endless(piece: bytes = b"x" * 1024 * 1024):
    """A stream that never ends a line; counts what was taken from it."""
    endless.taken = 0
    for _ in itertools.count():
        endless.taken += 1
        yield piece


@pytest.mark.parametrize("dump_filter", [without_privileges, without_client_commands], ids=["psql", "mariadb"])
def test_an_endless_line_is_refused_at_the_cap_without_being_gathered(dump_filter):
    with pytest.raises(BackupProblem) as refused:
        for _ in dump_filter(endless()):
            pass
    assert refused.value.code == "restore.failed" and "line longer than" in refused.value.message
    assert endless.taken <= MAX_LINE // (1024 * 1024) + 1, "nothing read past the cap"


def test_lines_are_whole_whatever_the_chunks_and_a_last_line_keeps_its_missing_newline():
    text = b"CREATE TABLE a (id int);\nINSERT INTO a VALUES (1);\nSELECT 1"
    for size in (1, 3, 7, len(text)):
        pieces = [text[i:i + size] for i in range(0, len(text), size)]
        rebuilt = b"".join(b"\n".join(lines) + (b"\n" if ended else b"") for lines, ended in whole_lines(pieces))
        assert rebuilt == text


def frame(stream: int, payload: bytes, announced: int | None = None) -> bytes:
    return struct.pack(">BxxxI", stream, len(payload) if announced is None else announced) + payload


def test_output_frames_are_taken_as_they_come_and_only_their_tail_kept():
    collector = OutputCollector(connection=None)
    data = frame(2, b"E" * 10) + frame(1, b"", announced=2**32 - 1)  # a frame that claims 4 GB
    for start in range(0, len(data), 3):  # headers split across reads
        collector.take(memoryview(data[start:start + 3]))
    for _ in range(300):
        collector.take(memoryview(b"y" * 65536))
    assert len(collector.payload) == 64 * 1024 and collector.text().endswith("y" * 10)


def test_the_watchdog_fires_once_at_its_deadline_and_stops_the_innermost_first():
    stopped = []
    with Watchdog(0.2) as watchdog:
        with watchdog.guarding(lambda: stopped.append("container")), watchdog.guarding(lambda: stopped.append("query")):
            assert watchdog.fired.wait(5)
    watchdog.fire(INTERRUPTED)
    assert watchdog.reason == TIMEOUT and stopped == ["query", "container"]


def test_what_starts_after_the_watchdog_fired_is_stopped_at_once():
    watchdog = Watchdog(3600)
    watchdog.fire(INTERRUPTED)
    stopped = []
    with watchdog.guarding(lambda: stopped.append("late")):
        assert stopped == ["late"]


def test_a_stopped_drill_no_longer_waits_on_a_source_that_hangs():
    hang, stop = threading.Event(), threading.Event()

    def source():
        yield b"first"
        hang.wait(30)  # a network read that never returns
        yield b"never"

    chunks = read_ahead(source(), stop=stop)
    assert next(chunks) == b"first"
    threading.Timer(0.2, stop.set).start()
    started = time.monotonic()
    with pytest.raises(Stopped):
        next(chunks)
    chunks.close()
    hang.set()
    assert time.monotonic() - started < 10


def test_a_locked_down_verifier_reads_no_file_even_through_a_restored_view(tmp_path):
    path = tmp_path / "hostile.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE patients (id INTEGER)")
        connection.execute("PRAGMA writable_schema = ON")
        connection.execute("INSERT INTO sqlite_master VALUES ('view', 'evil', 'evil', 0, "
                           "'CREATE VIEW evil AS SELECT content FROM read_text(''/etc/passwd'')')")
    connection = connect_with("sqlite")
    try:
        connection.execute(f"ATTACH '{path}' AS restored (TYPE sqlite, READ_ONLY)")
        lock_down(connection)
        for query in ("SELECT * FROM restored.evil", "SELECT content FROM read_text('/etc/passwd')"):
            with pytest.raises(duckdb.Error):
                connection.execute(query).fetchall()
        with pytest.raises(duckdb.Error, match="locked"):
            connection.execute("SET enable_external_access = true")
        assert connection.execute("SELECT current_setting('temp_directory')").fetchone() == ("",)
    finally:
        connection.close()


def site_with(rpo_hours: int = 26):
    return SimpleNamespace(id="pharmacie", engine=SimpleNamespace(type="postgres"),
                           targets=SimpleNamespace(rpo=rpo_hours * 3600))


def test_a_manifest_taken_in_the_future_or_after_its_backup_is_refused():
    now = datetime.now(timezone.utc)
    written = SimpleNamespace(modified=now - timedelta(days=5))
    for taken, backup in ((now + timedelta(days=365), None), (now, written)):
        parsed = manifest.parse(manifest.render("pharmacie", "postgres", taken, {}).encode())
        with pytest.raises(BackupProblem) as refused:
            manifest.check_belongs(parsed, site_with(), backup, now)
        assert refused.value.code == "manifest.invalid"
    skewed = manifest.parse(manifest.render("pharmacie", "postgres", now + timedelta(minutes=5), {}).encode())
    manifest.check_belongs(skewed, site_with(), SimpleNamespace(modified=now), now)  # clocks a little apart: fine


def test_a_schema_listing_millions_of_objects_is_counted_without_being_read_whole(tmp_path):
    from drills.engines.sqlite import neutralised_findings

    listing = tmp_path / "neutralised.txt"
    with open(listing, "w") as out:
        for number in range(200_000):
            out.write(f"view v{number}\n")
    (finding,) = neutralised_findings(listing)
    assert finding.actual == 200_000 and "view v0" in finding.message and "and 199990 more" in finding.message
