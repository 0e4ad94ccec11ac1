"""The files a documents archive's manifest lists, kept in an SQLite database rather than as
Python objects: the drill's memory stays flat whether the archive holds ten thousand files or a
million. The database lies in the drill's work directory (a memory filesystem, removed at
teardown: file names can name patients), or in memory for a manifest read apart (`drill seal`).

    files(path BLOB PRIMARY KEY, size INTEGER, sha256 BLOB, seen INTEGER)

A path is kept as its UTF-8 bytes (surrogates passed through: a file name that is not UTF-8, as
Python reads it from the disk and JSON writes it, keeps its bytes), so that SQLite's order of
paths is Python's order of the same strings.
"""

import re
import sqlite3
from collections.abc import Iterator
from typing import Iterable, NamedTuple

from drills.json_stream import top_level
from drills.redaction import printable

CACHE_KIB = 2048  # SQLite's page cache: the database itself is read from the memory filesystem


class FileEntry(NamedTuple):
    """A file of a documents archive's manifest, as the drill keeps it."""
    size: int
    sha256: bytes  # the 32-byte digest


class DuplicatePath(ValueError):
    """Raised when the manifest lists the same path twice (or its files twice)."""


class BadEntry(ValueError):
    """Raised at the first entry of the files object that is not {size, sha256}."""


def key(path: str) -> bytes:
    return path.encode("utf-8", "surrogatepass")


class ExpectedFiles:
    """What the files check needs of the manifest's list: each file taken as the walk finds it,
    then the files never taken (missing), with the count and bytes of the whole list."""

    def __init__(self, connection: sqlite3.Connection):
        self.connection = connection
        self.count, self.bytes = connection.execute("SELECT count(*), coalesce(sum(size), 0) FROM files").fetchone()

    @classmethod
    def stored(cls, entries: Iterable[tuple[str, FileEntry]], database: str = ":memory:") -> "ExpectedFiles":
        """The entries stored in a new database at `database` (a file path, or ":memory:");
        DuplicatePath if a path comes twice."""
        connection = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
        try:
            connection.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
            connection.execute("PRAGMA journal_mode = OFF")
            connection.execute("PRAGMA synchronous = OFF")
            connection.execute("PRAGMA temp_store = MEMORY")  # never a temporary file in TMPDIR (disk)
            connection.execute("CREATE TABLE files (path BLOB PRIMARY KEY, size INTEGER, sha256 BLOB, seen INTEGER)")
            connection.execute("BEGIN")
            for path, entry in entries:
                try:
                    connection.execute("INSERT INTO files VALUES (?, ?, ?, 0)", (key(path), entry.size, entry.sha256))
                except sqlite3.IntegrityError:
                    raise DuplicatePath(f"lists the file {printable(path)!r} twice") from None
            connection.execute("COMMIT")
            return cls(connection)
        except BaseException:
            connection.close()
            raise

    def take(self, path: str) -> FileEntry | None:
        """The entry of `path` if listed and not taken yet, marked taken; else None."""
        row = self.connection.execute("UPDATE files SET seen = 1 WHERE path = ? AND seen = 0 RETURNING size, sha256",
                                      (key(path),)).fetchone()
        return FileEntry(*row) if row else None

    def missing(self, limit: int) -> tuple[int, list[str]]:
        """(how many listed files were never taken, the first `limit` of them in the order of paths)."""
        (count,) = self.connection.execute("SELECT count(*) FROM files WHERE seen = 0").fetchone()
        rows = self.connection.execute("SELECT path FROM files WHERE seen = 0 ORDER BY path LIMIT ?", (limit,))
        return count, [path.decode("utf-8", "surrogatepass") for (path,) in rows]

    def items(self):
        """(path, FileEntry) of every listed file, in the order of paths."""
        for path, size, sha256 in self.connection.execute("SELECT path, size, sha256 FROM files ORDER BY path"):
            yield path.decode("utf-8", "surrogatepass"), FileEntry(size, sha256)

    def close(self) -> None:
        self.connection.close()


def document_with_files(text, database: str, max_member: int):
    """The JSON document of the text file `text`, read member by member (drills.json_stream, no member
    but `files` larger than `max_member`). Its top-level `files`, if an object, is stored in `database`
    entry by entry and given as ExpectedFiles, or as the list of the paths whose entries are not
    {size, sha256} if any is not. ValueError (DuplicatePath, TooLarge among them) or
    UnicodeDecodeError if it is not such a document."""
    document, files = {}, None
    try:
        for name, value in top_level(text, "files", max_member):
            if isinstance(value, Iterator):  # the files object's members, one by one
                if files is not None:
                    raise DuplicatePath("lists its files twice")
                files = value = ExpectedFiles.stored(file_entries(value), database)
            if name is None:  # a document that is not an object
                document = value
            else:
                document[name] = value
        return document
    finally:
        if files is not None and not (isinstance(document, dict) and document.get("files") is files):
            files.close()


def file_entries(members):
    """(path, FileEntry) of each member of the files object; BadEntry at the first that is not one."""
    for path, entry in members:
        if not valid_file_entry(entry):
            raise BadEntry("maps a path to what is not {size, sha256}: its files must map paths to {size, sha256}")
        yield path, FileEntry(entry["size"], bytes.fromhex(entry["sha256"]))


def valid_file_entry(entry) -> bool:
    return (isinstance(entry, dict) and type(entry.get("size")) is int and 0 <= entry["size"] < 2**63
            and isinstance(entry.get("sha256"), str) and re.fullmatch(r"[0-9a-f]{64}", entry["sha256"]) is not None)
