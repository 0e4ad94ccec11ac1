"""Our age decoder against the public C2SP/CCTV age test vectors (npm `cctv-age` 0.2.0, vendored in
tests/data/cctv-age): every vector we hold the identity kind for is classified as the reference does.

A vector is `key: value` lines, a blank line, then the age file (zlib-compressed if it says so).
`success` must decrypt to the `payload` hash; `no match` is a wrong key; every other failure
(header, HMAC, payload, armor) is a damaged file. A failure must hand on only authenticated bytes:
what was yielded before it must be the vector's `payload` (nothing when it names none).
The hybrid post-quantum vectors (an AGE-SECRET-KEY-PQ- identity) are out of scope: no such keys here.
"""

import base64
import hashlib
import hmac
import io
import os
import tracemalloc
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drills.crypto import age
from drills.crypto.identities import PassphraseIdentity, X25519Identity
from drills.crypto.primitives import hkdf
from drills.errors import BackupProblem

VECTORS = Path(__file__).parents[1] / "data" / "cctv-age"
REFERENCE_MAX_WORK_FACTOR = 22  # the reference implementation's default limit
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


@dataclass
class Vector:
    name: str
    expect: str = ""
    payload: str | None = None
    file_key: str = ""
    identities: list[str] = field(default_factory=list)
    passphrases: list[str] = field(default_factory=list)
    comment: str = ""
    data: bytes = b""

    @property
    def kind(self) -> str:
        if any(identity.startswith("AGE-SECRET-KEY-PQ-") for identity in self.identities):
            return "hybrid"
        return "+".join(kind for kind, present in (("x25519", self.identities), ("scrypt", self.passphrases))
                        if present) or "no identity"

    def keys(self) -> list:
        return ([X25519Identity.parse(identity) for identity in self.identities]
                + [PassphraseIdentity(passphrase.encode(), REFERENCE_MAX_WORK_FACTOR)
                   for passphrase in self.passphrases])


def load(path: Path) -> Vector:
    head, _, data = path.read_bytes().partition(b"\n\n")
    vector, compressed = Vector(path.name), False
    for line in head.decode().splitlines():
        key, _, value = line.partition(": ")
        if key == "identity":
            vector.identities.append(value)
        elif key == "passphrase":
            vector.passphrases.append(value)
        elif key == "compressed":
            compressed = value == "zlib"
        elif key in ("expect", "payload", "comment", "file key"):
            setattr(vector, key.replace(" ", "_"), value)
    vector.data = zlib.decompress(data) if compressed else data
    return vector


ALL = [load(path) for path in sorted(VECTORS.iterdir())
       if path.name not in ("LICENSE", "README.md") and not path.name.startswith(".")]
SUPPORTED = [vector for vector in ALL if vector.kind != "hybrid"]


def cases(*expects: str) -> list:
    return [pytest.param(vector, id=vector.name) for vector in SUPPORTED if vector.expect in expects]


def run(vector: Vector) -> tuple[bytes, BackupProblem | None]:
    """The plaintext handed on, and the problem that stopped the decoder (None if it did not)."""
    handed_on = bytearray()
    try:
        for chunk in age.decrypt(io.BufferedReader(io.BytesIO(vector.data)), vector.keys()):
            handed_on += chunk
    except BackupProblem as problem:
        return bytes(handed_on), problem
    return bytes(handed_on), None


def named(name: str) -> Vector:
    return next(vector for vector in ALL if vector.name == name)


def b64(data: bytes) -> bytes:
    return base64.b64encode(data).rstrip(b"=")


def with_stanzas(vector: Vector, stanzas: bytes) -> bytes:
    """The vector's file with `stanzas` added to its header, the MAC made again with its file key."""
    header, _, rest = vector.data.partition(b"\n--- ")
    header += b"\n" + stanzas + b"---"
    mac = hmac.new(hkdf(bytes.fromhex(vector.file_key), salt=b"", info=b"header"), header, hashlib.sha256)
    return header + b" " + b64(mac.digest()) + b"\n" + rest.split(b"\n", 1)[1]


def outcome(vector: Vector, data: bytes) -> str:
    try:
        plaintext = b"".join(age.decrypt(io.BufferedReader(io.BytesIO(data)), vector.keys()))
    except BackupProblem as problem:
        return problem.code
    return "payload" if hashlib.sha256(plaintext).hexdigest() == vector.payload else "other plaintext"


def armored(data: bytes, eol: bytes) -> bytes:
    lines = [base64.b64encode(data[start:start + 48]) for start in range(0, len(data), 48)]
    return eol.join([b"-----BEGIN AGE ENCRYPTED FILE-----", *lines, b"-----END AGE ENCRYPTED FILE-----", b""])


def test_every_vendored_vector_is_there_and_counted_by_identity_kind():
    kinds = [vector.kind for vector in ALL]
    assert len(ALL) == 143
    assert {kind: kinds.count(kind) for kind in set(kinds)} == {
        "x25519": 96, "scrypt": 25, "x25519+scrypt": 1, "no identity": 2, "hybrid": 19}


@pytest.mark.parametrize("vector", cases("success"))
def test_a_good_file_decrypts_to_the_expected_plaintext(vector):
    plaintext, problem = run(vector)
    assert problem is None, f"{vector.comment}: {problem}"
    assert hashlib.sha256(plaintext).hexdigest() == vector.payload


