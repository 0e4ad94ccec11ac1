"""Streamed decryption of the age v1 format (https://age-encryption.org/v1).

Written on `cryptography`'s primitives rather than bound to a native library so that the
plaintext is pulled chunk by chunk (memory stays at one 64 KiB chunk whatever the size),
decryption keeps pace with the `age` CLI, and each failure gets its exact reason code:

- decrypt.wrong_key: no identity opens any recipient stanza of the header;
- decrypt.corrupt: not an age file, a malformed header, a header MAC that does not match,
  a chunk that fails authentication, a truncated file or trailing bytes;
- decrypt.work_factor_too_high: a passphrase file asking for more scrypt memory than allowed.
A byte flipped inside a recipient stanza cannot be told from a wrong key (both only make
the stanza's AEAD fail) and is reported as decrypt.wrong_key.
"""

import hashlib
import hmac
from typing import BinaryIO, Iterator

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from drills.crypto.identities import Stanza
from drills.crypto.primitives import b64decode, hkdf
from drills.errors import BackupProblem

VERSION_LINE = b"age-encryption.org/v1\n"
ARMOR_LINE = b"-----BEGIN AGE ENCRYPTED FILE-----"
CHUNK = 64 * 1024
SEALED_CHUNK = CHUNK + 16
MAX_HEADER_LINE = 1024
MAX_STANZAS = 64


def corrupt(message: str, hint: str = "the backup file is damaged: check the copy at the source, "
                                       "then the backup job that wrote it") -> BackupProblem:
    return BackupProblem("decrypt.corrupt", message, hint)


def decrypt(stream: BinaryIO, identities: list) -> Iterator[bytes]:
    """Yield the plaintext of an age file in chunks of at most 64 KiB.

    `stream` must have `read(n)` and `readline(limit)` (a buffered binary file). Every
    yielded chunk is authenticated; an error is raised before any unauthenticated byte.
    """
    file_key = read_header(stream, identities)
    yield from payload(stream, file_key)


def read_header(stream: BinaryIO, identities: list) -> bytes:
    first = stream.readline(MAX_HEADER_LINE)
    if first != VERSION_LINE:
        raise not_age(first)
    stanzas, mac_line, header_bytes = [], b"", bytearray(first)
    while True:
        line = stream.readline(MAX_HEADER_LINE)
        if line.startswith(b"---"):
            mac_line = line
            header_bytes += b"---"
            break
        if not line.startswith(b"-> ") or len(stanzas) >= MAX_STANZAS:
            raise corrupt("the age header is malformed or truncated")
        header_bytes += line
        stanza, body_lines = parse_stanza(stream, line)
        header_bytes += body_lines
        stanzas.append(stanza)
    file_key = open_file_key(stanzas, identities)
    verify_mac(file_key, bytes(header_bytes), mac_line)
    return file_key


def not_age(first: bytes) -> BackupProblem:
    if not first:
        return corrupt("the backup file is empty")
    if first.startswith(ARMOR_LINE):
        return corrupt("the backup is ASCII-armored (age -a); only binary age files are drilled",
                       hint="have the backup job encrypt without -a (--armor)")
    return corrupt("this is not an age file (its first line is not age-encryption.org/v1)",
                   hint="check that the backup job encrypts with age, and the source's pattern")


def parse_stanza(stream: BinaryIO, line: bytes) -> tuple[Stanza, bytes]:
    """The stanza opened by `line`, and the raw body lines read (they count in the MAC)."""
    words = line[3:].rstrip(b"\n").decode("ascii", "replace").split(" ")
    if not line.endswith(b"\n") or not words[0]:
        raise corrupt("the age header is malformed or truncated")
    raw, body = bytearray(), bytearray()
    while True:
        body_line = stream.readline(MAX_HEADER_LINE)
        raw += body_line
        text = body_line.rstrip(b"\n")
        if not body_line.endswith(b"\n") or len(text) > 64:
            raise corrupt("a stanza body of the age header is malformed or truncated")
        try:
            body += b64decode(text.decode("ascii", "replace"))
        except ValueError:
            raise corrupt("a stanza body of the age header is not valid base64") from None
        if len(text) < 64:
            return Stanza(words[0], words[1:], bytes(body)), bytes(raw)


def open_file_key(stanzas: list[Stanza], identities: list) -> bytes:
    if any(stanza.type == "scrypt" for stanza in stanzas) and len(stanzas) != 1:
        raise corrupt("a passphrase (scrypt) stanza must be the only one in the header")
    for identity in identities:
        for stanza in stanzas:
            try:
                file_key = identity.unwrap(stanza)
            except ValueError:
                raise corrupt(f"the {stanza.type} stanza of the age header is malformed") from None
            if file_key is not None:
                return file_key
    kinds = ", ".join(sorted({stanza.type for stanza in stanzas}))
    raise BackupProblem(
        "decrypt.wrong_key",
        f"none of the configured identities opens this backup (it is encrypted to: {kinds})",
        hint="check the site's decrypt setting: the backup may be encrypted to another or a retired key")


def verify_mac(file_key: bytes, header: bytes, mac_line: bytes) -> None:
    if not mac_line.endswith(b"\n") or not mac_line.startswith(b"--- "):
        raise corrupt("the age header is truncated")
    try:
        claimed = b64decode(mac_line[4:-1].decode("ascii", "replace"))
    except ValueError:
        raise corrupt("the age header's MAC is not valid base64") from None
    expected = hmac.new(hkdf(file_key, salt=b"", info=b"header"), header, hashlib.sha256).digest()
    if not hmac.compare_digest(claimed, expected):
        raise corrupt("the age header was altered (its MAC does not match)")


def payload(stream: BinaryIO, file_key: bytes) -> Iterator[bytes]:
    nonce = stream.read(16)
    if len(nonce) != 16:
        raise corrupt("the backup ends right after its header: it is truncated")
    aead = ChaCha20Poly1305(hkdf(file_key, salt=nonce, info=b"payload"))
    counter, sealed = 0, stream.read(SEALED_CHUNK)
    if not sealed:
        raise corrupt("the backup has a header but no data: it is truncated")
    while True:
        following = stream.read(SEALED_CHUNK) if len(sealed) == SEALED_CHUNK else b""
        last = not following
        try:
            plain = aead.decrypt(counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00"), sealed, None)
        except InvalidTag:
            raise corrupt(chunk_failure(counter, last, len(sealed))) from None
        if last and not plain and counter > 0:
            raise corrupt("the backup ends with an empty chunk, which age never writes")
        yield plain
        if last:
            return
        sealed, counter = following, counter + 1


def chunk_failure(counter: int, last: bool, size: int) -> str:
    where = f"chunk {counter} (near byte {counter * SEALED_CHUNK:,} of the data)"
    if last:
        return f"{where} failed authentication: the file is truncated, altered or has bytes appended"
    return f"{where} failed authentication: the file was altered"
