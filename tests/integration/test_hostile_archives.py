"""Hostile documents archives against the files engine: entries escaping the restore root are
refused by tar inside the container (nothing lands outside the root) and named in a finding;
a decompression bomb stops at the cap within seconds."""

import gzip
import io
import subprocess
import tarfile
import time

import pytest
from pathlib import Path
from types import SimpleNamespace

from drills.checks import restored
from drills.engines import executor, files
from drills.runtimes.docker import DockerRuntime
from drills.workdir import make_work_dir
from tests.integration.test_engine_conformance import drill


def hostile_tar() -> bytes:
    """What a hostile or broken backup job could ship: escapes, links out, a device, odd names."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as archive:
        def add(name: str, kind=tarfile.REGTYPE, data: bytes = b"", link: str = ""):
            member = tarfile.TarInfo(name)
            member.type, member.size, member.linkname, member.mode = kind, len(data), link, 0o644
            archive.addfile(member, io.BytesIO(data) if data else None)

        add("scans/ordonnance.pdf", data=b"%PDF-1.4 a real scan")
        add("../escape.txt", data=b"written outside the root?")
        add("/tmp/absolute.txt", data=b"an absolute path")
        add("scans/passwd", tarfile.SYMTYPE, link="/etc/passwd")
        add("scans/up", tarfile.SYMTYPE, link="../../../../outside")
        add("scans/hard", tarfile.LNKTYPE, link="../../etc/shadow")
        add("dev/zero0", tarfile.CHRTYPE)
        add("lettres/caf\udce9.txt", data=b"a name in Latin-1, not UTF-8")
    return buffer.getvalue()


def test_entries_escaping_the_root_are_refused_inside_the_container(tmp_path):
    runtime, work = DockerRuntime(), make_work_dir("hostile-archive")
    site = SimpleNamespace(id="hostile", engine=files.ENGINE.settings(memory="1g", tmpfs="1g", timeout="60s"))
    plan = files.plan(site, "hostile-archive", str(work))
    spec = plan.container
    try:
        runtime.start(spec)
        executor.restore(plan, runtime, spec.name, site.engine, iter([hostile_tar()]))
        root = work / files.ROOT
        assert (root / "scans" / "ordonnance.pdf").read_bytes() == b"%PDF-1.4 a real scan"
        assert not (work / "escape.txt").exists() and not Path("/tmp/absolute.txt").exists()
        assert (root / "tmp" / "absolute.txt").exists()  # the leading / removed: under the root
        assert not (root / "scans" / "hard").exists()
        findings, _, _ = restored.verify(files.ENGINE, str(work), SimpleNamespace(checks=SimpleNamespace(may_be_empty=False)),
                                      None, None, None)
        (unsafe,) = [f for f in findings if f.code == "verify.unsafe_archive"]
        for expected in ("../escape.txt", "absolute paths", "scans/passwd -> /etc/passwd",
                         "scans/up -> ../../../../outside", "dev/zero0", "scans/hard"):
            assert expected in unsafe.message, (expected, unsafe.message)
    finally:
        runtime.remove(spec.name)
        subprocess.run(["rm", "-rf", str(work)], check=True)


def test_a_hostile_archive_drill_is_red_with_the_unsafe_entries_named(tmp_path, keys_dir):
    backups = tmp_path / "backups"
    backups.mkdir()
    subprocess.run(["age", "-r", keys_dir["recipient"], "-o", str(backups / "hostile.tar.age")],
                   input=hostile_tar(), check=True)
    report = drill(tmp_path, keys_dir, "files", backups / "hostile.tar.age", checks={"manifest": "ignore"})
    assert (report["outcome"], report["reason"]) == ("fail", "verify.unsafe_archive")
    (unsafe,) = [f for f in report["findings"] if f["code"] == "verify.unsafe_archive"]
    assert "../escape.txt" in unsafe["message"] and unsafe["actual"] >= 6


def test_a_gzip_bomb_stops_at_the_cap_within_seconds(tmp_path, keys_dir):
    backups = tmp_path / "backups"
    backups.mkdir()
    bomb = gzip.compress(b"\0" * 200_000_000, compresslevel=9)
    assert len(bomb) * 900 < 200_000_000  # over 900x
    subprocess.run(["age", "-r", keys_dir["recipient"], "-o", str(backups / "bomb.tar.gz.age")], input=bomb, check=True)
    started = time.monotonic()
    report = drill(tmp_path, keys_dir, "files", backups / "bomb.tar.gz.age", checks={"manifest": "ignore"},
                   engine={"type": "files", "tmpfs": "16m"})
    assert (report["outcome"], report["reason"]) == ("fail", "restore.too_large")
    assert time.monotonic() - started < 30


@pytest.mark.parametrize("kind, name, engine", [
    ("files", "bomb.sqlite.gz.age", {"type": "sqlite", "tmpfs": "16m"}),
    ("postgres", "bomb.dump.gz.age", {"type": "postgres", "format": "custom", "jobs": 2, "tmpfs": "16m"}),
], ids=["sqlite", "postgres-jobs"])
def test_a_bomb_the_host_would_write_into_the_work_directory_stops_at_the_cap(tmp_path, keys_dir, kind, name, engine):
    """The dump a restore reads as a file is written by the host (drills.engines.receiving): its cap,
    not the container's tmpfs, stops a bomb, and nothing of it stays in the run directory."""
    from drills.workdir import run_dir

    backups = tmp_path / "backups"
    backups.mkdir()
    bomb = gzip.compress(b"\0" * 200_000_000, compresslevel=9)
    subprocess.run(["age", "-r", keys_dir["recipient"], "-o", str(backups / name)], input=bomb, check=True)
    report = drill(tmp_path, keys_dir, kind, backups / name, checks={"manifest": "ignore"}, engine=engine)
    assert (report["outcome"], report["reason"]) == ("fail", "restore.too_large")
    assert "engine.tmpfs" in report["message"]
    assert not run_dir().exists() or list(run_dir().iterdir()) == []
