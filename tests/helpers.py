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


def write_catalog(directory: Path, sites: list[dict]) -> Path:
    path = directory / "catalog.yaml"
    path.write_text(yaml.safe_dump({"evidence": "evidence/", "signing_key": "keys/signing.ed25519", "sites": sites},
                                   sort_keys=False))
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