@pytest.mark.parametrize("vector", cases("no match"))
def test_a_file_no_identity_opens_is_a_wrong_key(vector):
    plaintext, problem = run(vector)
    assert problem is not None and problem.code == "decrypt.wrong_key", f"{vector.comment}: {problem}"
    assert plaintext == b""


@pytest.mark.parametrize("vector", cases("header failure", "HMAC failure", "payload failure", "armor failure"))
def test_a_damaged_file_is_corrupt_and_only_authenticated_bytes_were_handed_on(vector):
    plaintext, problem = run(vector)
    expected = ("decrypt.work_factor_too_high" if vector.name == "scrypt_work_factor_23"  # a factor above the limit
                else "decrypt.corrupt")
    assert problem is not None and problem.code == expected, f"{vector.expect} ({vector.comment}): {problem}"
    assert hashlib.sha256(plaintext).hexdigest() == (vector.payload or EMPTY_SHA256)


@pytest.mark.parametrize("vector", [pytest.param(vector, id=vector.name) for vector in SUPPORTED])
def test_no_failure_message_shows_a_secret(vector):
    _, problem = run(vector)
    if problem is not None:
        shown = f"{problem.message} {problem.hint}"
        assert not any(secret.lower() in shown.lower() for secret in vector.identities + vector.passphrases)


@pytest.mark.parametrize("eol", [b"\n", b"\r\n"], ids=["LF", "CRLF"])
def test_a_large_armored_file_decrypts_like_the_binary_one_chunk_by_chunk_in_little_memory(eol):
    vector = named("stream_258_chunks")  # 16 MiB of plaintext
    data = armored(vector.data, eol)
    outcome(named("armor_x25519"), named("armor_x25519").data)  # one-time allocations (imports) first
    tracemalloc.start()
    try:
        sizes, digest = [], hashlib.sha256()
        for chunk in age.decrypt(io.BufferedReader(io.BytesIO(data)), vector.keys()):
            sizes.append(len(chunk))
            digest.update(chunk)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert digest.hexdigest() == vector.payload and max(sizes) == 64 * 1024 and len(sizes) == 258
    assert peak < 2 * 1024 * 1024  # a few 64 KiB buffers, not the 22 MB of text


def test_an_armored_file_cut_anywhere_is_corrupt():
    vector = named("armor_x25519")
    for end in range(len(vector.data) - 1):  # all but the final end of line, which may be missing
        with pytest.raises(BackupProblem) as raised:
            b"".join(age.decrypt(io.BufferedReader(io.BytesIO(vector.data[:end])), vector.keys()))
        assert raised.value.code == "decrypt.corrupt"


def test_a_file_also_encrypted_to_a_post_quantum_recipient_opens_with_our_x25519_key():
    vector = named("x25519")  # a post-quantum stanza's argument line is about 1.5 KB
    stanza = b"-> mlkem768x25519 " + b64(os.urandom(1120)) + b"\n" + b64(os.urandom(32)) + b"\n"
    assert outcome(vector, with_stanzas(vector, stanza)) == "payload"


@pytest.mark.parametrize("stanzas, reason", [
    (b"-> grease " + b"A" * 5000 + b"\n\n", "a line longer than 4096 bytes"),
    (b"-> grease\n" + (b"A" * 64 + b"\n") * 5000 + b"\n", "larger than 256 KiB"),
    (b"-> grease\n\n" * 64, "more than 64 recipient stanzas"),
], ids=["long line", "large header", "many stanzas"])
def test_a_header_past_its_limits_is_corrupt_and_says_which(stanzas, reason):
    vector = named("x25519")
    with pytest.raises(BackupProblem) as raised:
        b"".join(age.decrypt(io.BufferedReader(io.BytesIO(with_stanzas(vector, stanzas))), vector.keys()))
    assert raised.value.code == "decrypt.corrupt" and reason in raised.value.message


@pytest.mark.parametrize("before, after, expected", [
    (b"\n" * 100, b" \r\n\t" * 25, "payload"),
    (b"\n" * 1100, b"", "decrypt.corrupt"),
    (b"", b" " * 1100, "decrypt.corrupt"),
], ids=["a little whitespace", "1 KiB of it before", "1 KiB of it after"])
def test_an_armored_file_may_have_up_to_1_kib_of_whitespace_around_it(before, after, expected):
    vector = named("armor_x25519")
    assert outcome(vector, before + vector.data + after) == expected


@settings(max_examples=300, deadline=None, derandomize=True)
@given(name=st.sampled_from(["x25519", "armor_x25519", "armor_crlf", "stanza_valid_characters"]),
       edits=st.lists(st.tuples(st.integers(0, 2), st.integers(0, 10_000), st.sampled_from(b" \r\n=-A/\x00\xff")),
                      min_size=1, max_size=3))
def test_a_damaged_file_raises_only_a_backup_problem_and_never_other_plaintext(name, edits):
    vector, data = named(name), bytearray(named(name).data)
    for kind, place, byte in edits:
        place %= len(data) + 1
        if kind == 0:
            data.insert(place, byte)
        elif kind == 1:
            del data[place:place + 1]
        else:
            del data[place:]
    assert outcome(vector, bytes(data)) in ("payload", "decrypt.corrupt", "decrypt.wrong_key")
