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
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import zstandard

from drills.errors import BackupProblem
from drills import reasons

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
PIECE = 1024 * 1024
MAX_LINE = 64 * 1024 * 1024  # longer than any line pg_dump or mysqldump (max_allowed_packet) writes
READ_AHEAD = 4  # pieces in flight between the reading thread and the restore
END = object()
PRODUCER_GRACE = 5.0  # seconds a stopped drill waits for a source read stuck in the network


class Meter(io.RawIOBase):
    """A raw reader that hashes and counts what passes, and the seconds spent reading; `sha256`, if
    given, goes on hashing what other readers passed before (files hashed in order as one).

    `hash_aside`: each piece is hashed by a thread of its own while the reader goes on with the
    next (SHA-256 releases the GIL), one piece at a time, in order: on the benchmark host the hash
    (1.3 GB/s) cost more than decrypting (2.6 GB/s), and a dump that must be whole before its
    restore starts waits for both."""

    def __init__(self, raw, sha256=None, hash_aside: bool = False):
        self.raw, self.hash, self.bytes, self.seconds = raw, sha256 or hashlib.sha256(), 0, 0.0
        self.hasher = ThreadPoolExecutor(1, thread_name_prefix="meter-hash") if hash_aside else None
        self.hashing = None  # the piece being hashed aside

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        started = time.perf_counter()
        count = self.raw.readinto(buffer)
        self.seconds += time.perf_counter() - started
        if self.hasher is None:
            self.hash.update(memoryview(buffer)[:count])
        else:
            piece = bytes(memoryview(buffer)[:count])  # the caller reuses its buffer
            self.settle()
            self.hashing = self.hasher.submit(self.hash.update, piece)
        self.bytes += count
        return count

    def settle(self) -> None:
        """Wait for the piece being hashed aside, if any."""
        if self.hashing is not None:
            self.hashing.result()
            self.hashing = None

    @property
    def sha256(self):
        """The hash of every byte read so far."""
        self.settle()
        return self.hash

    def close(self) -> None:
        if self.hasher is not None:
            self.settle()
            self.hasher.shutdown()
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
                    reasons.RESTORE_TOO_LARGE, f"the backup decompresses to more than {max_bytes:,} bytes",
                    hint="a decompression bomb, or a real backup larger than engine.max_decompressed: "
                         "raise it if the site's data is that big")
            yield piece
    except (OSError, EOFError, zlib.error, zstandard.ZstdError) as error:
        raise BackupProblem(reasons.RESTORE_FAILED, f"the {kind} stream inside the backup is corrupt: {error}",
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


def whole_line_blocks(chunks: Iterator[bytes], max_line: int = MAX_LINE) -> Iterator[bytes]:
    """The chunks regrouped to end where a line ends, for filters that judge a dump line by line:
    each block is whole lines (the last block may hold the stream's final line without its
    newline: a client runs it too). A line is held back until it is whole, gathered in linear
    time, and never longer than `max_line`: an endless line is refused, not gathered."""
    parts, size = [], 0
    for chunk in chunks:
        cut = chunk.rfind(b"\n") + 1
        if cut:
            if size + chunk.find(b"\n") > max_line:  # the held-back line, now whole
                raise line_too_long(max_line)
            yield b"".join([*parts, chunk[:cut]]) if parts else chunk[:cut]
            parts, size = [], 0
        if cut < len(chunk):
            parts.append(chunk[cut:])
            size += len(chunk) - cut
            if size > max_line:
                raise line_too_long(max_line)
    if parts:
        yield b"".join(parts)


def whole_lines(chunks: Iterator[bytes], max_line: int = MAX_LINE) -> Iterator[tuple[list[bytes], bool]]:
    """The same blocks cut into lines: (lines without their newline, whether the last one had one)."""
    for block in whole_line_blocks(chunks, max_line):
        lines = block.split(b"\n")
        terminated = block.endswith(b"\n")
        yield (lines[:-1] if terminated else lines), terminated


def line_too_long(max_line: int) -> BackupProblem:
    return BackupProblem(reasons.RESTORE_FAILED, f"the dump has a line longer than {max_line:,} bytes: refused, "
                                                 "not gathered into memory",
                         hint="not a dump written by pg_dump or mysqldump, or a damaged one: check the backup job")


def read_ahead(chunks: Iterator[bytes], depth: int = READ_AHEAD, stop: threading.Event | None = None) -> Iterator[bytes]:
    """The chunks, pulled by a thread of their own up to `depth` ahead of the consumer, so that
    reading, hashing and decrypting overlap with sending into the container (which waits on
    dockerd). Memory: `depth` chunks. The producer's exception is raised in the consumer; closing
    this generator stops the producer before returning, so nobody reads the source after it.
    Once `stop` is set (the drill's watchdog fired), the consumer stops waiting: `Stopped`."""
    handoff, stopping = queue.Queue(maxsize=depth), threading.Event()
    stop = stop or threading.Event()

    def offer(item) -> bool:
        while not stopping.is_set():
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
        while (item := next_item(handoff, stop)) is not END:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stopping.set()
        producer.join(timeout=None if not stop.is_set() else PRODUCER_GRACE)


def next_item(handoff: queue.Queue, stop: threading.Event):
    while True:
        try:
            return handoff.get(timeout=0.1)
        except queue.Empty:
            if stop.is_set():
                raise Stopped("the drill was stopped while its backup was read") from None


class Stopped(Exception):
    """Raised where a stream notices that its drill was stopped (its watchdog fired)."""


@dataclass
class Phases:
    """Seconds spent in each phase (name -> seconds), each measured by `measure(phase)`."""
    seconds: dict[str, float]

    @contextmanager
    def measure(self, phase: str):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[phase] += time.perf_counter() - started


@dataclass
class Stopwatch:
    """Seconds spent inside `running()`, added up."""
    seconds: float = 0.0

    @contextmanager
    def running(self):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds += time.perf_counter() - started


def timed(chunks, stopwatch: Stopwatch):
    """The chunks, with the time spent getting each one added to `stopwatch`."""
    iterator = iter(chunks)
    while True:
        with stopwatch.running():
            chunk = next(iterator, None)
        if chunk is None:
            return
        yield chunk


def pieces(reader) -> Iterator[bytes]:
    """A reader's bytes as chunks (a backup that is not an age file: pgBackRest's)."""
    while piece := reader.read(PIECE):
        yield piece


def drain(reader) -> None:
    while reader.read(1024 * 1024):
        pass
