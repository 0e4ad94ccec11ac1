"""Streamed encryption to age X25519 recipients (https://age-encryption.org/v1).

The counterpart of `drills.crypto.age`: what leaves Restore Drill with patient data in it
(a reversibility kit) is encrypted to the recipients' public keys (`age1...`), so that any
age implementation (the `age` CLI, rage, pyrage) opens it with the matching identity.
`AgeWriter` is a write-only binary file: memory stays at one 64 KiB chunk.
"""

import base64
import hashlib
import hmac
import os
from typing import BinaryIO

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from drills.crypto import bech32
from drills.crypto.age import CHUNK, VERSION_LINE
from drills.crypto.identities import ZERO_NONCE
from drills.crypto.primitives import hkdf
from drills.errors import ConfigError
from drills import reasons

X25519_INFO = b"age-encryption.org/v1/X25519"


def parse_recipient(text: str) -> bytes:
    """The 32-byte X25519 public key of an `age1...` recipient; ConfigError otherwise."""
    try:
        hrp, key = bech32.decode(text.strip())
    except ValueError:
        hrp, key = "", b""
    if hrp != "age" or len(key) != 32:
        raise ConfigError(f"{text.strip()[:20]!r} is not an age X25519 recipient (age1...)",
                          hint="give the recipient's public key, as printed by age-keygen -y",
                          code=reasons.CONFIG_BAD_RECIPIENT)
    return key


def b64(data: bytes) -> bytes:
    return base64.b64encode(data).rstrip(b"=")


def x25519_stanza(file_key: bytes, recipient: bytes) -> bytes:
    ephemeral = X25519PrivateKey.generate()
    share = ephemeral.public_key().public_bytes_raw()
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient))
    wrap_key = hkdf(shared, salt=share + recipient, info=X25519_INFO)
    body = ChaCha20Poly1305(wrap_key).encrypt(ZERO_NONCE, file_key, None)
    return b"-> X25519 " + b64(share) + b"\n" + b64(body) + b"\n"  # a 32-byte body fits one line


def header(file_key: bytes, recipients: list[bytes]) -> bytes:
    text = VERSION_LINE + b"".join(x25519_stanza(file_key, recipient) for recipient in recipients) + b"---"
    mac = hmac.new(hkdf(file_key, salt=b"", info=b"header"), text, hashlib.sha256).digest()
    return text + b" " + b64(mac) + b"\n"


class AgeWriter:
    """Encrypts what is written to it into `output`, for every recipient (`age1...` strings).

    Full chunks are sealed as soon as a byte beyond them arrives (only then is a chunk known
    not to be the last); `close()` seals the last one. `output` stays open."""

    def __init__(self, output: BinaryIO, recipients: list[str]):
        if not recipients:
            raise ConfigError("no recipient to encrypt to", code=reasons.CONFIG_BAD_RECIPIENT,
                              hint="name at least one age recipient (age1...)")
        keys = [parse_recipient(recipient) for recipient in recipients]
        file_key, nonce = os.urandom(16), os.urandom(16)
        self.output, self.pending, self.counter, self.closed = output, bytearray(), 0, False
        self.aead = ChaCha20Poly1305(hkdf(file_key, salt=nonce, info=b"payload"))
        output.write(header(file_key, keys) + nonce)

    def write(self, data: bytes) -> int:
        self.pending += data
        while len(self.pending) > CHUNK:
            self.seal(bytes(self.pending[:CHUNK]), last=False)
            del self.pending[:CHUNK]
        return len(data)

    def seal(self, plaintext: bytes, last: bool) -> None:
        nonce = self.counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")
        self.output.write(self.aead.encrypt(nonce, plaintext, None))
        self.counter += 1

    def close(self) -> None:
        if not self.closed:
            self.seal(bytes(self.pending), last=True)
            self.pending.clear()
            self.closed = True

    def __enter__(self) -> "AgeWriter":
        return self

    def __exit__(self, kind, *details) -> None:
        if kind is None:  # after an exception the file stays unfinished: age refuses it as truncated
            self.close()
