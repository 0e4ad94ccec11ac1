"""The two encodings every part of the age format uses: HKDF-SHA256 and strict base64."""

import base64
import binascii

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def hkdf(key: bytes, salt: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(key)


def b64decode(text: str) -> bytes:
    """Canonical unpadded base64 as age writes it; ValueError for anything else."""
    if "=" in text or "\n" in text:
        raise ValueError("padded or wrapped base64")
    try:
        data = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except binascii.Error:
        raise ValueError("invalid base64") from None
    if base64.b64encode(data).decode().rstrip("=") != text:
        raise ValueError("non-canonical base64")
    return data
