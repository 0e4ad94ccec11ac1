"""Streamed decryption of the age v1 format (https://age-encryption.org/v1).

Written on `cryptography`'s primitives rather than bound to a native library so that the
plaintext is pulled chunk by chunk (memory stays at one 64 KiB chunk whatever the size),
decryption keeps pace with the `age` CLI, and each failure gets its exact reason code:

- decrypt.wrong_key: no identity opens any recipient stanza of the header;
- decrypt.corrupt: not an age file, a malformed header or ASCII armor (a stanza the spec says
  to reject included), a header MAC that does not match, a chunk that fails authentication,
  a truncated file or trailing bytes;
- decrypt.work_factor_too_high: a passphrase file asking for more scrypt memory than allowed.
A byte flipped inside a recipient stanza that leaves it well-formed cannot be told from a wrong
key (both only make the stanza's AEAD fail) and is reported as decrypt.wrong_key.
Armored files (`age -a`) are decoded on the fly (drills.crypto.armor). Conformance is measured on
the C2SP/CCTV test vectors (tests/unit/test_age_vectors.py).
"""

import hashlib
import hmac
import io
import re
from itertools import count
from typing import BinaryIO, Iterator

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from drills.crypto import armor
from drills.crypto.identities import Stanza
from drills.crypto.primitives import b64decode, hkdf
from drills.errors import BackupProblem
from drills import reasons

VERSION_LINE = b"age-encryption.org/v1\n"
CHUNK = 64 * 1024
SEALED_CHUNK = CHUNK + 16
MAX_HEADER_LINE = 4096  # a post-quantum stanza's argument line is about 1.5 KB
MAX_HEADER = 256 * 1024
MAX_STANZAS = 64
ARGUMENT = re.compile(rb"[\x21-\x7e]+")  # printable ASCII but space


def corrupt(message: str, hint: str = "the backup file is damaged: check the copy at the source, "
                                       "then the backup job that wrote it") -> BackupProblem:
    return BackupProblem(reasons.DECRYPT_CORRUPT, message, hint)


def decrypt(stream: BinaryIO, identities: list) -> Iterator[bytes]:
    """Yield the plaintext of an age file, binary or armored, in chunks of at most 64 KiB.

    `stream` must have `read(n)` and `readline(limit)` (a buffered binary file). Every
    yielded chunk is authenticated; an error is raised before any unauthenticated byte.
    """
    first = stream.readline(MAX_HEADER_LINE)
    if armor.starts_armor(first):
        stream = io.BufferedReader(armor.ArmorReader(stream, first), buffer_size=CHUNK)
        first = stream.readline(MAX_HEADER_LINE)
    file_key = read_header(stream, first, identities)
    yield from payload(stream, file_key)


def read_header(stream: BinaryIO, first: bytes, identities: list) -> bytes:
    if first != VERSION_LINE:
        raise not_age(first)
    header, stanzas = bytearray(first), []
    while not (line := header_line(stream)).startswith(b"---"):
        if len(stanzas) == MAX_STANZAS:
            raise corrupt(f"the age header has more than {MAX_STANZAS} recipient stanzas")
        stanza, raw = parse_stanza(stream, line)
        stanzas.append(stanza)
        header += raw
        if len(header) > MAX_HEADER:
            raise corrupt(f"the age header is larger than {MAX_HEADER // 1024} KiB")
    mac = parse_mac(line)
    if not stanzas:
        raise corrupt("the age header has no recipient stanza")
    file_key = open_file_key(stanzas, identities)
    verify_mac(file_key, bytes(header + b"---"), mac)
    return file_key


def not_age(first: bytes) -> BackupProblem:
    if not first:
        return corrupt("the backup file is empty")
    if first == VERSION_LINE[:-1] + b"\r\n":
        return corrupt("the age header has Windows line ends (CRLF): the file was converted as text",
                       hint="have the backup job and its transfers handle the file as binary")
    if first.startswith(b"age-encryption.org/"):
        return corrupt("the age file is of another version than v1, which is the only one there is")
    return corrupt("this is not an age file (its first line is not age-encryption.org/v1)",
                   hint="check that the backup job encrypts with age, and the source's pattern")


def header_line(stream: BinaryIO) -> bytes:
    line = stream.readline(MAX_HEADER_LINE)
    if not line.endswith(b"\n"):
        if len(line) == MAX_HEADER_LINE:
            raise corrupt(f"the age header has a line longer than {MAX_HEADER_LINE} bytes")
        raise corrupt("the age header is truncated")
    return line


