"""Format basebackup without servers: the base tar's backup_label read as it passes, the archived
WAL listed, checked for gaps, decrypted and handed on as a tar GNU tar reads after the base one,
its plan, and its catalog rules (the real drills: tests/integration/test_basebackup.py)."""

import hashlib
import io
import subprocess
import tarfile
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
import zstandard
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from drills.catalog import load_catalog
from drills.crypto import bech32
from drills.crypto.encrypt import AgeWriter
from drills.crypto.identities import X25519Identity
from drills.engines import ENGINES, basebackup, recovery
from drills.engines.plan import EARLY, Request
from drills.errors import BackupProblem, ConfigError
from drills.sources.backup import Backup
from drills.sources.walarchive import MAX_FILE, WalArchive, with_archive
from drills import reasons
from tests.helpers import site_entry, write_catalog

LABEL = (b"START WAL LOCATION: 0/3000028 (file 000000010000000000000003)\nCHECKPOINT LOCATION: 0/3000060\n"
         b"BACKUP METHOD: streamed\nLABEL: pg_basebackup base backup\nSTART TIMELINE: 1\n")
SEGMENT = "0000000100000000000000{:02X}"
KEY = X25519PrivateKey.generate()


def recipient(public: bytes) -> str:
    """The age1... string of an X25519 public key (bech32, BIP 173)."""
    values, accumulator, bits = [], 0, 0
    for byte in public:
        accumulator, bits = accumulator << 8 | byte, bits + 8
        while bits >= 5:
            bits -= 5
            values.append(accumulator >> bits & 31)
    values += [accumulator << (5 - bits) & 31] if bits else []
    checksum = bech32.polymod([3, 3, 3, 0, 1, 7, 5] + values + [0] * 6) ^ 1  # "age", expanded
    values += [checksum >> 5 * (5 - index) & 31 for index in range(6)]
    return "age1" + "".join(bech32.CHARSET[value] for value in values)


RECIPIENT = recipient(KEY.public_key().public_bytes_raw())
IDENTITIES = (X25519Identity(KEY.private_bytes_raw()),)


