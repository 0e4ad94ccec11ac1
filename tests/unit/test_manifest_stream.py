"""A manifest read as a drill reads it (drills.manifest.find): streamed from its source, age-decrypted
as a stream by the real age CLI's file, spooled into the work directory, read member by member
(drills.json_stream) and its files stored in SQLite (drills.expected_files)."""

import hashlib
import io
import json
import subprocess
from datetime import datetime, timezone

import pytest

from drills import json_stream, manifest
from drills.crypto.identities import X25519Identity
from drills.errors import BackupProblem
from drills.expected_files import FileEntry
from drills.sources import local
from tests.helpers import age_identity

TAKEN = datetime(2026, 12, 1, 8, tzinfo=timezone.utc)


def listing(count: int) -> dict:
    return {f"scans/{number:05d}.pdf": {"size": number, "sha256": hashlib.sha256(str(number).encode()).hexdigest()}
            for number in range(count)}


def test_an_encrypted_manifest_is_decrypted_spooled_and_its_files_taken_from_its_database(tmp_path, age_cli):
    recipient = age_identity(tmp_path / "key.txt")
    identity = X25519Identity.parse((tmp_path / "key.txt").read_text().splitlines()[-1])
    (tmp_path / "scans.tar.age").write_bytes(b"backup")
    text = manifest.render("cabinet", "files", TAKEN, files=listing(3000))
    subprocess.run([age_cli, "-r", recipient, "-o", str(tmp_path / "scans.tar.age.manifest.json.age")],
                   input=text.encode(), check=True)
    found, name = manifest.find(local.describe(tmp_path / "scans.tar.age"), [identity], tmp_path / "work")
    assert name == "scans.tar.age.manifest.json.age" and (found.site, found.engine) == ("cabinet", "files")
    assert sorted(path.name for path in (tmp_path / "work").iterdir()) == ["manifest.sqlite"]
    files = found.files
    assert (files.count, files.bytes) == (3000, sum(range(3000)))
    assert files.take("scans/00007.pdf") == FileEntry(7, hashlib.sha256(b"7").digest())
    assert files.take("scans/00007.pdf") is None and files.take("elsewhere.pdf") is None
    for number in range(3, 3000):
        files.take(f"scans/{number:05d}.pdf")
    assert files.missing(10) == (3, ["scans/00000.pdf", "scans/00001.pdf", "scans/00002.pdf"])


def test_a_manifest_past_the_cap_is_refused_while_it_streams(tmp_path, monkeypatch):
    (tmp_path / "scans.tar").write_bytes(b"backup")
    (tmp_path / "scans.tar.manifest.json").write_text(manifest.render("cabinet", "files", TAKEN, files=listing(200)))
    monkeypatch.setattr(manifest, "MAX_MANIFEST_BYTES", 4096)
    with pytest.raises(BackupProblem, match=r"scans.tar.manifest.json is larger than 4,096 bytes") as refused:
        manifest.find(local.describe(tmp_path / "scans.tar"), [], tmp_path / "work")
    assert refused.value.code == "manifest.invalid" and list((tmp_path / "work").iterdir()) == []


def test_a_path_listed_twice_or_files_listed_twice_is_invalid():
    entry = {"size": 1, "sha256": "0" * 64}
    head = '{"format": 1, "site": "c", "engine": "files", "taken_at": "2026-12-01T08:00:00+00:00", '
    with pytest.raises(BackupProblem, match="lists the file 'a.pdf' twice"):
        manifest.parse((head + f'"files": {{"a.pdf": {json.dumps(entry)}, "a.pdf": {json.dumps(entry)}}}}}').encode())
    with pytest.raises(BackupProblem, match="lists its files twice"):
        manifest.parse((head + f'"files": {{"a.pdf": {json.dumps(entry)}}}, "files": {{}}}}').encode())


def test_a_number_cut_by_the_buffer_is_read_whole_and_trailing_data_is_not_json(monkeypatch):
    monkeypatch.setattr(json_stream, "CHUNK", 7)  # every value crosses a refill
    document = {"format": 1, "tables": {"t": 1234567890123}, "files": {"a b": [1.5, None, "é"]}}
    members = json_stream.top_level(io.StringIO(json.dumps(document)), "files", 1000)
    read = {key: dict(value) if key == "files" else value for key, value in members}
    assert read == document
    for broken in ('{"a": 1} 2', '{"a": 1,}', '{"a" 1}', '{"a": 12', '[1, 2'):
        with pytest.raises(ValueError):
            list(json_stream.top_level(io.StringIO(broken), "files", 1000))
    assert list(json_stream.top_level(io.StringIO(" [1, 2] "), "files", 1000)) == [(None, [1, 2])]


def test_a_member_larger_than_the_limit_is_refused_before_it_is_read_whole(monkeypatch):
    monkeypatch.setattr(json_stream, "CHUNK", 100)
    text = json.dumps({"format": 1, "site": "x" * 5000})
    with pytest.raises(json_stream.TooLarge):
        list(json_stream.top_level(io.StringIO(text), "files", 1000))


@pytest.mark.parametrize("document, why", [
    (b'{"format": 1, ' + b", ".join(b'"x%d": [' % n + b"[]," * 1_000_000 + b"[]]" for n in range(6)) + b"}",
     "characters outside its large member"),  # small members together: bounded, not 2 GB of lists
    (b'{"format": 1, "tables": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "not JSON"),  # RecursionError
    (b'{"format": true, "site": "s", "taken_at": "2026-11-20T02:00:00Z", "engine": "files", "files": {}}',
     "not format"),
    (b'{"format": 1, "files": {"a": {"size": true, "sha256": "' + b"0" * 64 + b'"}}}', "files must map paths to"),
])
def test_a_hostile_manifest_is_refused_as_manifest_invalid_without_holding_its_members(document, why):
    with pytest.raises(BackupProblem, match=why) as refused:
        manifest.parse(document)
    assert refused.value.code == "manifest.invalid"
