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
    with chosen.open_sibling(".manifest.json") as sibling:
        assert sibling.read() == b"{}"
    assert chosen.open_sibling(".manifest.json.age") is None


def test_a_large_backup_streams_back_byte_for_byte(store):
    data = os.urandom(3 * 1024 * 1024 + 17)
    store.put("big.dump.age", data)
    assert read_all(sources.choose(store.settings(), datetime.now(timezone.utc))) == data


def test_a_backup_named_as_the_source_lists_it_is_the_one_drilled(store):
    """`drill run SITE --backup NAME` and the recovery-point finder: any backup of the listing, by
    its name; a name the source does not list is the site's backup.missing, never a path."""
    store.put("monday.dump.age", b"monday")
    store.put("tuesday.dump.age", b"tuesday")
    store.put("tuesday.dump.age.manifest.json", b"{}")
    now = datetime.now(timezone.utc)
    assert [backup.name for backup in sources.listing(store.settings())] == ["tuesday.dump.age", "monday.dump.age"]
    older = sources.choose(store.settings(), now, name="monday.dump.age")
    assert (older.name, older.size, read_all(older)) == ("monday.dump.age", 6, b"monday")
    assert older.open_sibling(".manifest.json") is None
    for unknown in ("sunday.dump.age", "tuesday.dump.age.manifest.json", "../backups/monday.dump.age", "*.age"):
        with pytest.raises(BackupProblem) as missing:
            sources.choose(store.settings(), now, name=unknown)
        assert missing.value.code == "backup.missing" and "tuesday.dump.age" in missing.value.hint


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


class CutOnce:
    """A real S3 client whose first download breaks after `cut` bytes, as a flaky network does."""

    def __init__(self, client, cut: int):
        self.client, self.cut, self.ranges = client, cut, []

    def get_object(self, **request):
        from urllib3.exceptions import ProtocolError

        self.ranges.append(request.get("Range"))
        answer = self.client.get_object(**request)
        if len(self.ranges) == 1:
            body, cut = answer["Body"], self.cut

            class Broken:
                def read(self, size):
                    nonlocal cut
                    if cut <= 0:
                        raise ProtocolError("connection reset by peer")
                    data = body.read(min(size, cut))
                    cut -= len(data)
                    return data

                def close(self):
                    body.close()

            answer["Body"] = Broken()
        return answer


def test_an_s3_download_cut_by_the_network_resumes_where_it_stopped(s3_server):
    from drills.sources.s3 import ResumingReader

    store = S3Store(s3_server)
    data = os.urandom(2 * 1024 * 1024 + 5)
    store.put("big.dump.age", data)
    head = store.client.head_object(Bucket=store.bucket, Key="site/big.dump.age")
    client = CutOnce(store.client, cut=700_000)
    reader = io.BufferedReader(ResumingReader(client, store.settings().location, "site/big.dump.age", head["ETag"], {}))
    assert reader.read() == data
    assert client.ranges[0] is None and client.ranges[1].startswith("bytes=") and int(client.ranges[1][6:-1]) > 0


def test_seal_uploads_to_s3_with_the_server_side_encryption_asked_for(s3_server):
    from dataclasses import replace

    store = S3Store(s3_server)
    settings = replace(store.settings(), server_side_encryption="AES256")
    with sources.writer(settings, "sealed.dump.age") as remote:
        remote.write(os.urandom(9 * 1024 * 1024))  # more than one part
    head = store.client.head_object(Bucket=store.bucket, Key="site/sealed.dump.age")
    assert head["ServerSideEncryption"] == "AES256" and head["ContentLength"] == 9 * 1024 * 1024


def test_an_object_encrypted_with_a_customer_key_is_read_with_that_key(s3_server, monkeypatch):
    import base64
    import hashlib
    from dataclasses import replace

    store = S3Store(s3_server)
    key = os.urandom(32)
    encoded = base64.b64encode(key).decode()
    store.client.put_object(Bucket=store.bucket, Key="site/customer.dump.age", Body=b"sealed bytes",
                            SSECustomerAlgorithm="AES256", SSECustomerKey=encoded,
                            SSECustomerKeyMD5=base64.b64encode(hashlib.md5(key).digest()).decode())
    monkeypatch.setenv("SITE_SSE_KEY", encoded)
    settings = replace(store.settings(), sse_customer_key_env="SITE_SSE_KEY")
    sent = []  # moto stores SSE-C objects without enforcing the key: the requests show it was sent
    store.client.meta.events.register("before-call.s3.GetObject", lambda params, **_: sent.append(params["headers"]))
    from drills.sources import s3

    (backup,) = s3.backups(settings, client=store.client)
    assert read_all(backup) == b"sealed bytes"
    assert sent and all(headers.get("x-amz-server-side-encryption-customer-algorithm") == "AES256" for headers in sent)