def tar_of(*members: tuple[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        for name, content in members:
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


BASE = tar_of(("backup_label", LABEL), ("PG_VERSION", b"15\n"), ("global/pg_control", b"\x01" * 8192))


def encrypted(plaintext: bytes) -> bytes:
    output = io.BytesIO()
    with AgeWriter(output, [RECIPIENT]) as writer:
        writer.write(plaintext)
    return output.getvalue()


@pytest.fixture
def site_dir(tmp_path):
    """A local source: the WAL folder holds segments 2 to 6 (5 zstd-compressed) and a history file,
    each age-encrypted, and files that are not WAL."""
    folder = tmp_path / "wal"
    folder.mkdir()
    for number in range(2, 7):
        content = bytes([number]) * 4096
        if number == 5:
            (folder / f"{SEGMENT.format(number)}.zst.age").write_bytes(
                encrypted(zstandard.ZstdCompressor().compress(content)))
        else:
            (folder / f"{SEGMENT.format(number)}.age").write_bytes(encrypted(content))
    (folder / "00000002.history.age").write_bytes(encrypted(b"1\t0/5000000\tno recovery target specified\n"))
    (folder / f"{SEGMENT.format(3)}.00000028.backup.age").write_bytes(b"not read")
    (folder / "README").write_text("not WAL")
    (folder / "old").mkdir()
    (folder / "old" / f"{SEGMENT.format(7)}.age").write_bytes(b"not read: in a subfolder")
    return tmp_path


def archive_at(site_dir, start: str | None = SEGMENT.format(3)) -> WalArchive:
    archive = WalArchive(SimpleNamespace(type="local", path=site_dir), "wal/")
    archive.start = start
    return archive


def test_the_start_is_read_from_backup_label_the_base_tars_first_member():
    assert basebackup.start_of(BASE[:100]) is None  # more bytes needed
    assert basebackup.start_of(BASE[:512 + len(LABEL)]) == ("0/3000028", SEGMENT.format(3))


@pytest.mark.parametrize("head, words", [
    (b"PGDMP\x01" + bytes(600), "backup_label is not its first member"),  # a custom dump
    (tar_of(("PG_VERSION", b"15\n"), ("backup_label", LABEL)), "backup_label is not its first member"),
    (tar_of(("backup_label", b"LABEL: made up\n")), "names no START WAL LOCATION"),
    (BASE[:300], "backup_label is not its first member"),  # the stream ended within the header
])
def test_a_tar_that_is_not_a_base_backup_is_refused_as_it_starts(head, words):
    with pytest.raises(BackupProblem) as refused:
        basebackup.start_of(head, ended=True)
    assert refused.value.code == reasons.RESTORE_FAILED and words in refused.value.message
    assert "pg_basebackup -D - -Ft -X fetch" in refused.value.hint


def test_the_archive_lists_only_wal_files_directly_in_its_folder(site_dir):
    assert sorted(archive_at(site_dir).entries()) == [*(SEGMENT.format(n) for n in range(2, 7)), "00000002.history"]


def test_a_gap_is_the_first_segment_missing_after_the_start_which_the_base_holds(site_dir):
    assert archive_at(site_dir).gap() is None
    (site_dir / "wal" / f"{SEGMENT.format(4)}.age").unlink()
    assert archive_at(site_dir).gap() == SEGMENT.format(4)
    (site_dir / "wal" / f"{SEGMENT.format(3)}.age").unlink()  # the start: pg_basebackup -X fetch put it in the base
    assert archive_at(site_dir, SEGMENT.format(3)).gap() == SEGMENT.format(4)
    assert archive_at(site_dir, SEGMENT.format(7)).gap() is None  # nothing archived after a new base backup yet


def test_two_files_for_one_segment_and_a_hostile_name_are_refused(site_dir):
    (site_dir / "wal" / f"{SEGMENT.format(4)}.gz.age").write_bytes(b"")
    with pytest.raises(BackupProblem, match="two files for 000000010000000000000004"):
        archive_at(site_dir).entries()
    (site_dir / "wal" / f"{SEGMENT.format(4)}.gz.age").unlink()
    (site_dir / "wal" / "bad\x1bname").write_bytes(b"")
    with pytest.raises(BackupProblem) as refused:
        archive_at(site_dir).entries()
    assert refused.value.code == reasons.RESTORE_FAILED and "'wal/bad?name'" in refused.value.message


def members(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
        return {member.name: archive.extractfile(member).read() for member in archive.getmembers()}


def test_the_wal_from_the_start_on_is_decrypted_into_a_tar_and_its_ciphertext_hashed_in_order(site_dir):
    archive = archive_at(site_dir)
    tar = b"".join(archive.tar(".drill-wal-tok", IDENTITIES, 10**9))
    found = members(tar)
    assert list(found) == [f".drill-wal-tok/{name}" for name in
                           [*(SEGMENT.format(n) for n in range(3, 7)), "00000002.history"]]  # 2: before the start
    assert found[f".drill-wal-tok/{SEGMENT.format(5)}"] == b"\x05" * 4096  # decompressed
    shipped = [*(f"{SEGMENT.format(n)}.age" for n in (3, 4)), f"{SEGMENT.format(5)}.zst.age",
               f"{SEGMENT.format(6)}.age", "00000002.history.age"]
    ciphertext = b"".join((site_dir / "wal" / name).read_bytes() for name in shipped)
    assert archive.described() == {"start": SEGMENT.format(3), "files": 5, "bytes": len(ciphertext),
                                    "sha256": hashlib.sha256(ciphertext).hexdigest()}


def test_a_wal_file_that_does_not_open_or_outgrows_the_limit_is_named(site_dir):
    (site_dir / "wal" / f"{SEGMENT.format(4)}.age").write_bytes(b"age-encryption.org/v1\n-> X25519 garbage\n")
    with pytest.raises(BackupProblem) as refused:
        b"".join(archive_at(site_dir).tar("w", IDENTITIES, 10**9))
    assert refused.value.code == reasons.DECRYPT_CORRUPT
    assert refused.value.message.startswith(f"WAL file {SEGMENT.format(4)}: ")
    with pytest.raises(BackupProblem) as refused:
        b"".join(archive_at(site_dir).tar("w", IDENTITIES, 4000))
    assert refused.value.code == reasons.RESTORE_TOO_LARGE and SEGMENT.format(3) in refused.value.message


def test_a_wal_file_decompressing_past_a_segments_size_is_refused_before_it_is_held(site_dir):
    """A file is held whole in the worker's memory (its tar header needs its size): a zstd bomb in
    the archive is refused at MAX_FILE, however large the drill's max_decompressed."""
    bomb = zstandard.ZstdCompressor().compress(bytes(MAX_FILE + 1))  # a few KB on disk
    (site_dir / "wal" / f"{SEGMENT.format(5)}.zst.age").write_bytes(encrypted(bomb))
    with pytest.raises(BackupProblem) as refused:
        b"".join(archive_at(site_dir).tar("w", IDENTITIES, 10**12))
    assert refused.value.code == reasons.RESTORE_TOO_LARGE and SEGMENT.format(5) in refused.value.message


def label_of(site_dir):
    backup, = with_archive([Backup("base-1.tar.age", 1, datetime.now(timezone.utc), None, None)],
                           SimpleNamespace(type="local", path=site_dir), "wal")
    return backup.physical


def test_the_filter_hands_on_the_base_then_the_wal_and_gnu_tar_extracts_both(site_dir, tmp_path):
    label = label_of(site_dir)
    filtered = basebackup.with_wal(label, IDENTITIES, ".drill-wal-tok", 10**9, latest=True)
    stream = b"".join(filtered(iter([BASE[:700], BASE[700:]])))
    assert stream.startswith(BASE) and label.lsn_start == "0/3000028"
    target = tmp_path / "data"
    target.mkdir()
    subprocess.run(basebackup.EXTRACT[:-3] + (str(target), "-f", "-"), input=stream, check=True)
    assert (target / "backup_label").read_bytes() == LABEL and (target / "global" / "pg_control").stat().st_size == 8192
    assert (target / ".drill-wal-tok" / SEGMENT.format(6)).read_bytes() == b"\x06" * 4096
    assert label.wal["files"] == 5 and label.wal["start"] == SEGMENT.format(3)


def test_a_gap_before_the_latest_point_is_restore_wal_gap_before_anything_streams(site_dir):
    (site_dir / "wal" / f"{SEGMENT.format(5)}.zst.age").unlink()
    filtered = basebackup.with_wal(label_of(site_dir), IDENTITIES, "w", 10**9, latest=True)
    stream = filtered(iter([BASE]))
    with pytest.raises(BackupProblem) as refused:
        next(stream)
    assert refused.value.code == reasons.RESTORE_WAL_GAP and SEGMENT.format(5) in refused.value.message
    time_target = basebackup.with_wal(label_of(site_dir), IDENTITIES, "w", 10**9, latest=False)
    assert b"".join(time_target(iter([BASE]))).startswith(BASE)  # the recovery tells, then explain names the gap


def test_the_wal_counts_against_max_decompressed_with_the_base(site_dir):
    filtered = basebackup.with_wal(label_of(site_dir), IDENTITIES, "w", len(BASE) + 4096 * 2, latest=True)
    with pytest.raises(BackupProblem) as refused:
        b"".join(filtered(iter([BASE])))
    assert refused.value.code == reasons.RESTORE_TOO_LARGE


def test_the_plan_extracts_into_the_data_directory_then_recovers_from_the_attempts_wal_folder(site_dir):
    site = SimpleNamespace(id="pharmacie", engine=ENGINES["postgres"].settings(format="basebackup", tmpfs="64m",
                                                                              memory="256m"))
    label = label_of(site_dir)
    plan = ENGINES["postgres"].plan(site, "d1", "/run/restore-drill/d1.a1b2c3", Request(
        SimpleNamespace(physical=label), None, IDENTITIES))
    assert [(step.what, step.when, step.dump) for step in plan.steps] == [
        ("extracting the base backup", EARLY, True), ("preparing the recovery", EARLY, False),
        ("starting the server in recovery", EARLY, False), ("replaying the WAL", EARLY, False)]
    assert plan.steps[0].command == ("tar", "-x", "--ignore-zeros", "--no-same-owner", "-C",
                                     "/var/lib/postgresql/data", "-f", "-")
    assert 'cp /var/lib/postgresql/data/.drill-wal-a1b2c3/%f "%p"' in plan.steps[2].command[2]
    assert plan.age and [fact.name for fact in plan.facts] == ["recovery", "amcheck"]
    failed = BackupProblem(reasons.RESTORE_FAILED, "replaying the WAL failed")
    assert plan.explain(failed) is failed  # the start is not known yet: no gap to blame
    label.archive.start = SEGMENT.format(3)
    (site_dir / "wal" / f"{SEGMENT.format(4)}.age").unlink()
    label.archive.listed = None
    assert plan.explain(failed).code == reasons.RESTORE_WAL_GAP


def test_the_report_says_where_the_base_backup_started_and_which_wal_was_handed_on(site_dir):
    label = label_of(site_dir)
    filtered = basebackup.with_wal(label, IDENTITIES, "w", 10**9, latest=True)
    b"".join(filtered(iter([BASE])))
    described = recovery.described({"recovery": {"end_lsn": "0/7000000", "end_time": None, "timeline": 2}},
                                   SimpleNamespace(name="base-1.tar.age", physical=label), None)
    assert described["set"] == "base-1.tar.age" and described["kind"] == "base"
    assert described["lsn_start"] == "0/3000028" and described["lsn_stop"] is None
    assert described["wal"]["files"] == 5 and described["target"] == "latest"


def test_files_named_as_wal_are_never_base_backups(site_dir):
    now = datetime.now(timezone.utc)
    with pytest.raises(BackupProblem) as refused:
        with_archive([Backup(f"{SEGMENT.format(2)}.age", 1, now, None, None),
                      Backup(f"{SEGMENT.format(2)}.00000028.backup.age", 1, now, None, None)],
                     SimpleNamespace(type="local", path=site_dir), "wal")
    assert refused.value.code == reasons.BACKUP_MISSING


def test_the_wal_folder_is_relative_and_read_from_a_local_path_or_s3_only(site_dir):
    engine = ENGINES["postgres"]
    for folder in ("../wal", "/wal", "a/../b", "."):
        with pytest.raises(ValueError, match="engine.wal"):
            engine.settings(format="basebackup", wal=folder)
    assert engine.settings(format="basebackup", wal="archives/wal/").wal == "archives/wal/"
    with pytest.raises(ConfigError, match="local path or S3, not sftp"):
        WalArchive(SimpleNamespace(type="sftp"), "wal")


def test_a_physical_format_with_an_sftp_source_is_refused_when_the_catalog_loads(tmp_path):
    entry = site_entry("pharmacie", tmp_path, tmp_path / "id.agekey", engine={"format": "basebackup"})
    entry["source"] = {"type": "sftp", "host": "127.0.0.1", "user": "drill", "key_file": "id", "known_hosts": "kh",
                       "path": "/backups", "pattern": "base-*.age"}
    with pytest.raises(ConfigError) as refused:
        load_catalog(write_catalog(tmp_path, [entry]))
    assert "sites.0.source.type: format basebackup reads a local path or S3" in refused.value.message
