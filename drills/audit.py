"""The audit journal: who signed in (or failed to), and who viewed or downloaded which report.

One JSON line per event in EVIDENCE/.audit/journal.jsonl (a site id cannot start with a dot),
each holding the sha256 of the line before it, so an edited or deleted line breaks the chain
from there on (`verify`). Lines are written with O_APPEND in one write: dashboards running
side by side never interleave inside a line. Secrets never enter it: no password, no token.
"""

import fcntl
import hashlib
import json
import os
from datetime import datetime, timezone
from pathlib import Path

JOURNAL = Path(".audit") / "journal.jsonl"
TAIL_BYTES = 256 * 1024


class AuditJournal:
    def __init__(self, evidence_root: Path):
        self.path = Path(evidence_root) / JOURNAL

    def record(self, event: str, user: str | None, **details) -> dict:
        """Append one event, e.g. record("report.viewed", "marie", site=..., report=...)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)  # one open file each: threads are serialized too
            entry = {"at": datetime.now(timezone.utc).isoformat(timespec="milliseconds"), "event": event,
                     "user": user, **details, "previous_sha256": self.last_line_digest()}
            os.write(descriptor, (json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n").encode())
        finally:
            os.close(descriptor)
        return entry

    def last_line_digest(self) -> str | None:
        lines = self.tail_lines(4096)
        return hashlib.sha256(lines[-1].encode()).hexdigest() if lines else None

    def newest(self, count: int = 500) -> list[dict]:
        """The newest events, newest first."""
        return [json.loads(line) for line in reversed(self.tail_lines(TAIL_BYTES)[-count:])]

    def tail_lines(self, size: int) -> list[str]:
        try:
            with open(self.path, "rb") as handle:
                end = handle.seek(0, os.SEEK_END)
                handle.seek(max(0, end - size))
                lines = handle.read().decode("utf-8", errors="replace").splitlines()
        except FileNotFoundError:
            return []
        return lines[1:] if end > size and len(lines) > 1 else lines

    def count(self) -> int:
        try:
            with open(self.path, "rb") as handle:
                return sum(1 for _ in handle)
        except FileNotFoundError:
            return 0

    def verify(self) -> list[int]:
        """Line numbers (1-based) whose link to the line before is broken."""
        broken, previous = [], None
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        for number, line in enumerate(lines, start=1):
            try:
                claimed = json.loads(line).get("previous_sha256")
            except ValueError:
                claimed = "unreadable"
            if claimed != previous:
                broken.append(number)
            previous = hashlib.sha256(line.encode()).hexdigest()
        return broken
