"""One conformance suite for every source plug-in: the newest backup is chosen (by time, not
by name), an empty source is `backup.missing` (the site's fault), an unreachable source is
`error.source` (ours: retried, the site not blamed), an object that cannot be read is an
error too, siblings (manifests) are read by suffix, and bytes stream back intact."""

import io
import os
import time
import uuid
from datetime import datetime, timezone

import pytest

from drills import sources
from drills.catalog.model import LocalSource, S3Location, S3Source, SftpSource
from drills.errors import BackupProblem, InfrastructureError


class LocalStore:
    def __init__(self, tmp_path):
        self.folder = tmp_path / "backups"
        self.folder.mkdir()
        self.clock = time.time() - 1000

    def put(self, name: str, data: bytes) -> None:
        (self.folder / name).write_bytes(data)
        self.clock += 10
        os.utime(self.folder / name, (self.clock, self.clock))

    def settings(self, pattern="*.age", reachable=True):
        return LocalSource("local", self.folder if reachable else self.folder / "unmounted", pattern)

    def break_object(self, name: str) -> None:
        (self.folder / name).unlink()  # rotated away between listing and reading


class S3Store:
    def __init__(self, server):
        self.server, self.bucket = server, f"backups-{uuid.uuid4().hex[:12]}"
        self.client = server.client()
        self.client.create_bucket(Bucket=self.bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
        os.environ.update({"TEST_S3_KEY": "test-key", "TEST_S3_SECRET": "test-secret"})

    def put(self, name: str, data: bytes) -> None:
        time.sleep(1.05)  # last-modified times have a one-second resolution
        self.client.put_object(Bucket=self.bucket, Key=f"site/{name}", Body=data)

    def settings(self, pattern="*.age", reachable=True):
        endpoint = self.server.endpoint if reachable else "http://127.0.0.1:9"
        return S3Source("s3", S3Location(self.bucket, "site/", endpoint, "eu-west-3", "TEST_S3_KEY", "TEST_S3_SECRET"),
                        pattern)

    def break_object(self, name: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=f"site/{name}", Body=b"replaced while the drill runs")


class SftpStore(LocalStore):
    """Files in a directory served by a real sshd on loopback, read through SFTP."""

    def __init__(self, server, tmp_path):
        super().__init__(tmp_path)
        self.server = server
        server.write_known_hosts("host")

    def settings(self, pattern="*.age", reachable=True):
        port = self.server.port if reachable else 9
        return SftpSource("sftp", "127.0.0.1", port, self.server.user, self.server.key_file, self.server.known_hosts,
                          str(self.folder), pattern)


@pytest.fixture(params=["local", "s3", "sftp"])
def store(request, tmp_path):
    if request.param == "s3":
        return S3Store(request.getfixturevalue("s3_server"))
    if request.param == "sftp":
        return SftpStore(request.getfixturevalue("ssh_server"), tmp_path)
    return LocalStore(tmp_path)


def read_all(backup) -> bytes:
    reader = io.BufferedReader(backup.open())
    try:
        return reader.read()
    finally:
        reader.close()


def test_the_newest_backup_is_chosen_by_time_not_by_name(store):
    store.put("b-monday.dump.age", b"monday")
    store.put("a-tuesday.dump.age", b"tuesday")
    store.put("a-tuesday.dump.age.manifest.json", b"{}")
    store.put("notes.txt", b"not a backup")
    chosen = sources.choose(store.settings(), datetime.now(timezone.utc))
    assert (chosen.name, chosen.size) == ("a-tuesday.dump.age", 7)
    assert read_all(chosen) == b"tuesday"
    assert chosen.read_sibling(".manifest.json") == b"{}" and chosen.read_sibling(".manifest.json.age") is None


def test_a_large_backup_streams_back_byte_for_byte(store):
    data = os.urandom(3 * 1024 * 1024 + 17)
    store.put("big.dump.age", data)
    assert read_all(sources.choose(store.settings(), datetime.now(timezone.utc))) == data


def test_an_empty_source_is_the_sites_backup_missing(store):
    store.put("readme.txt", b"no backup here")
    with pytest.raises(BackupProblem) as missing:
        sources.choose(store.settings(), datetime.now(timezone.utc))
    assert missing.value.code == "backup.missing"


def test_an_unreachable_source_is_our_error_not_the_sites(store):
    with pytest.raises(InfrastructureError) as unreachable:
        sources.choose(store.settings(reachable=False), datetime.now(timezone.utc))
    assert unreachable.value.code == "error.source"


def test_a_backup_that_changes_or_vanishes_before_it_is_read_is_an_error(store):
    store.put("only.dump.age", b"backup")
    chosen = sources.choose(store.settings(), datetime.now(timezone.utc))
    store.break_object("only.dump.age")
    with pytest.raises(InfrastructureError) as failed:
        read_all(chosen)
    assert failed.value.code == "error.source"


def test_sftp_refuses_a_changed_or_unknown_host_key(ssh_server, tmp_path):
    store = SftpStore(ssh_server, tmp_path)
    store.put("only.dump.age", b"backup")
    ssh_server.write_known_hosts("impostor")  # the key we knew is not the one the server shows
    with pytest.raises(InfrastructureError) as refused:
        sources.choose(store.settings(), datetime.now(timezone.utc))
    assert refused.value.code == "error.source_host_key" and "CHANGED" in refused.value.message
    ssh_server.known_hosts.write_text("")
    with pytest.raises(InfrastructureError) as refused:
        sources.choose(store.settings(), datetime.now(timezone.utc))
    assert refused.value.code == "error.source_host_key" and "unknown" in refused.value.message
