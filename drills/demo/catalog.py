"""The demo: four pharmacies, their keys, backups and catalog, made as real sites make them.

- pharmacie-du-port: a fresh, healthy backup (green);
- pharmacie-des-halles: yesterday's backup is good, but tonight's was damaged in transit (red,
  decrypt.corrupt); the recovery-point finder then names yesterday's, and the day of data lost;
- pharmacie-de-la-gare: the backup job stopped three days ago (red, backup.stale);
- pharmacie-du-marche: 40% of its sales were deleted at the source between last night's backup
  and tonight's, each consistent with its manifest: tonight's restores, amber with
  history.rows_dropped (last night's is drilled first, by name: the history it is compared with).
Keys and evidence are kept between runs (the history grows); backups are made anew.
"""

import os
import secrets
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml

from drills.access import hash_password
from drills.demo.seed import SourceDatabase, seal
from drills.reports import keys
from drills import reasons

SITES = (
    ("pharmacie-du-port", "Pharmacie du Port", "healthy"),
    ("pharmacie-des-halles", "Pharmacie des Halles", "corrupted"),
    ("pharmacie-de-la-gare", "Pharmacie de la Gare", "stale"),
    ("pharmacie-du-marche", "Pharmacie du Marché", "destroyed"),
)
EXPECTED_REASON = {"healthy": None, "corrupted": reasons.DECRYPT_CORRUPT, "stale": reasons.BACKUP_STALE,
                   "destroyed": None}
EXPECTED_ATTENTION = {"destroyed": [reasons.HISTORY_ROWS_DROPPED]}  # the warnings a passing site must show
DESTROYED_SALES = "DELETE FROM public.ventes WHERE id % 5 IN (1, 2)"  # 40% of the rows, the newest sale kept

CATALOG = """\
# Demo catalog written by `drill demo`. Paths are relative to this file.
evidence: evidence/
signing_key: keys/signing.ed25519
tenants:
  infogest: {contact: "Infogest, support 01 23 45 67 89"}
sites:
"""
# Demo users of the dashboard: (name, role, their sites or tenants).
USERS = (("pharmacien", "viewer", {"sites": ["pharmacie-du-port"]}),
         ("infogest", "operator", {"tenants": ["infogest"]}),
         ("admin", "admin", {}))

SITE = """\
  - id: {id}
    name: {name}
    tenant: infogest
    source: {{type: local, path: backups/{id}, pattern: "*.dump.age"}}
    decrypt: {{identity_file: keys/drill.agekey}}
    engine: {{type: postgres, format: custom}}
    checks:
      manifest: required
      tables: {{public.patients: {{min: 1}}, public.produits: {{min: 1}}}}
      sql:
        - name: every prescription line has a prescription
          query: "SELECT count(*) FROM public.lignes_ordonnance l LEFT JOIN public.ordonnances o ON o.id = l.ordonnance_id WHERE o.id IS NULL"
          expect: 0
        - name: every CIP13 code has 13 digits
          query: "SELECT count(*) FROM public.produits WHERE NOT regexp_matches(cip13, '^[0-9]{{13}}$')"
          expect: 0
      newest_record: public.ventes.vendu_le
      history: {{min_rows: 100}}
    schedule: "0 2 * * *"
    targets: {{rto: 30m, rpo: 26h}}
"""


