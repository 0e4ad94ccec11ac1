"""The ASCII armor of age files (`age -a`), decoded as a stream (https://age-encryption.org/v1).

The armor is strict PEM: a `-----BEGIN AGE ENCRYPTED FILE-----` line, the age file in padded,
canonical base64 wrapped at 64 columns (every line full but the last, which may be full too),
then `-----END AGE ENCRYPTED FILE-----`. Lines end with LF or CRLF. Only whitespace may come
before and after the block, at most 1 KiB of it, as the reference implementation allows;
anything else (headers, blank or indented lines, a PGP checksum, trailing text) is refused,
since a lenient parser would make the file malleable.

Full lines are checked and decoded by the block (one regular expression over up to 64 KiB),
the rest one line at a time: memory stays at one block whatever the size of the file.
"""

import base64
import binascii
import io
import re
from typing import BinaryIO

from drills.errors import BackupProblem
from drills import reasons

BEGIN = b"-----BEGIN AGE ENCRYPTED FILE-----"
END = b"-----END AGE ENCRYPTED FILE-----"
COLUMNS = 64
MAX_WHITESPACE = 1024  # before and after the block
BLOCK = 64 * 1024
FULL_LINES = re.compile(rb"(?:[A-Za-z0-9+/]{64}\r?\n)*")


def corrupt(message: str) -> BackupProblem:
    return BackupProblem(reasons.DECRYPT_CORRUPT, f"the ASCII armor of the backup {message}",
                         "the backup file is damaged: check the copy at the source, "
                         "then the backup job that wrote it")


def starts_armor(first_line: bytes) -> bool:
    """Whether a file whose first line is `first_line` can only be an armored age file."""
    return first_line.startswith(b"-----") or (first_line != b"" and not first_line.strip())


class ArmorReader(io.RawIOBase):
    """The binary age file inside an armored one; `first_line` was already read from `stream`."""

    def __init__(self, stream: BinaryIO, first_line: bytes):
        self.stream, self.text, self.at_eof = stream, first_line, False
        self.decoded, self.started, self.ended, self.size = memoryview(b""), False, False, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self.decoded and not self.ended:
            self.decoded = memoryview(self.decode_more())
            self.size += len(self.decoded)
        size = min(len(buffer), len(self.decoded))
        buffer[:size] = self.decoded[:size]
        self.decoded = self.decoded[size:]
        return size

    def decode_more(self) -> bytes:
        if not self.started:
            self.begin()
        if len(self.text) < BLOCK and not self.at_eof:
            self.fill()
        full = FULL_LINES.match(self.text).end()
        if full:
            lines, self.text = self.text[:full], self.text[full:]
            return binascii.a2b_base64(lines.translate(None, b"\r\n"))
        return self.last_line()

    def begin(self) -> None:
        skipped, not_begin = 0, "does not start with a -----BEGIN AGE ENCRYPTED FILE----- line"
        while not (line := self.line(MAX_WHITESPACE, too_long=not_begin)).strip():
            skipped += len(line) + 1
            if skipped > MAX_WHITESPACE:
                raise corrupt("starts with more than 1 KiB of whitespace")
        if line != BEGIN:
            raise corrupt(not_begin)
        self.started = True

    def last_line(self) -> bytes:
        """The line after the full ones: a shorter (or padded) last line then END, or END."""
        line = self.line()
        if line == END:
            if not self.size:
                raise corrupt("holds no data")
            self.end()
            return b""
        if line != line.strip():
            raise corrupt("has a line with whitespace around it")
        if not line:
            raise corrupt("has an empty line")
        if len(line) > COLUMNS:
            raise corrupt(f"has a line longer than {COLUMNS} columns")
        try:
            data = binascii.a2b_base64(line, strict_mode=True)
        except binascii.Error:
            raise corrupt("has a line that is not valid padded base64") from None
        if base64.b64encode(data) != line:
            raise corrupt("has a line that is not canonical base64")
        if (line := self.line()) != END:
            raise corrupt("does not end with a -----END AGE ENCRYPTED FILE----- line" if line.startswith(b"-----")
                          else f"has a line shorter than {COLUMNS} columns that is not its last")
        self.end()
        return data

    def end(self) -> None:
        while not self.at_eof and len(self.text) <= MAX_WHITESPACE:
            self.fill()
        if self.text.strip():
            raise corrupt("is followed by other data")
        if len(self.text) >= MAX_WHITESPACE:
            raise corrupt("is followed by more than 1 KiB of whitespace")
        self.ended = True

    def line(self, limit: int = COLUMNS + 1, too_long: str = f"has a line longer than {COLUMNS} columns") -> bytes:
        """The next line without its LF or CRLF (at most `limit` characters before them)."""
        while b"\n" not in self.text[:limit + 2] and not self.at_eof and len(self.text) <= limit + 1:
            self.fill()
        end = self.text.find(b"\n", 0, limit + 2)
        if end < 0:
            if not self.text:
                raise corrupt("ends before its END line: the file is truncated")
            end = len(self.text)
        line, self.text = self.text[:end], self.text[end + 1:]
        line = line[:-1] if line.endswith(b"\r") else line
        if len(line) > limit:
            raise corrupt(too_long)
        return line

    def fill(self) -> None:
        more = self.stream.read(BLOCK)
        self.at_eof = not more
        self.text += more
