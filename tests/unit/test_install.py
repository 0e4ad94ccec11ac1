"""A reproducible install: every Python package comes from a lock file, pinned and hashed, in
`make setup`, CI and the app image; the site side's lock holds no server package; and `drill`
itself imports no heavy library until a command needs it."""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.markers import Marker

PROJECT = Path(__file__).parents[2]
LOCKS = ("requirements.lock", "requirements-server.lock", "requirements-site.lock")
SERVER_ONLY = {"docker", "duckdb", "dramatiq", "redis", "streamlit", "apprise", "fpdf2", "fastapi", "uvicorn",
               "duckdb-extension-postgres-scanner", "duckdb-extension-sqlite-scanner"}


def normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned(lock: str, here: bool = False) -> dict[str, str]:
    """name -> version of every requirement of a lock file, each checked to carry its hashes;
    `here`: only those whose marker this interpreter meets (a lock holds every Python's)."""
    text = (PROJECT / lock).read_text()
    entries = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+?)(?: ; ([^\\\n]*))? \\\n(?:    --hash=sha256:[0-9a-f]{64}"
                         r"(?: \\)?\n)+", text, re.MULTILINE)
    requirement_lines = re.findall(r"^[A-Za-z0-9]", text, re.MULTILINE)
    assert len(entries) == len(requirement_lines), f"{lock}: a requirement without its hashes"
    return {normal(name): version for name, version, marker in entries
            if not (here and marker) or Marker(marker).evaluate()}


def declared(*extras: str) -> set[str]:
    project = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]
    requirements = [*project["dependencies"], *(r for extra in extras for r in project["optional-dependencies"][extra])]
    return {normal(re.match(r"[A-Za-z0-9._-]+", r).group()) for r in requirements} - {"restore-drill"}


@pytest.mark.parametrize("lock", LOCKS)
def test_every_lock_pins_every_package_with_hashes_and_says_how_to_regenerate_it(lock):
    assert pinned(lock)
    assert "bash scripts/lock.sh" in (PROJECT / lock).read_text().splitlines()[1]


def test_the_locks_cover_pyproject_and_agree_on_versions():
    everything = pinned("requirements.lock")
    extras = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert declared(*extras) <= everything.keys()
    assert declared("server") <= pinned("requirements-server.lock").keys()
    site = pinned("requirements-site.lock")
    assert declared() <= site.keys() and not SERVER_ONLY & site.keys()
    for lock in LOCKS[1:]:
        here = pinned("requirements.lock", here=True)
        assert {name: here[name] for name in pinned(lock, here=True)} == pinned(lock, here=True)


def test_every_package_installed_here_is_the_one_the_lock_pins():
    frozen = subprocess.run([sys.executable, "-m", "pip", "freeze", "--exclude-editable", "--disable-pip-version-check"],
                            capture_output=True, text=True, check=True).stdout
    installed = dict(line.split("==") for line in frozen.splitlines() if "==" in line)
    lock = pinned("requirements.lock", here=True)
    assert {normal(name): version for name, version in installed.items()} == \
        {name: lock[name] for name in map(normal, installed) if name in lock}, "pinned at another version"
    assert {normal(name) for name in installed} <= lock.keys(), "installed but not in the lock: run make setup"


def test_setup_ci_and_the_image_install_from_the_locks_with_hashes():
    setup = (PROJECT / "scripts/setup.sh").read_text()
    assert "pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock" in setup
    assert "--no-deps -e ." in setup and "'.[" not in setup
    assert "make test" in (PROJECT / ".ci/run").read_text() and "bash scripts/setup.sh" in \
        (PROJECT / "Makefile").read_text()
    dockerfile = (PROJECT / "compose/Dockerfile").read_text()
    assert "--require-hashes \\\n       -r /src/requirements-server.lock" in dockerfile and "--no-deps /src" in dockerfile


def test_importing_the_cli_and_building_its_parser_loads_no_service_library():
    probe = ("import sys, drills.cli; drills.cli.parser()\n"
             "print(sorted(m for m in ('streamlit', 'dramatiq', 'duckdb', 'docker', 'redis', 'fastapi') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", probe], cwd=PROJECT, capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"
