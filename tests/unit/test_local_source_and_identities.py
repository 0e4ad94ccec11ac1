"""Source `local` picks the newest backup; identities come from files or the environment."""

import os
import random
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from drills.catalog.model import DecryptSettings
from drills.crypto.identities import PassphraseIdentity, X25519Identity, identities_from
from drills.errors import BackupProblem, ConfigError, InfrastructureError
from drills.sources import choose

IDENTITY = "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX"


NOW = datetime(2026, 11, 23, tzinfo=timezone.utc)


def settings(path, pattern="*.age", pick="newest", retention=None):
    return SimpleNamespace(type="local", path=path, pattern=pattern, pick=pick, retention=retention)


def latest(source_settings):
    return choose(source_settings, NOW)


def touch(path, mtime):
    path.write_bytes(b"x")
    os.utime(path, (mtime, mtime))


def test_the_newest_file_by_modification_time_wins_and_ties_go_to_the_name(tmp_path):
    touch(tmp_path / "b.age", 1000)
    touch(tmp_path / "c.age", 3000)
    touch(tmp_path / "a.age", 2000)
    touch(tmp_path / "z.txt", 9000)
    assert latest(settings(tmp_path)).name == "c.age"
    touch(tmp_path / "d.age", 3000)
    assert latest(settings(tmp_path)).name == "d.age"


def test_pick_random_drills_any_backup_of_the_retention_window_and_nothing_older(tmp_path):
    day = 86400
    for age_days in (0, 5, 10, 40):
        touch(tmp_path / f"{age_days:02d}d.age", NOW.timestamp() - age_days * day)
    chosen = {choose(settings(tmp_path, pick="random", retention=30 * day), NOW, random.Random(seed)).name
              for seed in range(60)}
    assert chosen == {"00d.age", "05d.age", "10d.age"}


def test_a_manifest_is_never_taken_for_a_backup_even_when_the_pattern_matches_it(tmp_path):
    touch(tmp_path / "a.age", 1000)
    touch(tmp_path / "a.age.manifest.json.age", 2000)
    assert latest(settings(tmp_path)).name == "a.age"


def test_the_manifest_is_read_beside_the_backup(tmp_path):
    touch(tmp_path / "a.age", 1000)
    (tmp_path / "a.age.manifest.json").write_text("{}")
    backup = latest(settings(tmp_path))
    with backup.open_sibling(".manifest.json") as sibling:
        assert sibling.read() == b"{}"
    assert backup.open_sibling(".manifest.json.age") is None


def test_no_matching_file_is_backup_missing_and_no_directory_is_an_infrastructure_error(tmp_path):
    with pytest.raises(BackupProblem) as raised:
        latest(settings(tmp_path))
    assert raised.value.code == "backup.missing"
    with pytest.raises(InfrastructureError) as raised:
        latest(settings(tmp_path / "not-mounted"))
    assert raised.value.code == "error.source"


def test_an_identity_comes_from_a_private_file_or_from_the_environment(tmp_path, monkeypatch):
    key = tmp_path / "drill.agekey"
    key.write_text(f"# created: today\n# public key: age1...\n{IDENTITY}\n")
    key.chmod(0o600)
    assert isinstance(identities_from(DecryptSettings(identity_file=key))[0], X25519Identity)
    monkeypatch.setenv("DRILL_AGE_IDENTITY", IDENTITY)
    assert isinstance(identities_from(DecryptSettings(identity_env="DRILL_AGE_IDENTITY"))[0], X25519Identity)
    monkeypatch.setenv("DRILL_PASSPHRASE", "phrase secrète")
    (identity,) = identities_from(DecryptSettings(passphrase_env="DRILL_PASSPHRASE", max_work_factor=16))
    assert isinstance(identity, PassphraseIdentity) and identity.max_work_factor == 16


def test_a_secret_file_readable_by_others_is_refused_and_its_content_never_echoed(tmp_path):
    key = tmp_path / "drill.agekey"
    key.write_text(IDENTITY + "\n")
    key.chmod(0o644)
    with pytest.raises(ConfigError) as raised:
        identities_from(DecryptSettings(identity_file=key))
    assert raised.value.code == "config.secret_exposed" and IDENTITY not in str(raised.value)


def test_a_missing_variable_or_a_malformed_identity_is_a_config_error(tmp_path, monkeypatch):
    monkeypatch.delenv("NOPE", raising=False)
    with pytest.raises(ConfigError, match="NOPE is not set"):
        identities_from(DecryptSettings(identity_env="NOPE"))
    key = tmp_path / "bad.agekey"
    key.write_text(IDENTITY[:-1] + "Q\n")
    key.chmod(0o600)
    with pytest.raises(ConfigError) as raised:
        identities_from(DecryptSettings(identity_file=key))
    assert raised.value.code == "config.bad_identity" and IDENTITY[:-1] not in str(raised.value)
