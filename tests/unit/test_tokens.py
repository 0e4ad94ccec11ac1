"""The tokens file: a token is shown once and kept as its sha256, a revoked one lets nobody in,
a token of one kind opens nothing of the other, and a damaged file is named, not guessed at."""

import stat

import pytest

from drills.access import User
from drills.errors import ConfigError
from drills.tokens import TokenFile, digest, tokens_path
from drills import reasons


@pytest.fixture
def tokens(tmp_path):
    return TokenFile(tmp_path / "tokens.json")


def test_a_token_is_stored_as_its_hash_only_in_a_file_only_its_owner_reads(tokens):
    entry, token = tokens.add("token", "operator", tenants=["infogest"])
    text = tokens.path.read_text()
    assert token not in text and digest(token) in text
    assert stat.S_IMODE(tokens.path.stat().st_mode) == 0o600
    assert token.startswith("rdt_") and len(token) == 4 + 43  # 256 bits, base64url
    assert tokens.find("token", token) == entry


def test_a_token_stands_for_a_user_with_the_same_scope_as_a_dashboard_user(tokens):
    entry, _ = tokens.add("token", "viewer", sites=["pharmacie-du-port"])
    assert entry.as_user() == User(name=f"token:{entry.id}", role="viewer", sites=("pharmacie-du-port",))


def test_a_revoked_token_and_a_token_of_the_other_kind_open_nothing(tokens):
    entry, token = tokens.add("token", "admin")
    badge, badge_token = tokens.add("badge", sites=["pharmacie-du-port"])
    assert tokens.find("badge", token) is None and tokens.find("token", badge_token) is None
    assert [revoked.id for revoked in tokens.revoke("token", entry.id)] == [entry.id]
    assert tokens.find("token", token) is None
    assert tokens.find("badge", badge_token) == badge, "revoking one leaves the others"


def test_revoking_a_site_revokes_every_badge_of_it_and_an_unknown_id_is_a_usage_error(tokens):
    first, _ = tokens.add("badge", sites=["pharmacie-du-port"])
    second, _ = tokens.add("badge", sites=["pharmacie-du-port"])
    other, other_token = tokens.add("badge", sites=["cabinet-lyon"])
    assert {entry.id for entry in tokens.revoke("badge", "pharmacie-du-port")} == {first.id, second.id}
    assert tokens.find("badge", other_token) == other
    with pytest.raises(ConfigError) as refused:
        tokens.revoke("badge", "pharmacie-du-port")
    assert refused.value.code == reasons.CONFIG_USAGE
    assert all(entry.revoked_at for entry in tokens.entries() if entry.sites == ("pharmacie-du-port",)), \
        "a revoked entry stays listed, with its time"


def test_a_damaged_tokens_file_is_named(tokens):
    tokens.path.write_text('{"tokens": [{"id": 1}]')
    with pytest.raises(ConfigError) as refused:
        tokens.entries()
    assert refused.value.code == reasons.CONFIG_INVALID and str(tokens.path) in refused.value.message


def test_the_file_is_beside_the_users_file_unless_drill_tokens_names_it(monkeypatch, tmp_path):
    monkeypatch.delenv("DRILL_TOKENS", raising=False)
    assert tokens_path(str(tmp_path / "config" / "users.yaml")) == tmp_path / "config" / "tokens.json"
    monkeypatch.setenv("DRILL_TOKENS", str(tmp_path / "elsewhere.json"))
    assert tokens_path("users.yaml") == tmp_path / "elsewhere.json"
    assert TokenFile(tmp_path / "none.json").entries() == [], "no file yet: no token"
