"""The Ed25519 key that signs reports: created once, refused if others can read it."""

import hashlib
import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from drills.errors import ConfigError


def public_path(private_path: Path) -> Path:
    return private_path.with_name(private_path.name + ".pub")


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short fingerprint naming the key in every report it signs."""
    return "ed25519:" + hashlib.sha256(public_key.public_bytes_raw()).hexdigest()[:16]


def init(private_path: Path) -> Ed25519PublicKey:
    """Create the signing key (mode 600) and its public half beside it; refuse to overwrite."""
    if private_path.exists():
        raise ConfigError(f"a signing key already exists at {private_path}", code="config.key_exists",
                          hint="keep it: reports signed with it must stay verifiable")
    private_path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    public_path(private_path).write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return key.public_key()


def load_private(private_path: Path) -> Ed25519PrivateKey:
    try:
        mode = private_path.stat().st_mode
    except OSError:
        raise ConfigError(f"no signing key at {private_path}", code="config.no_signing_key",
                          hint="create one with `drill keys init`") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"the signing key {private_path} is readable by others", code="config.secret_exposed",
                          hint=f"chmod 600 {private_path}")
    key = serialization.load_pem_private_key(private_path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{private_path} is not an Ed25519 key", code="config.no_signing_key")
    return key


def load_public(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as error:
        raise ConfigError(f"cannot read the public key {path}: {error}", code="config.no_public_key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigError(f"{path} is not an Ed25519 public key", code="config.no_public_key")
    return key