def write_demo(directory: Path, patients: int, say=print) -> Path:
    """Create (or refresh) the demo under `directory`; the catalog's path."""
    directory.mkdir(parents=True, exist_ok=True)
    identity = directory / "keys" / "drill.agekey"
    recipient = ensure_age_identity(identity)
    if not (directory / "keys" / "signing.ed25519").exists():
        keys.init(directory / "keys" / "signing.ed25519")
    now = datetime.now(timezone.utc)
    for seed, (site_id, name, condition) in enumerate(SITES, start=1):
        say(f"demo: backing up {name} ({patients:,} patients, {condition})")
        backups = directory / "backups" / site_id
        shutil.rmtree(backups, ignore_errors=True)
        stopped = now - timedelta(days=3) if condition == "stale" else None  # its data stops there too
        with SourceDatabase(patients=patients, seed=seed, as_of=stopped) as source:
            if condition == "stale":
                make_backup(source, recipient, backups, site_id, now - timedelta(days=3))
            else:
                make_backup(source, recipient, backups, site_id, now - timedelta(days=1))
                if condition == "destroyed":
                    source.execute(DESTROYED_SALES)
                newest = make_backup(source, recipient, backups, site_id, now)
                if condition == "corrupted":
                    flip_byte(newest, newest.stat().st_size // 2)
    catalog = directory / "catalog.yaml"
    catalog.write_text(CATALOG + "".join(SITE.format(id=site_id, name=name) for site_id, name, _ in SITES))
    ensure_demo_users(directory)
    return catalog


def ensure_demo_users(directory: Path) -> None:
    """users.yaml for the dashboard, with random passwords written once to a file only its owner
    reads (demo-passwords.txt): never printed, never in a log."""
    users, passwords = directory / "users.yaml", directory / "demo-passwords.txt"
    if users.exists() and passwords.exists():
        return
    chosen = {name: secrets.token_urlsafe(9) for name, _, _ in USERS}
    entries = [{"name": name, "role": role, "password": hash_password(chosen[name]), **scope}
               for name, role, scope in USERS]
    users.write_text("# Dashboard users of the demo (drill users add writes this file).\n"
                     + yaml.safe_dump({"users": entries}, sort_keys=False))
    descriptor = os.open(passwords, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.writelines(f"{name} {password}\n" for name, password in chosen.items())


def condition_of(site_id: str) -> str:
    return next(condition for site, _, condition in SITES if site == site_id)


def unexpected(reports: list[dict]) -> list[str]:
    """The sites whose drill did not end as the demo intends (empty when all is as expected)."""
    surprises = []
    for report in reports:
        condition = condition_of(report["site"])
        expected = EXPECTED_REASON[condition]
        if report["reason"] != expected or report["outcome"] == "error":
            surprises.append(f"{report['site']}: expected {expected or 'pass'}, got {report['reason'] or report['outcome']}")
        warned = sorted({f["code"] for f in report["findings"] if f["status"] == "warn" and f["code"]})
        if warned != EXPECTED_ATTENTION.get(condition, []):
            surprises.append(f"{report['site']}: expected the warnings {EXPECTED_ATTENTION.get(condition, [])}, "
                             f"got {warned}")
    return surprises


def drilled_first(directory: Path, site_id: str) -> list[str]:
    """The backups the demo drills by name before a site's nightly drill: the destroyed pharmacy's
    previous night, the history its nightly drill is compared with."""
    if condition_of(site_id) != "destroyed":
        return []
    return sorted(path.name for path in (directory / "backups" / site_id).glob("*.dump.age"))[:-1]


def searched(site_id: str) -> bool:
    """Whether the demo runs the recovery-point finder for the site (the corrupted one)."""
    return condition_of(site_id) == "corrupted"


def make_backup(source, recipient: str, backups: Path, site_id: str, taken_at: datetime) -> Path:
    path = seal(source, recipient, backups / f"{site_id}-{taken_at:%Y%m%dT%H%M}.dump.age", site_id,
                taken_at=taken_at)
    for file in (path, path.with_name(path.name + ".manifest.json")):
        os.utime(file, (taken_at.timestamp(), taken_at.timestamp()))
    return path


def ensure_age_identity(path: Path) -> str:
    """The recipient of the age identity at `path`, made with age-keygen if absent."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["age-keygen", "-o", str(path)], check=True, capture_output=True)
    path.chmod(0o600)
    result = subprocess.run(["age-keygen", "-y", str(path)], check=True, capture_output=True, text=True)
    return result.stdout.strip()


def flip_byte(path: Path, offset: int) -> None:
    """Damage a file the way a bad disk or a broken transfer does: one byte changed."""
    stat = path.stat()
    with open(path, "r+b") as handle:
        handle.seek(offset)
        byte = handle.read(1)
        handle.seek(offset)
        handle.write(bytes([byte[0] ^ 0x40]))
    os.utime(path, (stat.st_atime, stat.st_mtime))
