"""Small helpers the tests share: identities made with the real age-keygen, catalogs."""

import os
import subprocess
import sys
from pathlib import Path

import yaml


def age_identity(path: Path) -> str:
    """Make an identity with age-keygen at `path`; its recipient."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["age-keygen", "-o", str(path)], check=True, capture_output=True)
    path.chmod(0o600)
    return subprocess.run(["age-keygen", "-y", str(path)], check=True, capture_output=True, text=True).stdout.strip()


def site_entry(site_id: str, backups: Path, identity: Path, **overrides) -> dict:
    site = {
        "id": site_id, "name": site_id.replace("-", " ").title(), "tenant": "infogest",
        "source": {"type": "local", "path": str(backups), "pattern": "*.age"},
        "decrypt": {"identity_file": str(identity)},
        "engine": {"type": "postgres", "format": "custom"},
        "checks": {"manifest": "required", "tables": {"public.patients": {"min": 1}}},
        "targets": {"rto": "30m", "rpo": "26h"},
    }
    for key, value in overrides.items():
        site[key] = {**site[key], **value} if isinstance(value, dict) and isinstance(site.get(key), dict) else value
    return site


def write_catalog(directory: Path, sites: list[dict], **settings) -> Path:
    """A catalog of `sites`; `settings` adds top-level keys (tenants...)."""
    path = directory / "catalog.yaml"
    path.write_text(yaml.safe_dump({"evidence": "evidence/", "signing_key": "keys/signing.ed25519", "sites": sites,
                                    **settings}, sort_keys=False))
    return path


DRILL = [sys.executable, "-m", "drills.cli"]
PROJECT = Path(__file__).parents[1]


def drill_command(*arguments, env=None, input=None):
    """The `drill` command in a subprocess, as an operator runs it."""
    return subprocess.run([*DRILL, *arguments], capture_output=True, text=True, timeout=300, input=input,
                          env={**os.environ, **(env or {})}, cwd=PROJECT)


def age_with_passphrase(target: Path, passphrase: str, plaintext: bytes) -> None:
    """Encrypt with the real age CLI's passphrase mode (it asks on a terminal, twice)."""
    import pexpect

    source = target.with_name(target.name + ".plain")
    source.write_bytes(plaintext)
    try:
        session = pexpect.spawn("age", ["--passphrase", "--output", str(target), str(source)], timeout=60)
        for prompt in ("passphrase", "Confirm"):
            session.expect(prompt)
            session.sendline(passphrase)
        session.expect(pexpect.EOF)
    finally:
        source.unlink()


def format1_report(document: dict, private_key) -> bytes:
    """A report as format 1 stored it (before detached signatures): Ed25519 over its JSON without
    `signature`, keys sorted, compact, embedded; the file pretty-printed (docs/evidence-format.md)."""
    import base64
    import hashlib
    import json

    unsigned = {key: value for key, value in {**document, "format": 1}.items() if key != "signature"}
    canonical = json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    public = private_key.public_key().public_bytes_raw()
    signature = {"algorithm": "ed25519", "key_id": "ed25519:" + hashlib.sha256(public).hexdigest()[:16],
                 "value": base64.b64encode(private_key.sign(canonical)).decode()}
    return (json.dumps({**unsigned, "signature": signature}, indent=2, sort_keys=True, ensure_ascii=False)
            + "\n").encode()


def rechained(lines: list[bytes]) -> bytes:
    """An audit journal as someone who can write it, but not sign, rewrites it: each line linked
    to the one before again, so that its chain holds."""
    import hashlib
    import json

    out, previous = [], None
    for line in lines:
        encoded = json.dumps({**json.loads(line), "previous_sha256": previous}, ensure_ascii=False,
                             sort_keys=True).encode()
        out.append(encoded)
        previous = hashlib.sha256(encoded).hexdigest()
    return b"\n".join(out) + b"\n"
