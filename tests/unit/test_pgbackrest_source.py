"""The pgBackRest repository as a source, read without trusting it: backup.info decrypted as
pgBackRest (openssl enc) writes it, the sets and what a drill hands the container, the tar stream."""

import io
import json
import os
import subprocess
import tarfile

import pytest

from drills.engines import physical
from drills.errors import BackupProblem, InfrastructureError
from drills.sources import pgbackrest, wal
from drills.sources.tree import LocalTree
from drills.tarstream import stream_size, tar_stream
from drills import reasons

FULL, DIFF, OLDER = "20261201-020000F", "20261201-020000F_20261201-140000D", "20261130-020000F"


def backup_info(*sets: tuple[str, dict]) -> bytes:
    lines = ["[backrest]", "backrest-format=5", "", "[backup:current]"]
    lines += [f"{label}={json.dumps(fields)}" for label, fields in sets]
    lines += ["", "[db:history]", '1={"db-version":"15"}', ""]
    return "\n".join(lines).encode()


def fields(start: str, stop: int, kind: str = "full", references=()) -> dict:
    return {"backup-archive-start": start, "backup-archive-stop": start, "backup-lsn-start": "0/3000028",
            "backup-lsn-stop": "0/3000100", "backup-timestamp-start": stop - 60, "backup-timestamp-stop": stop,
            "backup-type": kind, "db-id": 1, **({"backup-reference": list(references)} if references else {})}


INFO = backup_info((OLDER, fields("000000010000000000000001", 1_796_090_000)),
                   (FULL, fields("000000010000000000000003", 1_796_176_000)),
                   (DIFF, fields("000000010000000000000006", 1_796_219_000, "diff", [FULL])))


def test_backup_info_encrypted_by_openssl_as_pgbackrest_does_opens_with_its_passphrase_only():
    encrypted = subprocess.run(["openssl", "enc", "-aes-256-cbc", "-md", "sha1", "-salt", "-pass", "pass:phrase"],
                               input=INFO, capture_output=True, check=True).stdout
    assert encrypted.startswith(b"Salted__")
    sets = pgbackrest.backup_sets(encrypted, b"phrase")
    assert [found.label for found in sets] == [DIFF, FULL, OLDER] and all(found.encrypted for found in sets)
    assert sets[0].references == (FULL,) and sets[0].archive_id == "15-1"
    with pytest.raises(BackupProblem) as wrong:
        pgbackrest.backup_sets(encrypted, b"another phrase")
    assert wrong.value.code == reasons.DECRYPT_WRONG_KEY


@pytest.mark.parametrize("label, start", [("../../../etc", "000000010000000000000001"),
                                          (FULL, "../000000010000000000000001"),
                                          (FULL, "not a segment")])
def test_a_set_named_or_pointing_outside_what_pgbackrest_writes_is_refused(label, start):
    with pytest.raises(BackupProblem) as refused:
        pgbackrest.backup_sets(backup_info((label, fields(start, 1_796_176_000))), b"")
    assert refused.value.code == reasons.RESTORE_FAILED and "damaged" in refused.value.message


def test_a_file_that_is_not_backup_info_is_refused():
    with pytest.raises(BackupProblem) as refused:
        pgbackrest.backup_sets(b"hello", b"")
    assert refused.value.code == reasons.RESTORE_FAILED


def repository(root):
    """A repository on disk (plaintext info: the tree is what is tested here)."""
    def write(key: str, data: bytes = b"x" * 10):
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    write("backup/officine/backup.info", INFO)
    write("backup/officine/backup.info.copy", INFO)
    write("archive/officine/archive.info")
    for label in (OLDER, FULL, DIFF):
        write(f"backup/officine/{label}/backup.manifest")
        write(f"backup/officine/{label}/pg_data/base/1/1234.gz")
    for segment in range(1, 9):
        write(f"archive/officine/15-1/0000000100000000/{wal.name(1, segment)}-{segment:040x}.gz")
    write("archive/officine/15-1/00000002.history")
    os.symlink("/etc/passwd", root / f"backup/officine/{DIFF}/pg_data/base/1/planted")
    return pgbackrest.Repository(type("Source", (), {"type": "local", "path": str(root)})(), "officine", b"")


def test_a_drill_hands_on_the_set_its_references_and_the_wal_from_its_start_never_a_link(tmp_path):
    repo = repository(tmp_path)
    newest = repo.backups()[0]
    keys = [entry.key for entry in repo.members(newest.physical)]
    assert {key.split("/")[2] for key in keys if key.startswith("backup/officine/2")} == {FULL, DIFF}
    segments = sorted(wal.parse(key.rsplit("/", 1)[-1])[1] for key in keys if "/0000000100000000/" in key)
    assert segments == [6, 7, 8]  # from the differential's start on
    assert "archive/officine/15-1/00000002.history" in keys and "backup/officine/backup.info" in keys
    assert not any(key.endswith("planted") for key in keys)  # a link to the worker's files is not followed
    assert newest.wal_gap() is None
    (tmp_path / f"archive/officine/15-1/0000000100000000/{wal.name(1, 7)}-{7:040x}.gz").unlink()
    again = pgbackrest.Repository(type("Source", (), {"type": "local", "path": str(tmp_path)})(), "officine", b"")
    assert again.backups()[0].wal_gap() == wal.name(1, 7)  # a repository is listed once per use: read it again


