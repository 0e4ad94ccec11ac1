"""age identities (X25519 keys and passphrases) and where they come from (files, environment).

An identity's `unwrap(stanza)` returns the file key if the stanza is addressed to it, or None;
it raises ValueError for a stanza of its type that the spec says to reject (wrong arguments,
non-canonical base64, wrong lengths, a low-order X25519 share), which age.py reports as corrupt.
Secrets are read at drill time from the references in the catalog and never logged.
"""

import os
import re
import stat
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from drills.catalog.model import DecryptSettings
from drills.crypto import bech32
from drills.crypto.primitives import b64decode, hkdf
from drills.errors import BackupProblem, ConfigError
from drills import reasons

ZERO_NONCE = bytes(12)
WORK_FACTOR = re.compile(r"[1-9][0-9]?")  # decimal, no leading zero; above 99 it is no real factor


@dataclass
class Stanza:
    type: str
    args: list[str]
    body: bytes


def unseal_file_key(wrap_key: bytes, body: bytes) -> bytes | None:
    try:
        return ChaCha20Poly1305(wrap_key).decrypt(ZERO_NONCE, body, None)
    except InvalidTag:
        return None


class X25519Identity:
    def __init__(self, secret: bytes):
        self.key = X25519PrivateKey.from_private_bytes(secret)
        self.public = self.key.public_key().public_bytes_raw()

    @classmethod
    def parse(cls, text: str) -> "X25519Identity":
        hrp, secret = bech32.decode(text.strip())
        if hrp != "age-secret-key-" or len(secret) != 32:
            raise ValueError("not an age X25519 identity")
        return cls(secret)

    def unwrap(self, stanza: Stanza) -> bytes | None:
        if stanza.type != "X25519":
            return None
        if len(stanza.args) != 1:
            raise ValueError("it must have exactly one argument, the share")
        share = b64decode(stanza.args[0])
        if len(share) != 32:
            raise ValueError("its share is not 32 bytes")
        if len(stanza.body) != 32:
            raise ValueError("its body is not 32 bytes (a sealed 16-byte file key)")
        try:
            shared = self.key.exchange(X25519PublicKey.from_public_bytes(share))
        except ValueError:  # cryptography refuses an all-zero shared secret
            shared = bytes(32)
        if shared == bytes(32):
            raise ValueError("its share is a low-order point")
        wrap_key = hkdf(shared, salt=share + self.public, info=b"age-encryption.org/v1/X25519")
        return unseal_file_key(wrap_key, stanza.body)


class PassphraseIdentity:
    def __init__(self, passphrase: bytes, max_work_factor: int):
        self.passphrase, self.max_work_factor = passphrase, max_work_factor

    def unwrap(self, stanza: Stanza) -> bytes | None:
        if stanza.type != "scrypt":
            return None
        if len(stanza.args) != 2:
            raise ValueError("it must have exactly two arguments, the salt and the work factor")
        salt = b64decode(stanza.args[0])
        if len(salt) != 16:
            raise ValueError("its salt is not 16 bytes")
        if len(stanza.body) != 32:
            raise ValueError("its body is not 32 bytes (a sealed 16-byte file key)")
        if not WORK_FACTOR.fullmatch(stanza.args[1]):
            raise ValueError("its work factor is not a decimal number from 1 to 99")
        work_factor = int(stanza.args[1])
        if work_factor > self.max_work_factor:
            raise BackupProblem(
                reasons.DECRYPT_WORK_FACTOR,
                f"the passphrase file asks for scrypt work factor {work_factor}, above the limit "
                f"{self.max_work_factor} (memory grows as 2^factor)",
                hint="if the site really encrypts with it, raise decrypt.max_work_factor for this site")
        kdf = Scrypt(salt=b"age-encryption.org/v1/scrypt" + salt, length=32, n=2**work_factor, r=8, p=1)
        return unseal_file_key(kdf.derive(self.passphrase), stanza.body)


def read_secret_file(path) -> bytes:
    try:
        mode = os.stat(path).st_mode
        data = open(path, "rb").read()
    except OSError as error:
        raise ConfigError(f"cannot read secret file {path}: {error.strerror}",
                          code=reasons.CONFIG_SECRET_UNREADABLE) from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"secret file {path} is readable by others",
                          hint=f"chmod 600 {path}", code=reasons.CONFIG_SECRET_EXPOSED)
    return data


def read_secret_env(name: str) -> bytes:
    if not os.environ.get(name):
        raise ConfigError(f"environment variable {name} is not set", code=reasons.CONFIG_SECRET_UNREADABLE)
    return os.environ[name].encode()


def passphrase_of(identities) -> bytes:
    """The passphrase among a site's identities (a pgBackRest repository's is one)."""
    for identity in identities:
        if isinstance(identity, PassphraseIdentity):
            return identity.passphrase
    raise ConfigError("a pgBackRest repository opens with a passphrase: set decrypt.passphrase_file or "
                      "decrypt.passphrase_env to its repo1-cipher-pass")


def identities_from(settings: DecryptSettings) -> list:
    """The identities a site's decrypt settings name; ConfigError if they cannot be read."""
    if settings.passphrase_file or settings.passphrase_env:
        secret = (read_secret_file(settings.passphrase_file) if settings.passphrase_file
                  else read_secret_env(settings.passphrase_env))
        return [PassphraseIdentity(secret.rstrip(b"\r\n"), settings.max_work_factor)]
    secret = (read_secret_file(settings.identity_file) if settings.identity_file
              else read_secret_env(settings.identity_env))
    identities = []
    for line in secret.decode("utf-8", "replace").splitlines():
        if line.strip() and not line.startswith("#"):
            try:
                identities.append(X25519Identity.parse(line))
            except ValueError:
                raise ConfigError("the identity holds a line that is not an age X25519 secret key",
                                  hint="make identities with age-keygen", code=reasons.CONFIG_BAD_IDENTITY) from None
    if not identities:
        raise ConfigError("the identity holds no key", hint="make identities with age-keygen",
                          code=reasons.CONFIG_BAD_IDENTITY)
    return identities
