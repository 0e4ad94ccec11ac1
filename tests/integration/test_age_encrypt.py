"""Our age encryption opened by the reference `age` CLI (Debian's 1.1.1), and by our decoder."""

import io
import os
import subprocess

import pytest

from drills.crypto import age
from drills.crypto.encrypt import AgeWriter, parse_recipient
from drills.crypto.identities import X25519Identity
from drills.errors import ConfigError
from tests.helpers import age_identity


@pytest.fixture(scope="module")
def keys(tmp_path_factory, age_cli):
    folder = tmp_path_factory.mktemp("age-encrypt")
    recipients = [age_identity(folder / "client"), age_identity(folder / "recovery")]
    return folder, recipients


def sealed(plaintext: bytes, recipients: list[str], write_size: int = 10_000) -> bytes:
    output = io.BytesIO()
    with AgeWriter(output, recipients) as writer:
        for start in range(0, len(plaintext), write_size):
            writer.write(plaintext[start:start + write_size])
    return output.getvalue()


def age_cli_decrypt(ciphertext: bytes, identity_file) -> subprocess.CompletedProcess:
    return subprocess.run(["age", "-d", "-i", str(identity_file)], input=ciphertext, capture_output=True)


@pytest.mark.parametrize("size", [0, 1, 64 * 1024 - 1, 64 * 1024, 64 * 1024 + 1, 3 * 64 * 1024, 1_000_003])
def test_the_age_cli_opens_what_we_encrypt_with_either_recipients_key(keys, size):
    folder, recipients = keys
    plaintext = os.urandom(size)
    ciphertext = sealed(plaintext, recipients)
    for identity in ("client", "recovery"):
        opened = age_cli_decrypt(ciphertext, folder / identity)
        assert opened.returncode == 0, opened.stderr
        assert opened.stdout == plaintext


def test_our_decoder_opens_it_too_and_a_third_key_does_not(keys, tmp_path):
    folder, recipients = keys
    plaintext = os.urandom(200_000)
    ciphertext = sealed(plaintext, recipients[:1], write_size=65_536)
    secret = next(line for line in (folder / "client").read_text().splitlines() if line.startswith("AGE-SECRET"))
    stream = io.BufferedReader(io.BytesIO(ciphertext))
    assert b"".join(age.decrypt(stream, [X25519Identity.parse(secret)])) == plaintext
    age_identity(tmp_path / "stranger")
    assert age_cli_decrypt(ciphertext, tmp_path / "stranger").returncode != 0


def test_a_write_interrupted_by_an_error_leaves_a_file_age_refuses(keys):
    folder, recipients = keys
    output = io.BytesIO()
    with pytest.raises(RuntimeError):
        with AgeWriter(output, recipients) as writer:
            writer.write(os.urandom(150_000))
            raise RuntimeError("the export failed half-way")
    assert age_cli_decrypt(output.getvalue(), folder / "client").returncode != 0


@pytest.mark.parametrize("text", ["", "age1", "AGE-SECRET-KEY-1QQQQ", "age1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq"])
def test_anything_but_an_x25519_recipient_is_refused_with_its_code(text):
    with pytest.raises(ConfigError) as refused:
        parse_recipient(text)
    assert refused.value.code == "config.bad_recipient"
