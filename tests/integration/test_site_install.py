"""The site side's install, for real: a fresh virtualenv with the core alone (the wheel without
its dependencies, then requirements-site.lock, hashes checked) seals a documents archive that the
age CLI opens; it holds no Docker, DuckDB, queue or dashboard package, and the commands that need
them say which extra to install. With the extra `sqlite` added, it seals an SQLite database."""

import hashlib
import io
import json
import re
import shutil
import sqlite3
import subprocess
import sys
import tarfile

import pytest

from tests.helpers import PROJECT, age_identity

SERVICE_PACKAGES = ("docker", "duckdb", "dramatiq", "redis", "streamlit", "fastapi", "uvicorn", "apprise")


def run(*command, **options) -> subprocess.CompletedProcess:
    return subprocess.run([str(part) for part in command], capture_output=True, text=True, timeout=600, **options)


@pytest.fixture(scope="module")
def site_venv(tmp_path_factory):
    """A virtualenv holding the core install only: its bin directory."""
    where = tmp_path_factory.mktemp("site-install")
    source = where / "source"  # a copy, as the app image's build takes it: the build leaves no build/ here
    for name in ("drills", "workers", "dashboard", "api"):
        shutil.copytree(PROJECT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(PROJECT / name, source / name)
    built = run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", where / "wheel", source)
    assert built.returncode == 0, built.stderr
    run(sys.executable, "-m", "venv", where / "venv").check_returncode()
    pip = [where / "venv" / "bin" / "pip", "install", "--quiet", "--disable-pip-version-check"]
    locked = run(*pip, "--require-hashes", "-r", PROJECT / "requirements-site.lock")
    assert locked.returncode == 0, locked.stderr
    wheel = next((where / "wheel").glob("restore_drill-*.whl"))
    assert run(*pip, "--no-deps", wheel).returncode == 0
    return where / "venv" / "bin"


def test_the_core_install_holds_no_service_package(site_venv):
    probe = ("import importlib.util\n"
             f"print([name for name in {SERVICE_PACKAGES!r} if importlib.util.find_spec(name)])")
    assert run(site_venv / "python", "-c", probe).stdout.strip() == "[]"
    assert run(site_venv / "drill", "--version").stdout.startswith("drill ")
    helped = run(site_venv / "drill", "seal", "--help")
    assert helped.returncode == 0 and "--recipient" in helped.stdout


def test_the_core_install_seals_an_archive_the_age_cli_opens(site_venv, tmp_path):
    recipient = age_identity(tmp_path / "keys" / "drill.agekey")
    archive = tmp_path / "documents.tar"
    with tarfile.open(archive, "w") as tar:
        content = b"%PDF-1.7 ordonnance"
        member = tarfile.TarInfo("ordonnances/2026-11.pdf")
        member.size = len(content)
        tar.addfile(member, io.BytesIO(content))
    (tmp_path / "catalog.yaml").write_text(
        "evidence: evidence/\nsigning_key: keys/signing.ed25519\nsites:\n"
        "  - {id: cabinet-lyon, name: Cabinet Lyon, tenant: infogest, engine: {type: files},\n"
        "     source: {type: local, path: backups, pattern: '*.tar.age'},\n"
        "     decrypt: {identity_file: keys/drill.agekey}, targets: {rto: 30m, rpo: 26h}}\n")
    sealed = run(site_venv / "drill", "seal", "cabinet-lyon", archive, "--recipient", recipient, "--json",
                 "--catalog", tmp_path / "catalog.yaml")
    assert sealed.returncode == 0, sealed.stderr
    written = json.loads(sealed.stdout)
    opened = run("age", "-d", "-i", tmp_path / "keys" / "drill.agekey", tmp_path / "backups" / written["manifest"])
    manifest = json.loads(opened.stdout)
    assert manifest["files"]["ordonnances/2026-11.pdf"]["sha256"] == hashlib.sha256(content).hexdigest()
    decrypted = subprocess.run(["age", "-d", "-i", tmp_path / "keys" / "drill.agekey",
                                tmp_path / "backups" / written["backup"]], capture_output=True, check=True).stdout
    assert decrypted == archive.read_bytes()

    counted = run(site_venv / "drill", "manifest", "sqlite", "--file", archive, "--site", "cabinet-lyon")
    assert counted.returncode == 3 and "restore-drill[sqlite]" in counted.stderr
    drilled = run(site_venv / "drill", "run", "cabinet-lyon", "--catalog", tmp_path / "catalog.yaml")
    assert drilled.returncode == 3 and "restore-drill[server]" in drilled.stderr


def locked_entries(lock, names: tuple[str, ...]) -> str:
    """The entries of `names` in a lock file, hashes included: a requirements file of its own."""
    blocks = re.split(r"\n(?=[A-Za-z0-9])", lock.read_text())
    return "\n".join(block for block in blocks if block.split("==")[0] in names) + "\n"


def test_with_the_sqlite_extra_the_site_seals_an_sqlite_database(site_venv, tmp_path):
    """Last in this file: it adds the extra `sqlite` (DuckDB and its SQLite scanner, pinned and hashed
    as in requirements.lock) to the site's virtualenv."""
    extra = tmp_path / "sqlite-extra.txt"
    extra.write_text(locked_entries(PROJECT / "requirements.lock", ("duckdb", "duckdb-extension-sqlite-scanner")))
    installed = run(site_venv / "pip", "install", "--quiet", "--require-hashes", "-r", extra)
    assert installed.returncode == 0, installed.stderr
    recipient = age_identity(tmp_path / "keys" / "drill.agekey")
    database = tmp_path / "lgo.sqlite"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE patients (id INTEGER PRIMARY KEY, nom TEXT)")
        connection.executemany("INSERT INTO patients (nom) VALUES (?)", [(f"patient {n}",) for n in range(7)])
    connection.close()
    (tmp_path / "catalog.yaml").write_text(
        "evidence: evidence/\nsigning_key: keys/signing.ed25519\nsites:\n"
        "  - {id: cabinet-nice, name: Cabinet Nice, tenant: infogest, engine: {type: sqlite},\n"
        "     source: {type: local, path: backups, pattern: '*.sqlite.age'},\n"
        "     decrypt: {identity_file: keys/drill.agekey}, targets: {rto: 30m, rpo: 26h}}\n")
    sealed = run(site_venv / "drill", "seal", "cabinet-nice", database, "--recipient", recipient, "--json",
                 "--catalog", tmp_path / "catalog.yaml")
    assert sealed.returncode == 0, sealed.stderr
    written = json.loads(sealed.stdout)
    opened = run("age", "-d", "-i", tmp_path / "keys" / "drill.agekey", tmp_path / "backups" / written["manifest"])
    assert json.loads(opened.stdout)["tables"] == {"patients": 7}
    decrypted = subprocess.run(["age", "-d", "-i", tmp_path / "keys" / "drill.agekey",
                                tmp_path / "backups" / written["backup"]], capture_output=True, check=True).stdout
    assert decrypted == database.read_bytes()
