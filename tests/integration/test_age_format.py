"""Our streamed age decoder against files written by the reference `age` CLI (Debian's 1.1.1)."""

import io
import os
import subprocess

import pytest

from drills.crypto import age
from drills.crypto.identities import PassphraseIdentity, X25519Identity
from drills.errors import BackupProblem
from tests.helpers import age_identity, age_with_passphrase

SEALED_CHUNK = 64 * 1024 + 16


@pytest.fixture(scope="module")
def identity(tmp_path_factory, age_cli):
    folder = tmp_path_factory.mktemp("age")
    recipient = age_identity(folder / "key")
    secret = next(line for line in (folder / "key").read_text().splitlines() if line.startswith("AGE-SECRET"))
    return {"recipient": recipient, "identity": X25519Identity.parse(secret), "folder": folder}


def encrypt(recipient: str, plaintext: bytes) -> bytes:
    return subprocess.run(["age", "-r", recipient], input=plaintext, capture_output=True, check=True).stdout


def decrypt(ciphertext: bytes, identities) -> bytes:
    return b"".join(age.decrypt(io.BufferedReader(io.BytesIO(ciphertext)), identities))


def reason(ciphertext: bytes, identities) -> str:
    with pytest.raises(BackupProblem) as raised:
        decrypt(ciphertext, identities)
    return raised.value.code


@pytest.mark.parametrize("size", [0, 1, 64 * 1024 - 1, 64 * 1024, 64 * 1024 + 1, 3 * 64 * 1024, 1_000_003])
def test_files_written_by_the_age_cli_decrypt_to_the_same_bytes(identity, size):
    plaintext = os.urandom(size)
    assert decrypt(encrypt(identity["recipient"], plaintext), [identity["identity"]]) == plaintext


def test_chunks_are_yielded_one_at_a_time_so_memory_stays_flat(identity):
    ciphertext = encrypt(identity["recipient"], os.urandom(1_000_000))
    sizes = [len(chunk) for chunk in age.decrypt(io.BufferedReader(io.BytesIO(ciphertext)), [identity["identity"]])]
    assert max(sizes) == 64 * 1024 and len(sizes) == 16


def test_a_file_encrypted_with_a_passphrase_decrypts_with_it(identity):
    path = identity["folder"] / "secret.age"
    age_with_passphrase(path, "correct horse battery staple", b"ordonnances du jour\n")
    ciphertext = path.read_bytes()
    assert decrypt(ciphertext, [PassphraseIdentity(b"correct horse battery staple", 20)]) == b"ordonnances du jour\n"
    assert reason(ciphertext, [PassphraseIdentity(b"wrong", 20)]) == "decrypt.wrong_key"
    assert reason(ciphertext, [PassphraseIdentity(b"correct horse battery staple", 10)]) == \
        "decrypt.work_factor_too_high"


def test_each_kind_of_damage_has_its_reason(identity):
    other = X25519Identity(os.urandom(32))
    ciphertext = encrypt(identity["recipient"], os.urandom(200_000))
    header_end = ciphertext.index(b"\n---") + 1
    payload_start = ciphertext.index(b"\n", header_end) + 1
    mine = [identity["identity"]]

    def flipped(offset):
        return ciphertext[:offset] + bytes([ciphertext[offset] ^ 1]) + ciphertext[offset + 1:]

    assert reason(ciphertext, [other]) == "decrypt.wrong_key"
    assert reason(b"", mine) == "decrypt.corrupt"
    assert reason(b"PGDMP not encrypted at all", mine) == "decrypt.corrupt"
    assert reason(ciphertext[:10], mine) == "decrypt.corrupt"
    assert reason(ciphertext[:payload_start], mine) == "decrypt.corrupt"
    assert reason(ciphertext[:payload_start + 16 + SEALED_CHUNK], mine) == "decrypt.corrupt"
    assert reason(ciphertext[:payload_start + 16 + 1000], mine) == "decrypt.corrupt"
    assert reason(flipped(header_end + 6), mine) == "decrypt.corrupt"  # the header MAC
    assert reason(flipped(payload_start + 16 + 10), mine) == "decrypt.corrupt"  # first chunk
    assert reason(flipped(len(ciphertext) - 5), mine) == "decrypt.corrupt"  # last chunk
    assert reason(ciphertext + b"trailing", mine) == "decrypt.corrupt"


def test_an_armored_file_decrypts_like_the_binary_one(identity):
    plaintext = os.urandom(200_000)
    armored = subprocess.run(["age", "-a", "-r", identity["recipient"]], input=plaintext, capture_output=True,
                             check=True).stdout
    assert decrypt(armored, [identity["identity"]]) == plaintext
    assert decrypt(armored.replace(b"\n", b"\r\n"), [identity["identity"]]) == plaintext
    assert reason(armored + b"trailing", [identity["identity"]]) == "decrypt.corrupt"