def parse_stanza(stream: BinaryIO, line: bytes) -> tuple[Stanza, bytes]:
    """The stanza opened by `line`, and its raw lines (they count in the MAC)."""
    if not line.startswith(b"-> "):
        raise corrupt("the age header has a line that is neither a recipient stanza nor its MAC")
    words = line[3:-1].split(b" ")
    if not all(ARGUMENT.fullmatch(word) for word in words):
        raise corrupt("a recipient stanza of the age header has an empty or non-printable argument")
    raw, body = bytearray(line), bytearray()
    while True:
        body_line = header_line(stream)
        raw += body_line
        if len(raw) > MAX_HEADER:
            raise corrupt(f"the age header is larger than {MAX_HEADER // 1024} KiB")
        text = body_line[:-1]
        if text.startswith((b"->", b"---")):
            raise corrupt("a recipient stanza of the age header lacks its last, shorter body line")
        if len(text) > 64:
            raise corrupt("a stanza body of the age header has a line longer than 64 columns")
        try:
            body += b64decode(text.decode("ascii"))
        except ValueError:  # UnicodeDecodeError included
            raise corrupt("a stanza body of the age header is not canonical unpadded base64") from None
        if len(text) < 64:
            type_, *args = (word.decode("ascii") for word in words)
            return Stanza(type_, args, bytes(body)), bytes(raw)


def parse_mac(line: bytes) -> bytes:
    if not line.startswith(b"--- "):
        raise corrupt("the age header's MAC line is malformed")
    try:
        mac = b64decode(line[4:-1].decode("ascii"))
    except ValueError:  # UnicodeDecodeError included
        raise corrupt("the age header's MAC is not valid base64") from None
    if len(mac) != 32:
        raise corrupt("the age header's MAC is not 32 bytes long")
    return mac


def open_file_key(stanzas: list[Stanza], identities: list) -> bytes:
    if any(stanza.type == "scrypt" for stanza in stanzas) and len(stanzas) != 1:
        raise corrupt("a passphrase (scrypt) stanza must be the only one in the header")
    for identity in identities:
        for stanza in stanzas:
            try:
                file_key = identity.unwrap(stanza)
            except ValueError as error:  # the reasons are our own fixed texts
                raise corrupt(f"the {stanza.type} stanza of the age header is malformed: {error}") from None
            if file_key is not None:
                return file_key
    kinds = ", ".join(sorted({stanza.type[:32] for stanza in stanzas})[:8])
    raise BackupProblem(
        reasons.DECRYPT_WRONG_KEY,
        f"none of the configured identities opens this backup (it is encrypted to: {kinds})",
        hint="check the site's decrypt setting: the backup may be encrypted to another or a retired key")


def verify_mac(file_key: bytes, header: bytes, claimed: bytes) -> None:
    expected = hmac.new(hkdf(file_key, salt=b"", info=b"header"), header, hashlib.sha256).digest()
    if not hmac.compare_digest(claimed, expected):
        raise corrupt("the age header was altered (its MAC does not match)")


def payload(stream: BinaryIO, file_key: bytes) -> Iterator[bytes]:
    """Each chunk as soon as it authenticates: a full one is final only if it fails as non-final."""
    nonce = stream.read(16)
    if len(nonce) != 16:
        raise corrupt("the backup ends right after its header: it is truncated")
    aead = ChaCha20Poly1305(hkdf(file_key, salt=nonce, info=b"payload"))
    for counter in count():
        sealed = stream.read(SEALED_CHUNK)
        if not sealed:
            raise corrupt(f"the backup ends after chunk {counter - 1} without a final chunk: it is truncated"
                          if counter else "the backup has a header but no data: it is truncated")
        if len(sealed) == 16 and counter > 0:
            raise corrupt("the backup ends with an empty chunk, which age never writes")
        plain, last = open_chunk(aead, counter, sealed)
        yield plain
        if last:
            if stream.read(1):
                raise corrupt("the backup has bytes after its final chunk: something was appended to it")
            return


def open_chunk(aead: ChaCha20Poly1305, counter: int, sealed: bytes) -> tuple[bytes, bool]:
    """(plaintext, whether the chunk is the final one)."""
    nonce, full = counter.to_bytes(11, "big"), len(sealed) == SEALED_CHUNK
    if full:
        try:
            return aead.decrypt(nonce + b"\x00", sealed, None), False
        except InvalidTag:
            pass
    try:
        return aead.decrypt(nonce + b"\x01", sealed, None), True
    except InvalidTag:
        where = f"chunk {counter} (near byte {counter * SEALED_CHUNK:,} of the data)"
        if full:
            raise corrupt(f"{where} failed authentication: the file was altered") from None
        raise corrupt(f"{where} failed authentication: the file is truncated, altered "
                      "or has bytes appended") from None
