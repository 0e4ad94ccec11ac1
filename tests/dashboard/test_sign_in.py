"""Signing in and out through the app, as a person does: a name that cannot exist, a person
slowed down after failures, and signing out of an OpenID Connect session."""

from streamlit.testing.v1 import AppTest

from dashboard import session
from dashboard.session import USER_KEY
from drills import access
from drills.audit import AuditJournal
from drills.catalog import load_catalog
from drills.signin import SignInLimiter
from tests.dashboard.conftest import PASSWORD
from tests.dashboard.test_pages import APP, app_as, everything_shown

OIDC_SECRETS = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "not a secret",
                "client_id": "restore-drill", "client_secret": "not a secret",
                "server_metadata_url": "https://id.example.org/.well-known/openid-configuration"}


def journal(fleet_files) -> AuditJournal:
    return AuditJournal(load_catalog(fleet_files[0]).evidence)


def submit(at: AppTest, name: str, password: str) -> AppTest:
    at.text_input[0].set_value(name)  # set_value, not input: a forged client ignores max_chars
    at.text_input[1].input(password)
    return at.button[0].click().run()


def errors(at: AppTest) -> list[str]:
    return [error.value for error in at.error]


def test_the_name_field_takes_no_more_than_the_longest_name(fleet_files):
    assert app_as(None).text_input[0].max_chars == access.NAME_MAX_CHARS


def test_a_name_that_cannot_exist_is_refused_like_a_wrong_password_and_journaled_without_its_text(fleet_files):
    at = submit(app_as(None), "mon mot de passe!", PASSWORD)
    assert not at.exception
    assert errors(at) == ["Identifiant ou mot de passe incorrect."] and USER_KEY not in at.session_state
    event = journal(fleet_files).newest()[0]
    assert (event["event"], event["user"], event["reason"], event["name_length"]) == \
        ("login.refused", None, "invalid_name", 17)
    assert "mot de passe" not in journal(fleet_files).path.read_text()


def test_a_ten_kilobyte_name_is_refused_and_the_journal_still_verifies(fleet_files):
    at = submit(app_as(None), "x" * 10240, PASSWORD)  # Streamlit keeps its first 64 characters
    assert errors(at) == ["Identifiant ou mot de passe incorrect."] and USER_KEY not in at.session_state
    assert journal(fleet_files).newest()[0]["user"] is None and "xxxx" not in journal(fleet_files).path.read_text()
    assert journal(fleet_files).verify() == []


def test_a_password_matching_the_name_pattern_is_not_journaled_either(fleet_files):
    submit(app_as(None), "Marie2026", "")  # typed in the name field: nobody's name
    assert "Marie2026" not in journal(fleet_files).path.read_text()
    assert journal(fleet_files).newest()[0]["reason"] == "unknown_name"


def test_a_person_slowed_down_is_told_how_long_to_wait_and_the_password_is_not_checked(fleet_files, monkeypatch):
    now = [0.0]
    limiter = SignInLimiter(clock=lambda: now[0])
    for _ in range(9):  # nine wrong passwords, each after the wait the one before asked
        now[0] += 300
        limiter.admit("marie", None)
    monkeypatch.setattr(session, "sign_in_limiter", lambda: limiter)
    monkeypatch.setattr(access, "password_matches", scrypt_must_not_run)
    at = submit(app_as(None), "marie", PASSWORD)
    assert not at.exception and USER_KEY not in at.session_state
    assert errors(at) == ["Trop d'essais infructueux : réessayez dans 16 s."]
    at.sidebar.radio[0].set_value("en").run()
    at = submit(at, "marie", PASSWORD)
    assert errors(at) == ["Too many failed attempts: try again in 16 s."]
    refusals = [event for event in journal(fleet_files).newest() if event["event"] == "login.refused"]
    assert [(event["user"], event["reason"]) for event in refusals] == [("marie", "backoff")], \
        "journaled once per wait, not once per attempt"


def scrypt_must_not_run(*_):
    raise AssertionError("scrypt ran while the person must wait")


def oidc_app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["auth"] = OIDC_SECRETS
    at.user = {"is_logged_in": True, "email": "Marie@Pharmacie-du-Port.fr"}
    return at.run()


def test_signing_out_of_an_oidc_session_signs_out_of_streamlit_too(fleet_files):
    at = oidc_app()
    assert not at.exception and at.session_state[USER_KEY] == "marie"
    assert "✅ Restaurable" in everything_shown(at)
    at.sidebar.button[0].click().run()
    assert not at.exception
    assert at.user == {"is_logged_in": False}, "st.logout() was called"
    assert USER_KEY not in at.session_state and "Connexion" in everything_shown(at)
    assert "Pharmacie du Port" not in everything_shown(at.run()), "and the next run does not sign back in"
    logout = journal(fleet_files).newest()[0]
    assert (logout["event"], logout["user"], logout["method"]) == ("logout", "marie", "oidc")


def test_signing_out_of_a_password_session_clears_it_without_touching_streamlits_identity(fleet_files):
    at = submit(app_as(None), "marie", PASSWORD)
    assert at.session_state[USER_KEY] == "marie"
    at.sidebar.button[0].click().run()
    assert USER_KEY not in at.session_state and "Connexion" in everything_shown(at)
    assert at.user == {"email": "test@example.com"}, "st.logout() was not called"


def test_an_oidc_account_unknown_here_can_sign_out_to_try_another(fleet_files):
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["auth"] = OIDC_SECRETS
    at.user = {"is_logged_in": True, "email": "stranger@example.org"}
    at.run()
    assert "Ce compte n'a pas accès au tableau de bord." in errors(at)
    next(button for button in at.button if button.label == "Se déconnecter").click().run()
    assert at.user == {"is_logged_in": False} and not errors(at)
