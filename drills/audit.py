"""The audit journal: who signed in (or failed to), and who viewed or downloaded which report.

One JSON line per event in EVIDENCE/.audit/journal.jsonl (a site id cannot start with a dot),
each holding the sha256 of the whole line before it (its bytes, up to and without the `\\n`),
so an edited, inserted or deleted line breaks the chain from there on (`problems`, `verify`).

Writing a line: under an exclusive lock of the file (dashboards and `drill` commands running
side by side take turns), the line before is read back whole, the new line goes out in one
O_APPEND write and is fsynced before `record` returns. Text fields are capped at
MAX_FIELD_CHARS (the entry says which, and their length) and a line stays under
MAX_LINE_BYTES: whatever a person types, an event is journaled whole or not at all.

A crash can still cut the last line (power lost in the middle of a write). `problems` names it
`cut`; the next writer ends it with a `\\n`, links to it as to any line and says so
(`previous_line_cut`), so one lost event never breaks the lines before or after it.
Secrets never enter the journal: no password, no token.
"""

import fcntl
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from drills.durable import sync_directory, write_all

JOURNAL = Path(".audit") / "journal.jsonl"
TAIL_BYTES = 256 * 1024
MAX_FIELD_CHARS = 256
MAX_LINE_BYTES = 4096  # a page: an event names things (users, sites, reports), it never holds documents
READ_BLOCK = 4096


@dataclass(frozen=True)
class Problem:
    """A line of the journal that cannot be trusted. `kind` is `cut` (the line has no end: a
    crash while it was written), `unreadable` (not a JSON object: edited) or `unlinked` (it does
    not hold the sha256 of the line before: that line was edited, inserted or deleted)."""

    line: int
    kind: str


class AuditJournal:
    def __init__(self, evidence_root: Path):
        self.path = Path(evidence_root) / JOURNAL

    def record(self, event: str, user: str | None, **details) -> dict:
        """Append one event, e.g. record("report.viewed", "marie", site=..., report=...).
        Raises ValueError, before writing anything, if the line would still exceed
        MAX_LINE_BYTES with its text fields capped (a caller passing whole documents)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        created = not self.path.exists()
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o640)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)  # one open file each: threads are serialized too
            previous, ended = last_line(descriptor)
            entry = capped({"at": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
                            "event": event, "user": user, **details})
            entry["previous_sha256"] = digest(previous) if previous is not None else None
            if not ended:
                entry["previous_line_cut"] = True
            write_all(descriptor, (b"" if ended else b"\n") + encoded(entry))
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        if created:
            sync_directory(self.path.parent)
        return entry

    def newest(self, count: int = 500) -> list[dict]:
        """The newest readable events, newest first (a cut or edited line is left out here:
        `problems` names it)."""
        events = [event for event in map(parsed, self.tail_lines(TAIL_BYTES)) if event is not None]
        return events[::-1][:count]

    def tail_lines(self, size: int) -> list[bytes]:
        try:
            with open(self.path, "rb") as handle:
                end = handle.seek(0, os.SEEK_END)
                handle.seek(max(0, end - size))
                lines = handle.read().split(b"\n")
        except FileNotFoundError:
            return []
        return [line for line in (lines[1:] if end > size else lines) if line]

    def count(self) -> int:
        try:
            with open(self.path, "rb") as handle:
                return sum(1 for _ in handle)
        except FileNotFoundError:
            return 0

    def size(self) -> int:
        """The journal's length in bytes (0 if there is none yet)."""
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    def read(self) -> bytes:
        """The whole journal, never with a line half written (b"" if there is none yet)."""
        try:
            with open(self.path, "rb") as handle:
                fcntl.flock(handle, fcntl.LOCK_SH)  # a line being written is not taken for a cut one
                return handle.read()
        except FileNotFoundError:
            return b""

    def problems(self) -> list[Problem]:
        """Every line that breaks the chain, each named, in order."""
        return chain_problems(self.read())

    def verify(self) -> list[int]:
        """Line numbers (1-based) that break the chain: see `problems` for why each does."""
        return [problem.line for problem in self.problems()]


def chain_problems(data: bytes) -> list[Problem]:
    """Every line of the journal's bytes that breaks the chain, each named, in order."""
    lines = journal_lines(data)
    entries = [parsed(line) for line in lines]
    found, previous = [], None
    for index, (line, entry) in enumerate(zip(lines, entries)):
        following = entries[index + 1] if index + 1 < len(entries) else None
        if (index == len(lines) - 1 and not data.endswith(b"\n")) or \
                (following is not None and following.get("previous_line_cut") is True):
            found.append(Problem(index + 1, "cut"))
        elif entry is None:
            found.append(Problem(index + 1, "unreadable"))
        elif entry.get("previous_sha256") != previous:
            found.append(Problem(index + 1, "unlinked"))
        previous = digest(line)
    return found


def journal_lines(data: bytes) -> list[bytes]:
    """The lines of the journal's bytes: split on `\\n` only (never on the other line breaks
    Unicode knows, which a JSON string may hold), the last one kept even if it has no end."""
    if not data:
        return []
    return (data[:-1] if data.endswith(b"\n") else data).split(b"\n")


def last_line(descriptor: int) -> tuple[bytes | None, bool]:
    """The file's last line, read back whole however long, and whether it ends with `\\n`."""
    size = os.fstat(descriptor).st_size
    if size == 0:
        return None, True
    ended = os.pread(descriptor, 1, size - 1) == b"\n"
    end = size - 1 if ended else size
    start, tail = end, b""
    while start > 0 and b"\n" not in tail:
        step = min(READ_BLOCK, start)
        start -= step
        tail = os.pread(descriptor, step, start) + tail
    return tail.rsplit(b"\n", 1)[-1], ended


def capped(entry: dict) -> dict:
    """The entry with each text field longer than MAX_FIELD_CHARS cut there, and `capped`
    giving the original length of each field cut."""
    lengths = {key: len(value) for key, value in entry.items()
               if isinstance(value, str) and len(value) > MAX_FIELD_CHARS}
    cut = {key: entry[key][:MAX_FIELD_CHARS] for key in lengths}
    return {**entry, **cut, "capped": lengths} if lengths else entry


def encoded(entry: dict) -> bytes:
    # A lone surrogate (from a JSON escape) is written back as its escape: the line stays UTF-8.
    line = json.dumps(entry, ensure_ascii=False, sort_keys=True).encode(errors="backslashreplace") + b"\n"
    if len(line) > MAX_LINE_BYTES:
        raise ValueError(f"audit event {entry['event']!r} would take {len(line)} bytes, over the journal's "
                         f"{MAX_LINE_BYTES}: journal identifiers, not documents")
    return line


def parsed(line: bytes) -> dict | None:
    try:
        entry = json.loads(line)
    except ValueError:
        return None
    return entry if isinstance(entry, dict) else None


def digest(line: bytes) -> str:
    return hashlib.sha256(line).hexdigest()
