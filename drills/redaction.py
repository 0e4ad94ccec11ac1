"""Text from inside a backup's world, cut to what may be kept: its code and its location.

A restore tool's or a database's message can quote the backup's rows: `invalid input syntax
for type integer: "DUPONT"`, a CONTEXT line holding a COPY row, pg_restore's `Command was:`
with a whole INSERT, the text of a RAISE in a restored function, a DuckDB conversion error
naming the value. Whatever such text reaches (a report, the index, an alert, a log, the
dashboard) is kept on disk for years, so it keeps only the structure: the tool, the severity,
the error's code (SQLSTATE, MariaDB's error number), the location (input line, TOC entry),
with every quoted span masked; the rest of a server message is dropped, never guessed safe.
"""

import re

MASK = "…"
QUOTED = re.compile(r"\"[^\"\n]*\"?|'[^'\n]*'?|`[^`\n]*`?")
# A server's severity marker; what follows it is the server's message: only a code is kept.
SEVERITY = re.compile(r"\b(ERROR|FATAL|PANIC|WARNING|NOTICE|INFO|LOG)\b:?\s*")
SQLSTATE = re.compile(r"[0-9A-Z]{5}\b")
MARIADB_ERROR = re.compile(r"(ERROR \d+ \([0-9A-Z]{5}\)(?: at line \d+)?)")
# Lines that exist to quote data or statements: always dropped.
QUOTING_LINES = re.compile(r"\s*(DETAIL|CONTEXT|HINT|QUERY|STATEMENT|LINE \d+|Command was|WHERE)\b|\s*\^")
# A line of the tools themselves (pg_restore: psql:<stdin>:3: tar: ERROR 1064 (42000) ...), or a
# bare severity (a client reading stdin). Any other line continues a quoted statement or row.
TOOL_LINE = re.compile(r"(pg_restore|psql|mariadb|mysql|tar|sh|cat|gzip|zstd|sqlite3):|ERROR \d+ "
                       r"|(ERROR|FATAL|PANIC|WARNING):")
MAX_LINE = 200
MAX_LINES = 5


def tool_output(output: str, count: int = MAX_LINES) -> str:
    """The last `count` lines of a restore tool's output that say where and what failed,
    without the data: `pg_restore: from TOC entry 3335; 0 16386 TABLE DATA public patients
    postgres | pg_restore: error: COPY failed for table …: ERROR`."""
    kept = [line for line in map(safe_line, output.splitlines()) if line]
    return " | ".join(kept[-count:]) or "no output"


def safe_line(line: str) -> str:
    """One line of a tool's output, cut to its structure; '' if nothing of it may be kept."""
    if QUOTING_LINES.match(line) or not TOOL_LINE.match(line.strip()):
        return ""
    line = line.strip()
    mariadb = MARIADB_ERROR.match(line)
    if mariadb:
        return mariadb.group(1)
    return cut_server_message(masked(line))[:MAX_LINE]


def cut_server_message(text: str) -> str:
    """`text` up to its severity marker, with the SQLSTATE that may follow it (psql's
    VERBOSITY=sqlstate), the server's words dropped."""
    marker = SEVERITY.search(text)
    if not marker:
        return text
    code = SQLSTATE.match(text, marker.end())
    return text[:marker.start()] + marker.group(1) + (f" {code.group(0)}" if code else "")


def error_text(error: Exception | str) -> str:
    """An error raised while reading restored data (DuckDB, a scanner quoting its server), as
    one line that names the kind of error and masks every value: `Conversion Error: Could not
    convert string '…' to INT32`."""
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return cut_server_message(masked(first))[:MAX_LINE]


def masked(text: str) -> str:
    """Every quoted span's content replaced by MASK, its quotes kept: `string '…' to INT32`."""
    return QUOTED.sub(lambda span: span.group(0)[0] + MASK + span.group(0)[0], text)


def printable(text: str, limit: int = 200) -> str:
    """A name read from a backup, a source or a person (a table, a column, a backup's name), safe
    to show on a terminal, in a message or a page: control and formatting characters replaced,
    its length capped."""
    return "".join(c if c.isprintable() else "?" for c in str(text)[:limit]) + ("…" if len(str(text)) > limit else "")