def test_the_stream_is_the_size_announced_and_a_tar_of_the_files(tmp_path):
    repo = repository(tmp_path)
    backup = repo.backups()[1]
    reader = backup.open()
    buffer, chunks = bytearray(1 << 16), []
    while count := reader.readinto(buffer):
        chunks.append(bytes(buffer[:count]))
    data = b"".join(chunks)
    assert len(data) == backup.size
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        names = archive.getnames()
    assert f"repo/backup/officine/{FULL}/pg_data/base/1/1234.gz" in names
    assert not any(DIFF in name for name in names)  # the full needs no differential


def test_a_file_that_changed_while_read_is_an_error_of_the_source_never_a_spliced_stream(tmp_path):
    path = tmp_path / "segment"
    path.write_bytes(b"a" * 100)
    for size in (90, 110):
        with pytest.raises(InfrastructureError) as changed:
            b"".join(tar_stream([("segment", size, lambda: open(path, "rb"))]))
        assert changed.value.code == reasons.ERROR_SOURCE and "changed while it was read" in changed.value.message
    assert stream_size([("segment", 100)]) == len(b"".join(tar_stream([("segment", 100, lambda: open(path, "rb"))])))


def test_amcheck_output_becomes_one_finding_per_relation_and_block():
    output = ('heap table "officine.public.victim", block 0, offset 1:\n'
              "    xmin 4294967280 equals or exceeds next valid transaction ID 0:741\n"
              'btree index "officine.public.victim_id_idx":\n    heap tuple (0,1) lacks matching index tuple\n')
    summary, findings = physical.corruptions(2, output)
    assert summary == {"corruptions": 2, "checked": True}
    assert [(finding.subject, finding.code) for finding in findings] == [
        ("officine.public.victim", reasons.VERIFY_CORRUPT_DATA),
        ("officine.public.victim_id_idx", reasons.VERIFY_CORRUPT_DATA)]
    assert "block 0" in findings[0].message and "xmin" in findings[0].message
    assert physical.corruptions(0, "") == ({"corruptions": 0, "checked": True}, [])
    failed, found = physical.corruptions(1, "pg_amcheck: error: connection refused")
    assert failed["checked"] is False and found[0].code == reasons.VERIFY_CORRUPT_DATA


def test_the_end_point_is_read_only_when_it_looks_like_one():
    assert physical.end_point(0, "0/7000000|2026-12-02 08:17:55.123456|2\n")[0] == {
        "end_lsn": "0/7000000", "end_time": "2026-12-02T08:17:55.123456Z", "timeline": 2}
    assert physical.end_point(0, "0/7000000||2")[0]["end_time"] is None  # nothing replayed after the backup
    assert physical.end_point(0, "'; DROP|x|y")[0] is None and physical.end_point(1, "")[0] is None


def test_a_set_claiming_a_newer_time_than_its_files_is_as_old_as_its_files(tmp_path):
    """backup.info is the backup's word: a set stopped "in 2030" is as old as its files at the source,
    and a recovery's end point is never newer than the newest file handed on."""
    from datetime import datetime, timedelta, timezone
    from drills.engines import recovery

    repository(tmp_path)
    info = backup_info((FULL, fields("000000010000000000000003", 1_900_000_000)))  # 2030
    (tmp_path / "backup/officine/backup.info").write_bytes(info)
    again = pgbackrest.Repository(type("Source", (), {"type": "local", "path": str(tmp_path)})(), "officine", b"")
    claimed = again.backups()[0]
    manifest = tmp_path / f"backup/officine/{FULL}/backup.manifest"
    stored = datetime.fromtimestamp(manifest.stat().st_mtime, timezone.utc)
    assert claimed.modified == stored < datetime(2030, 1, 1, tzinfo=timezone.utc)
    forged = {"end_time": "2031-01-01T00:00:00Z"}
    assert recovery.data_time(forged, claimed) == claimed.physical.stored_until
    assert claimed.physical.stored_until < datetime(2030, 1, 1, tzinfo=timezone.utc)
    honest = {"end_time": (claimed.modified - timedelta(hours=1)).isoformat()}
    assert recovery.data_time(honest, claimed) == claimed.modified - timedelta(hours=1)
    assert recovery.data_time(None, claimed) == claimed.modified and recovery.data_time(None, None) is None
