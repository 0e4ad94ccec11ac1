"""Files handed to a restore container as one tar stream, its size known before the first byte
(the meter checks that every byte came), each file exactly the size the listing gave: a file
that changed since is an error of the source, never a spliced stream."""

import tarfile
from typing import Callable, Iterator

from drills.errors import InfrastructureError
from drills import reasons

BLOCK = 512
PIECE = 1024 * 1024


def header(name: str, size: int) -> bytes:
    """The member's header (a PAX header first for a long name): fixed owner, mode and time, so the
    same files always make the same stream, and its hash names them."""
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o600, 0
    return info.tobuf(format=tarfile.PAX_FORMAT)


def padding(size: int) -> int:
    return -size % BLOCK


def stream_size(members: list[tuple[str, int]]) -> int:
    """The stream's bytes for members (name, size): headers, contents, padding, two end blocks."""
    return sum(len(header(name, size)) + size + padding(size) for name, size in members) + 2 * BLOCK


def tar_stream(members: list[tuple[str, int, Callable]]) -> Iterator[bytes]:
    """The tar of members (name, size, open): each file read as it is sent, one piece at a time."""
    for name, size, opener in members:
        yield header(name, size)
        sent = 0
        with opener() as source:
            while sent < size and (piece := source.read(min(PIECE, size - sent))):
                sent += len(piece)
                yield piece
            grown = sent == size and source.read(1)
        if sent != size or grown:
            raise InfrastructureError(reasons.ERROR_SOURCE, f"{name} changed while it was read "
                                                            f"({sent:,} bytes of {size:,})",
                                      hint="a backup or an expiry ran meanwhile: the next drill reads it whole")
        yield bytes(padding(size))
    yield bytes(2 * BLOCK)


class StreamReader:
    """A raw reader over an iterator of chunks (what the pipeline's meter reads)."""

    def __init__(self, chunks: Iterator[bytes]):
        self.chunks, self.pending = chunks, b""

    def readinto(self, buffer) -> int:
        while not self.pending:
            self.pending = next(self.chunks, None)
            if self.pending is None:
                self.pending = b""
                return 0
        count = min(len(buffer), len(self.pending))
        memoryview(buffer)[:count] = self.pending[:count]
        self.pending = memoryview(self.pending)[count:]
        return count

    def close(self) -> None:
        self.chunks.close()
