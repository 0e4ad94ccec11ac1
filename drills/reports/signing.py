"""Signed reports: canonical JSON, an Ed25519 signature over it, and its verification."""

import base64
import hashlib
import json

from cryptography.exceptions import InvalidSignature

from drills.reports.keys import key_id



def canonical(document: dict) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign(report: dict, private_key) -> bytes:
    """The report with its signature, as the bytes stored (pretty, but signed canonically)."""
    unsigned = {key: value for key, value in report.items() if key != "signature"}
    signature = private_key.sign(canonical(unsigned))
    signed = {**unsigned, "signature": {"algorithm": "ed25519", "key_id": key_id(private_key.public_key()),
                                        "value": base64.b64encode(signature).decode()}}
    return (json.dumps(signed, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def digest(report_bytes: bytes) -> str:
    return hashlib.sha256(report_bytes).hexdigest()


def verify(report_bytes: bytes, keyring: dict) -> tuple[bool, str]:
    """(valid, why): the report is intact and signed by a key of `keyring` (key id -> public key)."""
    try:
        report = json.loads(report_bytes)
    except (ValueError, UnicodeDecodeError):
        return False, "not a JSON report"
    signature = report.get("signature") if isinstance(report, dict) else None
    if not isinstance(signature, dict) or signature.get("algorithm") != "ed25519":
        return False, "the report is not signed"
    public_key = keyring.get(signature.get("key_id"))
    if public_key is None:
        return False, f"signed by key {signature.get('key_id')}, which is not in the keyring"
    unsigned = {key: value for key, value in report.items() if key != "signature"}
    try:
        public_key.verify(base64.b64decode(signature.get("value", "")), canonical(unsigned))
    except (InvalidSignature, ValueError):
        return False, "the signature does not match: the report was edited"
    return True, f"signature valid (key {signature['key_id']})"
