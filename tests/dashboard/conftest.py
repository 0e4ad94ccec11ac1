"""A small fleet for the dashboard: two tenants, sites green, red and never drilled, a year of
synthetic signed history for some, and users of every role."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from dashboard import session
from drills.access import hash_password
from drills.catalog import load_catalog
from drills.demo.history import write_history
from drills.reports import keys
from tests.helpers import site_entry, write_catalog

PROJECT = Path(__file__).parents[2]
PASSWORD = "correct horse battery staple"
USERS = [
    {"name": "marie", "role": "viewer", "sites": ["pharmacie-du-port"], "email": "marie@pharmacie-du-port.fr"},
    {"name": "paul", "role": "viewer", "sites": ["pharmacie-des-halles"]},
    {"name": "ops", "role": "operator", "tenants": ["infogest"]},
    {"name": "boss", "role": "admin"},
]


@pytest.fixture(scope="session")
def password_hash():
    return hash_password(PASSWORD)


@pytest.fixture
def fleet_files(tmp_path, monkeypatch, password_hash):
    """(catalog path, users path) with histories written; the environment set for the app."""
    key = tmp_path / "drill.agekey"
    sites = [site_entry("pharmacie-du-port", tmp_path, key, name="Pharmacie du Port"),
             site_entry("pharmacie-des-halles", tmp_path, key, name="Pharmacie des Halles"),
             site_entry("pharmacie-de-la-gare", tmp_path, key, name="Pharmacie de la Gare"),
             site_entry("cabinet-lyon", tmp_path, key, name="Cabinet Lyon Centre", tenant="medisoft")]
    catalog_path = write_catalog(tmp_path, sites)
    document = yaml.safe_load(catalog_path.read_text())
    document["tenants"] = {"infogest": {"contact": "Infogest, 01 23 45 67 89"}}
    catalog_path.write_text(yaml.safe_dump(document))
    keys.init(tmp_path / "keys" / "signing.ed25519")
    private = keys.load_private(tmp_path / "keys" / "signing.ed25519")
    catalog = load_catalog(catalog_path)
    now = datetime.now(timezone.utc) - timedelta(hours=1)
    by_id = {site.id: site for site in catalog.sites}
    write_history(catalog.evidence, by_id["pharmacie-du-port"], private, days=40, end=now, last_outcome="pass")
    write_history(catalog.evidence, by_id["pharmacie-des-halles"], private, days=40, end=now, last_outcome="fail")
    write_history(catalog.evidence, by_id["cabinet-lyon"], private, days=5, end=now, last_outcome="pass")
    users_path = tmp_path / "users.yaml"
    users_path.write_text(yaml.safe_dump({"users": [{**user, "password": password_hash} for user in USERS]}))
    monkeypatch.setenv("DRILL_CATALOG", str(catalog_path))
    monkeypatch.setenv("DRILL_USERS", str(users_path))
    return catalog_path, users_path


@pytest.fixture(autouse=True)
def fresh_sign_in_limiter():
    """The dashboard's limiter lives as long as the process: each test starts with no failure."""
    session.sign_in_limiter.clear()
    yield
    session.sign_in_limiter.clear()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


def gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not alive(pid)


@pytest.fixture
def serving(fleet_files):
    """`drill dashboard` on a free loopback port, for the fleet: (its process, its Streamlit
    child's pid, the URL), once it answers."""
    port = free_port()
    drill = subprocess.Popen([sys.executable, "-m", "drills.cli", "dashboard", "--port", str(port)], cwd=PROJECT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail("the dashboard did not start")
        (streamlit,) = children(drill.pid)
        yield drill, streamlit, f"http://127.0.0.1:{port}"
    finally:
        for pid in [drill.pid, *(children(drill.pid) if alive(drill.pid) else [])]:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        drill.wait(10)
