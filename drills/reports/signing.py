"""Signed evidence: a detached Ed25519 signature over the exact bytes of a document.

A signed document (a report, an anchor of the audit journal) is stored as it was signed, its
signature beside it in `NAME.sig`: the 64 raw bytes of Ed25519 over the file's bytes, nothing
canonicalized. Anyone can check it with standard tools, no JSON library involved:

    openssl pkeyutl -verify -pubin -inkey signing.pub -rawin -in NAME -sigfile NAME.sig

The document names its key inside the signed bytes (`signed_by`, a key id). Reports of format 1
(before the detached signature) carried an embedded `signature` over a JSON form of their own:
they still verify (`verify_embedded`), and are never written any more. docs/evidence-format.md.
"""

import base64
import hashlib
import json
from pathlib import Path

from cryptography.exceptions import InvalidSignature

from drills.reports.keys import key_id

SIGNATURE_SUFFIX = ".sig"
SIGNATURE_BYTES = 64


def signature_path(path: Path) -> Path:
    return path.with_name(path.name + SIGNATURE_SUFFIX)


def document_bytes(document: dict, private_key) -> bytes:
    """The bytes stored for `document`: pretty JSON, keys sorted, naming the key that signs it."""
    signed = {**document, "signed_by": key_id(private_key.public_key())}
    return (json.dumps(signed, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def sign(data: bytes, private_key) -> bytes:
    """The detached signature of `data` (64 bytes)."""
    return private_key.sign(data)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_signature(path: Path) -> bytes | None:
    """The detached signature stored beside `path`, or None if there is none."""
    try:
        return signature_path(path).read_bytes()
    except FileNotFoundError:
        return None


def verify(data: bytes, signature: bytes | None, keyring: dict) -> tuple[bool, str]:
    """(valid, why): `data` is intact and signed by a key of `keyring` (key id -> public key):
    by its detached `signature`, or, for a format 1 report (and only then), the one it embeds.
    Whatever the bytes hold, the answer is a verdict, never an exception."""
    try:
        document = json.loads(data)
    except ValueError:  # UnicodeDecodeError included
        return False, "not a JSON document"
    if not isinstance(document, dict):
        return False, "not a JSON document"
    if document.get("format") == 1 and "signed_by" not in document:
        return verify_embedded(document, keyring)
    signer_id = document.get("signed_by")
    if signature is None or not isinstance(signer_id, str):
        return False, "the document is not signed (no detached signature beside it, or no signed_by)"
    public_key = keyring.get(signer_id)
    if public_key is None:
        return False, f"signed by key {signer_id[:40]}, which is not in the keyring"
    try:
        public_key.verify(signature, data)
    except InvalidSignature:
        return False, "the signature does not match: the document or its signature was edited"
    return True, f"signature valid (key {signer_id})"


def signer(document: dict) -> str | None:
    """The key id that signed `document`, in either format."""
    embedded = document.get("signature")
    return document.get("signed_by") or (embedded.get("key_id") if isinstance(embedded, dict) else None)


def verify_embedded(report: dict, keyring: dict) -> tuple[bool, str]:
    """A format 1 report: Ed25519 over its JSON without `signature`, keys sorted, separators
    `,` and `:`, UTF-8 (Python's json.dumps; docs/evidence-format.md, "Format 1")."""
    signature = report.get("signature")
    key_id = signature.get("key_id") if isinstance(signature, dict) else None
    if not isinstance(key_id, str) or signature.get("algorithm") != "ed25519":
        return False, "the report is not signed"
    public_key = keyring.get(key_id)
    if public_key is None:
        return False, f"signed by key {key_id[:40]}, which is not in the keyring"
    unsigned = {key: value for key, value in report.items() if key != "signature"}
    canonical = json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    try:
        public_key.verify(base64.b64decode(str(signature.get("value", ""))), canonical)
    except (InvalidSignature, ValueError):
        return False, "the signature does not match: the report was edited"
    return True, f"signature valid (key {key_id}, format 1)"
