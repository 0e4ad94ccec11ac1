"""A sign-in in a real browser (Debian's Chromium, Playwright) survives a reload through an
HttpOnly session cookie that holds no password; signing out ends it, on the server: the same
cookie, kept or copied, opens nothing."""

import urllib.error
import urllib.request

import pytest

from dashboard.cookies import COOKIE, OPEN_PATH
from tests.dashboard.conftest import PASSWORD
from tests.e2e.test_demo import browser  # noqa: F401 (the fixture)

SIGNED_IN = "a été restaurée et vérifiée avec succès"


def signed_in_page(browser, url):  # noqa: F811
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    page.goto(url)
    page.get_by_label("Identifiant").fill("marie")
    hint = page.get_by_text("Press Enter to submit form")  # Streamlit's, in English: hidden
    assert hint.count() == 0 or not hint.first.is_visible()
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_text(SIGNED_IN).wait_for(timeout=30_000)
    return context, page


def session_cookie(context, timeout_ms: int = 10_000) -> dict:
    """The session cookie, once the page has traded its ticket for it."""
    page = context.pages[0]
    for _ in range(timeout_ms // 200):
        found = [cookie for cookie in context.cookies() if cookie["name"] == COOKIE]
        if found:
            return found[0]
        page.wait_for_timeout(200)
    pytest.fail("no session cookie was set")


def test_a_sign_in_survives_a_reload_and_a_sign_out_ends_it_on_the_server(serving, browser):  # noqa: F811
    _, _, url = serving
    context, page = signed_in_page(browser, url)
    cookie = session_cookie(context)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["expires"] > 0
    assert PASSWORD not in cookie["value"] and "marie" not in cookie["value"]
    page.reload()
    page.get_by_text(SIGNED_IN).wait_for(timeout=30_000)
    page.get_by_role("button", name="Se déconnecter").click()
    page.get_by_label("Identifiant").wait_for(timeout=30_000)
    page.reload()
    page.get_by_label("Identifiant").wait_for(timeout=30_000)
    assert page.get_by_text(SIGNED_IN).count() == 0
    copied = browser.new_context(locale="fr-FR")
    copied.add_cookies([cookie])
    elsewhere = copied.new_page()
    elsewhere.goto(url)
    elsewhere.get_by_label("Identifiant").wait_for(timeout=30_000)
    assert elsewhere.get_by_text(SIGNED_IN).count() == 0


def test_the_cookie_route_refuses_a_ticket_it_did_not_give(serving):
    _, _, url = serving
    request = urllib.request.Request(url + OPEN_PATH, data=b"made-up-ticket", method="POST", headers={"Origin": url})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 403 and "set-cookie" not in {name.lower() for name in refused.value.headers}
