"""The Ed25519 key that signs reports, and the keyring of every public key ever used.

The private key (mode 600, refused if others can read it) signs; its public half is kept
beside it (`KEY.pub`) and in the keyring folder `public/` beside it, named by key id, so that
reports signed before a rotation still verify.
"""

import hashlib
import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from drills.errors import ConfigError
from drills import reasons


def public_path(private_path: Path) -> Path:
    return private_path.with_name(private_path.name + ".pub")


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short fingerprint naming the key in every report it signs."""
    return "ed25519:" + hashlib.sha256(public_key.public_bytes_raw()).hexdigest()[:16]


def keyring_path(private_path: Path) -> Path:
    return private_path.parent / "public"


def public_pem(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def init(private_path: Path) -> Ed25519PublicKey:
    """Create the signing key (mode 600), its public half beside it and in the keyring;
    refuse to overwrite an existing key."""
    if private_path.exists():
        raise ConfigError(f"a signing key already exists at {private_path}", code=reasons.CONFIG_KEY_EXISTS,
                          hint="keep it: reports signed with it must stay verifiable (drill keys rotate)")
    return write_new_key(private_path)


def rotate(private_path: Path) -> tuple[str, Ed25519PublicKey]:
    """Replace the signing key; the old public key stays in the keyring. (old id, new key)."""
    old_id = key_id(load_private(private_path).public_key())
    replacement = private_path.with_name(private_path.name + ".new")
    replacement.unlink(missing_ok=True)
    public_key = write_new_key(replacement)
    replacement.replace(private_path)
    public_path(replacement).replace(public_path(private_path))
    return old_id, public_key


def write_new_key(private_path: Path) -> Ed25519PublicKey:
    private_path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    public_path(private_path).write_bytes(public_pem(key.public_key()))
    keyring = keyring_path(private_path)
    keyring.mkdir(exist_ok=True)
    (keyring / f"{key_id(key.public_key()).replace(':', '-')}.pem").write_bytes(public_pem(key.public_key()))
    return key.public_key()


def keyring(private_path: Path) -> dict[str, Ed25519PublicKey]:
    """Every public key ever used to sign, by key id (the current one included)."""
    folder = keyring_path(private_path)
    keys = [load_public(path) for path in sorted(folder.glob("*.pem"))] if folder.is_dir() else []
    if public_path(private_path).exists():
        keys.append(load_public(public_path(private_path)))
    return {key_id(key): key for key in keys}


def load_private(private_path: Path) -> Ed25519PrivateKey:
    try:
        mode = private_path.stat().st_mode
    except OSError:
        raise ConfigError(f"no signing key at {private_path}", code=reasons.CONFIG_NO_SIGNING_KEY,
                          hint="create one with `drill keys init`") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"the signing key {private_path} is readable by others", code=reasons.CONFIG_SECRET_EXPOSED,
                          hint=f"chmod 600 {private_path}")
    key = serialization.load_pem_private_key(private_path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{private_path} is not an Ed25519 key", code=reasons.CONFIG_NO_SIGNING_KEY)
    return key


def load_public(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as error:
        raise ConfigError(f"cannot read the public key {path}: {error}", code=reasons.CONFIG_NO_PUBLIC_KEY) from None
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigError(f"{path} is not an Ed25519 public key", code=reasons.CONFIG_NO_PUBLIC_KEY)
    return key
