"""Stream plumbing between the source and the container: metering and decompression.

Nothing here touches the disk: bytes flow from the source's reader through decryption
and decompression as an iterator of chunks, and memory stays at a few chunks.
"""

import gzip
import hashlib
import io
import queue
import threading
import time
import zlib
from typing import Iterator

import zstandard

from drills.errors import BackupProblem

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
PIECE = 1024 * 1024
READ_AHEAD = 4  # pieces in flight between the reading thread and the restore
END = object()


class Meter(io.RawIOBase):
    """A raw reader that hashes and counts what passes, and the seconds spent reading."""

    def __init__(self, raw):
        self.raw, self.sha256, self.bytes, self.seconds = raw, hashlib.sha256(), 0, 0.0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        started = time.perf_counter()
        count = self.raw.readinto(buffer)
        self.seconds += time.perf_counter() - started
        self.sha256.update(memoryview(buffer)[:count])
        self.bytes += count
        return count

    def close(self) -> None:
        self.raw.close()
        super().close()


def decompressed(chunks: Iterator[bytes], max_bytes: int) -> Iterator[bytes]:
    """The chunks, decompressed if they start with gzip or zstd magic, capped at max_bytes.

    Decompressors are read in bounded pieces, so a bomb costs one piece of memory, not more.
    """
    chunks = iter(chunks)
    first = next(chunks, b"")
    reader = io.BufferedReader(ChunkReader(first, chunks), buffer_size=PIECE)
    if first.startswith(GZIP_MAGIC):
        kind, decoder = "gzip", gzip.GzipFile(fileobj=reader, mode="rb")
    elif first.startswith(ZSTD_MAGIC):
        kind, decoder = "zstd", zstandard.ZstdDecompressor().stream_reader(reader, read_size=PIECE)
    else:
        kind, decoder = None, reader
    total = 0
    try:
        while piece := decoder.read(PIECE):
            total += len(piece)
            if total > max_bytes:
                raise BackupProblem(
                    "restore.too_large", f"the backup decompresses to more than {max_bytes:,} bytes",
                    hint="a decompression bomb, or a real backup larger than engine.max_decompressed: "
                         "raise it if the site's data is that big")
            yield piece
    except (OSError, EOFError, zlib.error, zstandard.ZstdError) as error:
        raise BackupProblem("restore.failed", f"the {kind} stream inside the backup is corrupt: {error}",
                            hint="the backup job wrote a damaged archive; check it at the source") from None


class ChunkReader(io.RawIOBase):
    """An iterator of byte chunks seen as a readable raw stream."""

    def __init__(self, first: bytes, rest: Iterator[bytes]):
        self.pending, self.rest = memoryview(first), rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self.pending:
            chunk = next(self.rest, None)
            if chunk is None:
                return 0
            self.pending = memoryview(chunk)
        count = min(len(buffer), len(self.pending))
        buffer[:count] = self.pending[:count]
        self.pending = self.pending[count:]
        return count


def read_ahead(chunks: Iterator[bytes], depth: int = READ_AHEAD) -> Iterator[bytes]:
    """The chunks, pulled by a thread of their own up to `depth` ahead of the consumer, so that
    reading, hashing and decrypting overlap with sending into the container (which waits on
    dockerd). Memory: `depth` chunks. The producer's exception is raised in the consumer; closing
    this generator stops the producer before returning, so nobody reads the source after it."""
    handoff, stop = queue.Queue(maxsize=depth), threading.Event()

    def offer(item) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for chunk in chunks:
                if not offer(chunk):
                    return
            offer(END)
        except BaseException as error:  # handed to the consumer, raised there
            offer(error)

    producer = threading.Thread(target=produce, name="read-ahead", daemon=True)
    producer.start()
    try:
        while (item := handoff.get()) is not END:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        producer.join()
