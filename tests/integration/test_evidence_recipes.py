"""The verification recipes of docs/evidence-format.md, run as written on real drills' reports, with
openssl and coreutils, or Python with nothing but `cryptography` (the project cannot be imported
there): each finds the evidence intact, and each finds it edited, cut or rewritten."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from drills.audit import AuditJournal
from drills.catalog import load_catalog
from drills.reports import keys
from tests.helpers import drill_command, rechained
from tests.integration.conftest import SITE
from tests.schemas import SKIP_MARKER

DOC = Path(__file__).parents[2] / "docs" / "evidence-format.md"
WITHOUT_THE_PROJECT = ("import runpy, sys; sys.modules['drills'] = None; sys.argv = sys.argv[1:]; "
                       "runpy.run_path(sys.argv[0], run_name='__main__')")


def recipe(name: str) -> str:
    found = re.search(rf"<!-- recipe: {re.escape(name)} -->\n```\w+\n(.*?)```", DOC.read_text(), re.DOTALL)
    assert found, f"docs/evidence-format.md has the recipe {name}"
    return found[1]


@pytest.fixture(scope="module")
def evidence(tmp_path_factory, backups, keys_dir, docker_engine):
    """Three real drills of one site, events journaled and anchored: (evidence folder, public key)."""
    from tests.helpers import site_entry, write_catalog

    root = tmp_path_factory.mktemp("recipes")
    folder = root / "backups"
    shutil.copytree(backups["healthy"].parent, folder)
    catalog = write_catalog(root, [site_entry(SITE, folder, keys_dir["dir"] / "drill.agekey")])
    assert drill_command("keys", "init", "--catalog", str(catalog)).returncode == 0
    for _ in range(3):
        assert drill_command("run", SITE, "--catalog", str(catalog)).returncode == 0
    loaded = load_catalog(catalog)
    for number in range(4):
        AuditJournal(loaded.evidence).record("report.viewed", f"marie-{number}", site=SITE, sequence=1)
    assert drill_command("audit", "anchor", "--catalog", str(catalog)).returncode == 0
    return loaded.evidence, keys.public_path(loaded.signing_key)


@pytest.fixture
def copy(evidence, tmp_path):
    """A copy of the evidence to damage, the public key in each folder as the recipes expect."""
    root, public_key = evidence
    (tmp_path / SKIP_MARKER).touch()  # damaged on purpose: not for the schema check
    copied = shutil.copytree(root, tmp_path / "evidence")
    for folder in (copied, copied / SITE):
        shutil.copy(public_key, folder / "signing.pub")
    for path in copied.rglob("*"):
        path.chmod(0o644 if path.is_file() else 0o755)
    return copied


def shell(name: str, folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", recipe(name)], cwd=folder, capture_output=True, text=True, timeout=60)


def python(folder: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    script = tmp_path / "verify_site.py"
    script.write_text(recipe("verify_site.py"))
    return subprocess.run([sys.executable, "-I", "-c", WITHOUT_THE_PROJECT, str(script), str(folder),
                           str(folder / "signing.pub")], cwd=tmp_path, capture_output=True, text=True, timeout=60)


def reports(copy: Path) -> list[Path]:
    return sorted((copy / SITE).glob("[0-9]*-*.json"))


def test_the_recipes_find_real_reports_and_the_journal_intact(copy, tmp_path):
    assert [json.loads(path.read_bytes())["format"] for path in reports(copy)] == [2, 2, 2]
    assert shell("verify-site.sh", copy / SITE).stdout == "every signature valid, the chain intact\n"
    checked = python(copy / SITE, tmp_path)
    assert (checked.returncode, checked.stdout) == (0, "3 report(s): every signature valid, the chain intact\n")
    anchored = shell("verify-anchor.sh", copy)
    assert anchored.returncode == 0 and "line(s) are chained, and hold the" in anchored.stdout, anchored.stderr


def test_the_recipes_find_a_report_edited_by_one_byte(copy, tmp_path):
    first = reports(copy)[0]
    first.write_bytes(first.read_bytes().replace(b'"outcome": "pass"', b'"outcome": "fail"'))
    said = shell("verify-site.sh", copy / SITE)
    assert said.returncode == 1 and said.stdout.startswith(f"{first.name}: signature INVALID")
    checked = python(copy / SITE, tmp_path)
    assert checked.returncode == 1 and checked.stderr.startswith(f"{first.name}: signature INVALID")


def test_the_recipes_find_a_report_deleted_from_the_middle(copy, tmp_path):
    middle = reports(copy)[1]
    middle.unlink()
    Path(f"{middle}.sig").unlink()
    last = reports(copy)[-1].name
    said = shell("verify-site.sh", copy / SITE)
    assert said.returncode == 1 and said.stdout.startswith(f"{last}: NOT CHAINED")
    checked = python(copy / SITE, tmp_path)
    assert checked.returncode == 1 and checked.stderr.startswith(f"{last}: NOT CHAINED")


def test_the_python_recipe_imports_nothing_of_the_project(copy, tmp_path):
    script = tmp_path / "verify_site.py"
    script.write_text("import drills\n")
    refused = subprocess.run([sys.executable, "-I", "-c", WITHOUT_THE_PROJECT, str(script)], cwd=tmp_path,
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1 and "ModuleNotFoundError" in refused.stderr, "the project is out of reach"


def test_the_anchor_recipe_finds_the_journal_edited_cut_or_rewritten_and_chained_again(copy):
    journal = copy / ".audit" / "journal.jsonl"
    whole = journal.read_bytes()
    lines = whole.splitlines()
    journal.write_bytes(b"\n".join(lines[:-1]) + b"\n")
    cut = shell("verify-anchor.sh", copy)
    assert cut.returncode == 1 and "REWRITTEN or CUT" in cut.stdout
    edited = [*lines[:1], lines[1].replace(b"marie-", b"pierre"), *lines[2:]]
    journal.write_bytes(b"\n".join(edited) + b"\n")
    said = shell("verify-anchor.sh", copy)
    assert said.returncode == 1 and said.stdout == "line 3: NOT CHAINED (edited)\n"
    journal.write_bytes(rechained(edited))
    said = shell("verify-anchor.sh", copy)
    assert said.returncode == 1 and "REWRITTEN or CUT" in said.stdout
    journal.write_bytes(whole)
    assert shell("verify-anchor.sh", copy).returncode == 0
