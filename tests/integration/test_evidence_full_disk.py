"""The evidence store against real faults, no Docker needed: a full disk (a small tmpfs mounted
as the evidence volume) makes an append `error.storage` and leaves no report cut short; once
space is back the chain goes on, `drill verify-chain` calls nothing edited and `drill index
--rebuild` works. A writer killed with SIGKILL at random moments leaves only whole reports."""

import errno
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from drills.catalog import load_catalog
from drills.demo.history import synthetic_report
from drills.errors import InfrastructureError
from drills.reports import compaction, evidence, index, keys
from drills.reports.chain import verify_chain
from drills.reports.signing import signature_path
from drills.reports.evidence import EvidenceStore
from tests.conftest import require
from tests.helpers import PROJECT, drill_command, site_entry, write_catalog

SITE = "pharmacie-disque"


@pytest.fixture
def tmpfs_catalog(tmp_path):
    """A catalog whose evidence volume is a real 1 MiB tmpfs, and its signing key (not on it)."""
    require(shutil.which("mount") is not None and os.geteuid() == 0, "root and mount(8), to mount a tmpfs")
    volume = tmp_path / "evidence"
    volume.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(volume)],
                             capture_output=True, text=True)
    require(mounted.returncode == 0, f"a tmpfs mount ({mounted.stderr.strip()})")
    try:
        path = write_catalog(tmp_path, [site_entry(SITE, tmp_path / "backups", tmp_path / "drill.agekey")])
        assert drill_command("keys", "init", "--catalog", str(path)).returncode == 0
        yield load_catalog(path)
    finally:
        subprocess.run(["umount", str(volume)], check=True)


def append(catalog, days_ago: int) -> Path:
    site = catalog.site(SITE)
    report = synthetic_report(site, datetime.now(timezone.utc) - timedelta(days=days_ago), "pass", 300.0)
    return EvidenceStore(catalog.evidence).append(SITE, report, keys.load_private(catalog.signing_key)).path


