"""What the site-side snapshots share: a SQL client on pipes, and the tools' output as a stream."""

import os
import subprocess
import threading

from drills.errors import InfrastructureError
from drills import reasons

END = "-- restore-drill: end of result --"
CHUNK = 1024 * 1024


class SqlSession:
    """A database's own client (psql, mariadb) on pipes, one statement at a time: its rows, fields
    split on tabs. `end` is the statement that makes the client print END after a result."""

    def __init__(self, command: list[str], end: str, tool: str, **environment: str):
        self.end, self.tool = end, tool
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True, env={**os.environ, **environment})
        self.errors = collected(self.process.stderr)

    def query(self, sql: str) -> list[list[str]]:
        try:
            self.process.stdin.write(f"{sql.strip().rstrip(';')};\n{self.end}\n")
            self.process.stdin.flush()
        except BrokenPipeError:
            pass
        rows = []
        for line in self.process.stdout:
            if line.rstrip("\n") == END:
                return rows
            rows.append(line.rstrip("\n").split("\t"))
        self.process.wait(timeout=30)
        raise failed(self.tool, self.errors)

    def close(self) -> None:
        """End the transaction (read only: nothing to keep) and the client."""
        if self.process.poll() is None:
            try:
                self.process.communicate("COMMIT;\n", timeout=60)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()


def collected(stream) -> list[str]:
    """The stream's lines, gathered by a thread (so a chatty tool never blocks on a full pipe)."""
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(stream), daemon=True).start()
    return lines


def failed(tool: str, errors: list[str]) -> InfrastructureError:
    said = " | ".join(line.strip() for line in errors[-3:] if line.strip()) or "no message"
    return InfrastructureError(reasons.ERROR_SEAL, f"{tool} failed on the live database: {said}",
                               hint="check the DSN, that the database's client tools are installed, and the role's "
                                    "rights")


def output_of(process: subprocess.Popen, tool: str, first: bytes = b""):
    """`first`, then the process's standard output in chunks; InfrastructureError at the end if it failed."""
    errors = collected(line.decode("utf-8", "replace") for line in process.stderr)
    try:
        if first:
            yield first
        while chunk := process.stdout.read(CHUNK):
            yield chunk
    finally:
        process.stdout.close()
        if process.wait() != 0:
            raise failed(tool, errors)


def started(command: list[str], **environment: str) -> subprocess.Popen:
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, **environment})


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def listed_columns(rows: list[list[str]], dialect) -> dict[str, list[tuple[str, str]]]:
    """Rows of a dialect's `list_columns` (schema, table, column, type) -> table -> its columns."""
    columns: dict[str, list[tuple[str, str]]] = {}
    for schema, table, column, kind in rows:
        columns.setdefault(dialect.name(schema, table), []).append((column, kind))
    return columns
