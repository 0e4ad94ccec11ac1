"""The host writing a dump into a drill's work directory (drills.engines.receiving), on real
filesystems: a memory one, the disk, a full tmpfs mounted for the test."""

import os
import stat
import subprocess
import time

import pytest

from drills.engines.receiving import receive
from drills.errors import BackupProblem, InfrastructureError
from drills.workdir import CONTAINER_UID
from tests.conftest import require

MiB = 1024 * 1024


def refused(directory, chunks, limit=64 * MiB, timeout=60.0, name="backup.dump"):
    with pytest.raises((BackupProblem, InfrastructureError)) as raised:
        receive(directory, name, iter(chunks), limit, timeout)
    return raised.value


def test_the_dump_lands_whole_in_a_new_file_only_the_containers_user_can_read(memory_dir):
    chunks = [os.urandom(MiB) for _ in range(3)] + [b"end"]
    receive(memory_dir, "backup.dump", iter(chunks), 64 * MiB, 60)
    received = memory_dir / "backup.dump"
    assert received.read_bytes() == b"".join(chunks)
    status = received.stat()
    assert stat.S_IMODE(status.st_mode) == 0o600
    assert status.st_uid == (CONTAINER_UID if os.geteuid() == 0 else os.geteuid())


def test_a_link_or_a_file_planted_under_the_name_is_never_written_through(memory_dir, tmp_path):
    target = tmp_path / "worker-file"
    target.write_bytes(b"the worker's own")
    (memory_dir / "backup.dump").symlink_to(target)
    problem = refused(memory_dir, [b"PATIENT ROWS"])
    assert problem.code == "error.run_dir" and "File exists" in problem.message
    assert target.read_bytes() == b"the worker's own"
    (memory_dir / "restored.sqlite").write_bytes(b"planted")
    assert refused(memory_dir, [b"PATIENT ROWS"], name="restored.sqlite").code == "error.run_dir"
    assert (memory_dir / "restored.sqlite").read_bytes() == b"planted"


def test_no_work_directory_is_made_on_a_disk(tmp_path, monkeypatch):
    from drills import workdir
    from drills.workdir import make_work_dir

    monkeypatch.setenv("DRILL_RUN_DIR", str(tmp_path / "run"))
    monkeypatch.setattr(workdir, "memory_filesystem", lambda path: False)  # tmp_path is a tmpfs on some hosts
    with pytest.raises(InfrastructureError) as raised:
        make_work_dir("d1")
    assert raised.value.code == "error.run_dir" and "not on a memory filesystem" in raised.value.message
    assert list((tmp_path / "run").iterdir()) == []


def test_a_decompression_bomb_stops_at_the_cap(memory_dir):
    problem = refused(memory_dir, [bytes(MiB)] * 10, limit=3 * MiB)
    assert problem.code == "restore.too_large" and "engine.tmpfs" in problem.message
    assert (memory_dir / "backup.dump").stat().st_size <= 3 * MiB


def test_a_full_run_directory_is_ours_not_the_sites(tmp_path):
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    mounted = os.geteuid() == 0 and subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount_point)],
                                                   capture_output=True).returncode == 0
    require(mounted, "mounting a 1 MiB tmpfs (root)")
    try:
        problem = refused(mount_point, [bytes(256 * 1024)] * 8)
        assert problem.code == "error.run_dir" and "No space left on device" in problem.message
    finally:
        subprocess.run(["umount", str(mount_point)], check=True)


def test_a_source_that_drips_is_stopped_at_the_deadline(memory_dir):
    def dripping():
        while True:
            time.sleep(0.05)
            yield b"x"

    assert refused(memory_dir, dripping(), timeout=0.3).code == "restore.timeout"