def fill(volume: Path) -> Path:
    """A file taking every free block of `volume`; its path."""
    ballast = volume / "ballast"
    descriptor = os.open(ballast, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(descriptor, b"\0" * 4096)
    except OSError as error:
        assert error.errno == errno.ENOSPC
    finally:
        os.close(descriptor)
    return ballast


def drill(catalog, *arguments) -> subprocess.CompletedProcess:
    return drill_command(*arguments, "--json", "--catalog", str(catalog.path))


def test_a_full_evidence_volume_is_error_storage_and_the_chain_goes_on_once_space_is_back(tmpfs_catalog):
    written = [append(tmpfs_catalog, 3).name, append(tmpfs_catalog, 2).name]
    ballast = fill(tmpfs_catalog.evidence)
    with pytest.raises(InfrastructureError) as raised:
        append(tmpfs_catalog, 1)
    assert raised.value.code == "error.storage" and "No space left on device" in raised.value.message
    assert sorted(os.listdir(tmpfs_catalog.evidence / SITE)) == sorted(
        [*written, *(f"{name}.sig" for name in written), "index.jsonl"]), "no report, no signature, no draft left"

    ballast.unlink()
    append(tmpfs_catalog, 1)
    append(tmpfs_catalog, 0)
    checked = drill(tmpfs_catalog, "verify-chain", SITE)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert json.loads(checked.stdout)[SITE] == {"reports": 4, "problems": []} and "edited" not in checked.stdout
    rebuilt = drill(tmpfs_catalog, "index", "--rebuild")
    assert rebuilt.returncode == 0 and json.loads(rebuilt.stdout) == {"summaries": 4}, rebuilt.stderr


def test_a_report_an_older_version_cut_short_on_the_full_disk_is_unreadable_not_edited(tmpfs_catalog):
    first = append(tmpfs_catalog, 2)
    ballast = fill(tmpfs_catalog.evidence)
    cut = first.with_name(f"000002-{first.name.split('-', 1)[1]}")
    with pytest.raises(OSError):  # what write_once did before atomic writes: O_EXCL, then write
        with os.fdopen(os.open(cut, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444), "wb") as handle:
            handle.write(first.read_bytes())
    assert cut.stat().st_size < first.stat().st_size

    ballast.unlink()
    third = append(tmpfs_catalog, 0)
    assert json.loads(third.read_bytes())["sequence"] == 3
    checked = drill(tmpfs_catalog, "verify-chain", SITE)
    assert checked.returncode == 1
    assert [(problem["file"], problem["code"]) for problem in json.loads(checked.stdout)[SITE]["problems"]] == \
        [(cut.name, "report.unreadable")]
    assert drill(tmpfs_catalog, "index", "--rebuild").returncode == 0
    history = drill(tmpfs_catalog, "history", SITE)
    assert history.returncode == 0, history.stderr
    assert [row["outcome"] for row in json.loads(history.stdout)] == ["PASS", "UNREADABLE", "PASS"]


WRITER = """
import sys
from pathlib import Path
from drills.reports import keys
from drills.reports.evidence import EvidenceStore

store, key = EvidenceStore(Path(sys.argv[1])), keys.load_private(Path(sys.argv[2]))
findings = [{"check": "table", "subject": f"public.table_{n}", "status": "pass", "expected": n, "actual": n,
             "message": "", "code": "table.count", "hint": ""} for n in range(20_000)]  # a report of ~4 MB
print("ready", flush=True)
for number in range(1_000_000):
    store.append("s", {"drill_id": f"w{sys.argv[3]}-{number}", "site": "s", "outcome": "pass", "findings": findings},
                 key)
"""
KILLS = 8


def names_in(directory: Path) -> set[str]:
    return set(os.listdir(directory)) if directory.is_dir() else set()


def wait_for_a_new(first_character: str, directory: Path, before: set[str]) -> None:
    """Until a file whose name starts with one of `first_character` appears (10 s at most)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(name[0] in first_character for name in names_in(directory) - before):
        time.sleep(0.001)


def test_a_writer_killed_at_random_moments_leaves_only_whole_verifying_reports(tmp_path):
    key_path = tmp_path / "keys" / "signing.ed25519"
    keys.init(key_path)
    root, seed = tmp_path / "evidence", time.time_ns()
    pauses = random.Random(seed)
    for kill in range(KILLS):
        before = names_in(root / "s")
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(root), str(key_path), str(kill)], cwd=PROJECT,
                                  stdout=subprocess.PIPE, text=True)
        assert writer.stdout.readline() == "ready\n"
        if kill % 2:  # at any moment once it wrote a report
            wait_for_a_new("0123456789", root / "s", before)
            time.sleep(pauses.uniform(0, 0.8))
        else:  # while a report is being written: once its draft appears
            wait_for_a_new(".", root / "s", before)
            time.sleep(pauses.uniform(0, 0.03))
        writer.send_signal(signal.SIGKILL)
        assert writer.wait(timeout=30) == -signal.SIGKILL
        writer.stdout.close()

    store = EvidenceStore(root)
    reports = store.site_reports("s")
    assert len(reports) >= KILLS // 2 and verify_chain(reports, keys.keyring(key_path)) == [], f"seed {seed}"
    drafts = [path for path in (root / "s").iterdir() if path.name.startswith(".")]
    signatures = [signature_path(path) for path in reports]
    orphans = [path for path in (root / "s").glob("*.json.sig") if not path.with_suffix("").exists()]  # killed between
    assert names_in(root / "s") - {"index.jsonl"} == {path.name for path in reports + signatures + orphans + drafts}
    for draft in drafts + orphans:  # a crash long ago: the next append removes them
        os.utime(draft, (time.time() - evidence.STRAY_DRAFT_SECONDS - 60,) * 2)
    store.append("s", {"drill_id": "after", "site": "s", "outcome": "pass"}, keys.load_private(key_path))
    assert not any(path.name.startswith(".") for path in (root / "s").iterdir())
    assert all(path.with_suffix("").exists() for path in (root / "s").glob("*.json.sig")), "no orphan signature left"
    assert verify_chain(store.site_reports("s"), keys.keyring(key_path)) == []
    assert [entry["sequence"] for entry in index.read_all(root / "s")] == list(range(1, len(reports) + 2))
    assert compaction.rebuild_site_index(root / "s") == len(reports) + 1


def test_a_real_drill_on_a_full_evidence_volume_is_our_error_and_the_next_one_chains_on(tmp_path, backups, keys_dir,
                                                                                       docker_engine):
    """`drill run` with its evidence on a small tmpfs that fills up: exit 2, error.storage, the
    verdict still said; space freed, the next drills report, and nothing is called edited."""
    require(os.geteuid() == 0, "root, to mount a tmpfs")
    folder, volume = tmp_path / "backups", tmp_path / "evidence"
    folder.mkdir()
    volume.mkdir()
    for file in backups["healthy"].parent.iterdir():
        shutil.copy2(file, folder / file.name)
    catalog = write_catalog(tmp_path, [site_entry(SITE, folder, keys_dir["dir"] / "drill.agekey")])
    (folder / "healthy.dump.age.manifest.json").write_text(
        (folder / "healthy.dump.age.manifest.json").read_text().replace('"pharmacie-test"', f'"{SITE}"'))
    assert drill_command("keys", "init", "--catalog", str(catalog)).returncode == 0
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(volume)], check=True)
    try:
        assert drill_command("run", SITE, "--catalog", str(catalog)).returncode == 0
        ballast = fill(volume)
        full = drill_command("run", SITE, "--catalog", str(catalog), "--json")
        assert full.returncode == 2, full.stdout + full.stderr
        answer = json.loads(full.stdout)
        assert answer["error"] == "error.storage" and "verdict, unsigned: PASS" in answer["message"]
        ballast.unlink()
        assert drill_command("run", SITE, "--catalog", str(catalog)).returncode == 0
        chain = drill_command("verify-chain", SITE, "--catalog", str(catalog), "--json")
        assert chain.returncode == 0, chain.stdout
        assert [r["sequence"] for r in EvidenceStore(volume).history(SITE)] == [1, 2]
    finally:
        subprocess.run(["umount", str(volume)], check=True)
