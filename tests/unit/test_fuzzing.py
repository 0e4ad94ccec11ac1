"""Bounded fuzzing (hypothesis) of what reads untrusted bytes: the catalog loader, the manifest
parser and the archive reader. Whatever they are fed, no exception escapes but the project's
own errors (DrillError), each with its stable code."""

import io
import json
import re
import tarfile

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from drills import manifest as manifests
from drills.catalog import load_catalog
from drills.errors import DrillError

# Derandomized: CI runs the same examples every time; a failure found once is kept with @example.
BOUNDED = settings(max_examples=150, deadline=None, derandomize=True,
                   suppress_health_check=[HealthCheck.function_scoped_fixture])
JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                                       max_size=4), max_leaves=20)
VALID_MANIFEST = {"format": 1, "site": "s", "taken_at": "2026-11-23T02:00:00+00:00", "engine": "postgres",
                  "tables": {"public.patients": 3}}


@BOUNDED
@given(st.binary(max_size=400))
def test_the_manifest_parser_raises_only_its_own_error_on_any_bytes(data):
    try:
        manifests.parse(data)
    except DrillError as error:
        assert error.code == "manifest.invalid"


@BOUNDED
@given(st.dictionaries(st.sampled_from(["format", "site", "taken_at", "engine", "tables", "files", "x"]), JSON_VALUES,
                       max_size=6))
def test_the_manifest_parser_raises_only_its_own_error_on_any_json(changes):
    try:
        manifests.parse(json.dumps({**VALID_MANIFEST, **changes}).encode())
    except DrillError as error:
        assert error.code == "manifest.invalid"


@BOUNDED
@given(st.text(max_size=300))
@example("=")  # YAML's value tag: no safe constructor (found by this test)
@example("a: !!python/object:os.system x")
def test_the_catalog_loader_raises_only_its_own_error_on_any_text(tmp_path, text):
    path = tmp_path / "catalog.yaml"
    path.write_text(text)
    try:
        load_catalog(path)
    except DrillError as error:
        assert error.code.startswith("config.")


@BOUNDED
@given(JSON_VALUES)
def test_the_catalog_loader_raises_only_its_own_error_on_any_document(tmp_path, document):
    path = tmp_path / "catalog.yaml"
    path.write_text(json.dumps({"evidence": "e/", "signing_key": "k", "sites": [document]}))  # JSON is YAML
    try:
        load_catalog(path)
    except DrillError as error:
        assert error.code.startswith("config.")


def small_tar() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name in ("a.pdf", "b/c.txt"):
            member = tarfile.TarInfo(name)
            member.size = 700
            archive.addfile(member, io.BytesIO(b"%PDF" + b"x" * 696))
    return buffer.getvalue()


@BOUNDED
@given(st.integers(min_value=0, max_value=4095), st.integers(min_value=0, max_value=255), st.integers(0, 4096))
def test_the_archive_reader_raises_only_its_own_error_on_damaged_archives(tmp_path, offset, byte, cut):
    data = bytearray(small_tar())
    data[offset % len(data)] = byte
    path = tmp_path / "damaged.tar"
    path.write_bytes(bytes(data[:len(data) - cut]))
    try:
        manifests.of_archive(path, "s")
    except DrillError as error:
        assert error.code in ("config.usage", "restore.failed")


LINE_BY_LINE = re.compile(rb"\s*(\\[!PTe.]|(system|pager|tee|source|edit)(\s|$))", re.IGNORECASE)  # the old filter's


@BOUNDED
@given(st.lists(st.lists(st.sampled_from([b"INSERT INTO t VALUES", b"(1,'a'),", b"  ", b"\t", b"\r", b"\\! id",
                                          b"\\p", b"system ls", b"systemd", b"SOURCE /x", b"tee", b"-- pager",
                                          b"edit\t"]), max_size=3).map(b"".join), max_size=12),
       st.lists(st.integers(min_value=1, max_value=30), min_size=1, max_size=5))
def test_the_mariadb_filter_refuses_exactly_the_lines_a_line_by_line_judge_refuses(lines, cuts):
    """Judged a block at a time, the dump is refused if and only if one of its lines, judged alone,
    starts with a client command, wherever the chunks are cut."""
    from drills.engines.mariadb import without_client_commands

    dump = b"\n".join(lines)
    chunks, at = [], 0
    for size in cuts * (len(dump) // sum(cuts) + 1):
        chunks.append(dump[at:at + size])
        at += size
    try:
        passed = b"".join(without_client_commands(chunk for chunk in chunks if chunk))
    except DrillError as error:
        assert error.code == "restore.failed" and any(LINE_BY_LINE.match(line) for line in dump.split(b"\n"))
    else:
        assert passed == dump and not any(LINE_BY_LINE.match(line) for line in dump.split(b"\n"))
