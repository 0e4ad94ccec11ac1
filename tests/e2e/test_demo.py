"""The README's first command, end to end: the demo's four pharmacies end as intended (green,
corrupt with the finder's answer, stale, amber), their reports verify, the month's compliance
report equals what the signed reports say, and the dashboard shows them in a real browser
(Debian's Chromium driven by Playwright), with screenshots kept in artifacts/dashboard/."""

import json
import re
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import pytest

from drills.catalog import load_catalog
from drills.demo.history import synthetic_report
from tests.conftest import require

PROJECT = Path(__file__).parents[2]
SCREENSHOTS = PROJECT / "artifacts" / "dashboard"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def drill(*arguments, **options):
    return subprocess.run([sys.executable, "-m", "drills.cli", *arguments], capture_output=True, text=True,
                          timeout=600, cwd=PROJECT, **options)


@pytest.fixture(scope="module")
def demo(tmp_path_factory, docker_engine, age_cli):
    directory = tmp_path_factory.mktemp("e2e") / "demo"
    result = drill("demo", "--dir", str(directory), "--patients", "200")
    assert result.returncode == 0, result.stdout + result.stderr
    return directory, result.stdout


def test_the_demo_drills_a_green_a_corrupt_a_stale_and_an_amber_pharmacy(demo):
    directory, output = demo
    catalog = directory / "catalog.yaml"
    routine = {}
    for site in ("pharmacie-du-port", "pharmacie-des-halles", "pharmacie-de-la-gare", "pharmacie-du-marche"):
        reports = [json.loads(path.read_bytes()) for path in sorted((directory / "evidence" / site).glob("[0-9]*-*.json"))]
        (nightly,) = [report for report in reports if report["requested_backup"] is None]
        routine[site] = (nightly["outcome"], nightly["reason"],
                         [f["code"] for f in nightly["findings"] if f["status"] == "warn" and f["code"]])
    assert routine == {"pharmacie-du-port": ("pass", None, []),
                       "pharmacie-des-halles": ("fail", "decrypt.corrupt", []),
                       "pharmacie-de-la-gare": ("fail", "backup.stale", []),
                       "pharmacie-du-marche": ("pass", None, ["history.rows_dropped"])}
    assert drill("verify-chain", "--all", "--catalog", str(catalog)).returncode == 0
    assert "pharmacie-du-port     PASS" in output
    assert "public.ventes went from 800 to 480 rows (-40%" in output
    yesterday = sorted(path.name for path in (directory / "backups" / "pharmacie-des-halles").glob("*.age"))[0]
    assert f"pharmacie-des-halles: newest restorable backup: {yesterday}, taken " in output
    assert re.search(r"data lost by restoring it: 24\.\d h", output)


def test_the_compliance_report_of_the_demos_month_equals_what_its_signed_reports_say(demo, tmp_path):
    from tests.integration.test_compliance_report import assert_report_matches_reports

    directory, _ = demo
    catalog = load_catalog(directory / "catalog.yaml")
    month = datetime.now(timezone.utc).strftime("%Y-%m")
    done = drill("report", "--tenant", "infogest", "--month", month, "--output", str(tmp_path), "--catalog",
                 str(catalog.path))
    assert done.returncode == 0, done.stderr
    document = json.loads((tmp_path / f"compliance-infogest-{month}.json").read_bytes())
    assert_report_matches_reports(document, catalog.evidence, catalog.sites, month)
    for lang in ("fr", "en"):
        text = subprocess.run(["pdftotext", str(tmp_path / f"compliance-infogest-{month}.{lang}.pdf"), "-"],
                              capture_output=True, text=True, check=True).stdout
        assert "Pharmacie du Marché" in text and "Pharmacie des Halles" in text


def test_synthetic_reports_have_the_shape_of_real_ones(demo):
    directory, _ = demo
    (real,) = (directory / "evidence" / "pharmacie-du-port").glob("[0-9]*-*.json")
    real = json.loads(real.read_bytes())
    site = load_catalog(directory / "catalog.yaml").sites[0]
    made_up = synthetic_report(site, datetime.fromisoformat(real["started_at"]), "pass", 12.0)
    assert set(made_up) == set(real) - {"sequence", "previous_sha256", "signed_by"}
    assert set(made_up["provenance"]) == set(real["provenance"])
    assert set(made_up["backup"]) == set(real["backup"]) and set(made_up["phases"]) == set(real["phases"])


@pytest.fixture(scope="module")
def dashboard(demo):
    directory, _ = demo
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "drills.cli", "dashboard", "--catalog",
                               str(directory / "catalog.yaml"), "--users", str(directory / "users.yaml"),
                               "--port", str(port)], cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                break
        except OSError:
            time.sleep(0.5)
    else:
        server.kill()
        pytest.fail("the dashboard did not start: " + server.stdout.read().decode()[-2000:])
    passwords = dict(line.split() for line in (directory / "demo-passwords.txt").read_text().splitlines())
    yield url, passwords
    server.terminate()
    server.wait(timeout=30)


@pytest.fixture(scope="module")
def browser():
    require(CHROMIUM.exists(), "Debian's chromium (/usr/bin/chromium)")
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


ENGLISH_WIDGET_TEXT = re.compile(r"Choose|Add options|No results|Select all|Clear all")


def sign_in(browser, url, name, password, **context_options):
    page = browser.new_context(locale="fr-FR", **context_options).new_page()
    page.goto(url)
    page.get_by_label("Identifiant").fill(name)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    return page


def test_a_pharmacist_sees_the_french_status_page_even_on_a_phone(dashboard, browser):
    url, passwords = dashboard
    page = sign_in(browser, url, "pharmacien", "wrong password")
    page.get_by_text("Identifiant ou mot de passe incorrect.").wait_for(timeout=30_000)
    page = sign_in(browser, url, "pharmacien", passwords["pharmacien"], viewport={"width": 390, "height": 844})
    page.get_by_text("a été restaurée et vérifiée avec succès").wait_for(timeout=30_000)
    assert page.get_by_text("✅ Restaurable").is_visible()
    assert page.get_by_text("Pharmacie des Halles").count() == 0
    page.screenshot(path=SCREENSHOTS / "viewer-status-phone.png", full_page=True)


def test_an_operator_sees_the_fleet_board_and_a_site_page_with_its_rto_chart(dashboard, browser):
    url, passwords = dashboard
    page = sign_in(browser, url, "infogest", passwords["infogest"], viewport={"width": 1400, "height": 900})
    page.get_by_text("4 site(s) affiché(s) sur 4 — 1 rouge(s)").wait_for(timeout=30_000)  # the stale one restores
    page.locator("[data-testid='stDataFrame']").wait_for(timeout=30_000)
    page.wait_for_timeout(1000)  # the grid draws on a canvas after it is attached
    shown = page.locator("body").inner_text()
    assert not ENGLISH_WIDGET_TEXT.search(shown), ENGLISH_WIDGET_TEXT.search(shown)
    assert page.locator("[data-testid='stMultiSelect'] input[placeholder='Choisir…']").count() == 3, "the filters'"
    page.screenshot(path=SCREENSHOTS / "operator-fleet.png", full_page=True)
    page.locator("[data-testid='stSelectbox']").filter(has_text="Ouvrir la page du site").click()  # below the board
    page.get_by_role("option", name="Pharmacie du Port").click()
    page.get_by_role("button", name="Ouvrir la page du site").click()
    page.get_by_text("RTO mesuré et objectif").wait_for(timeout=30_000)
    page.locator("[data-testid='stVegaLiteChart']").first.wait_for(timeout=30_000)
    page.wait_for_timeout(1500)
    assert page.get_by_text("✅ Restaurable").count() >= 1
    page.screenshot(path=SCREENSHOTS / "operator-site.png", full_page=True)


def operator_site_page(browser, url, password, site_name):
    """A new operator's session, on the page of the site named `site_name`, chosen below the board."""
    page = sign_in(browser, url, "infogest", password, viewport={"width": 1400, "height": 900})
    page.get_by_text("4 site(s) affiché(s) sur 4").wait_for(timeout=30_000)
    page.locator("[data-testid='stSelectbox']").filter(has_text="Ouvrir la page du site").click()
    page.get_by_role("option", name=site_name).click()
    page.get_by_role("button", name="Ouvrir la page du site").click()
    return page


def test_the_operator_sees_the_amber_pharmacy_and_the_finders_answer_for_the_corrupted_one(dashboard, browser):
    url, passwords = dashboard
    page = operator_site_page(browser, url, passwords["infogest"], "Pharmacie du Marché")
    page.get_by_text("public.ventes went from 800 to 480 rows").wait_for(timeout=30_000)
    page.get_by_text("À surveiller").first.wait_for(timeout=30_000)  # the heading, in words
    page.screenshot(path=SCREENSHOTS / "operator-site-amber.png", full_page=True)
    page = operator_site_page(browser, url, passwords["infogest"], "Pharmacie des Halles")
    page.get_by_text("se restaure ; la restaurer perdrait 24 h").wait_for(timeout=30_000)
    assert page.get_by_role("button", name="Chercher la plus récente sauvegarde restaurable").is_visible()
    page.screenshot(path=SCREENSHOTS / "operator-site-finder.png", full_page=True)


def test_a_sign_in_survives_a_reload_and_a_new_address(dashboard, browser):
    url, passwords = dashboard
    page = browser.new_context(locale="fr-FR").new_page()
    page.goto(url)
    page.get_by_label("Identifiant").fill("pharmacien")
    assert page.get_by_text("Press Enter").count() == 0 or not page.get_by_text("Press Enter").first.is_visible()
    page.get_by_label("Mot de passe").fill(passwords["pharmacien"])
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_text("a été restaurée et vérifiée avec succès").wait_for(timeout=30_000)
    page.wait_for_timeout(1000)  # the page trades its ticket for the cookie
    page.reload()
    page.get_by_text("a été restaurée et vérifiée avec succès").wait_for(timeout=30_000)
    assert page.get_by_label("Mot de passe").count() == 0


def test_the_stale_pharmacy_needs_attention_it_is_not_said_unrestorable(dashboard, browser):
    url, passwords = dashboard
    page = sign_in(browser, url, "infogest", passwords["infogest"], viewport={"width": 1400, "height": 900})
    page.get_by_text("4 site(s) affiché(s) sur 4").wait_for(timeout=30_000)
    page.wait_for_timeout(1000)  # the page trades its ticket for the cookie: the addresses below load anew
    page.goto(f"{url}/site?site=pharmacie-de-la-gare")
    page.get_by_text("Sauvegarde trop ancienne, mais restaurable").wait_for(timeout=30_000)
    page.screenshot(path=SCREENSHOTS / "operator-site-stale.png", full_page=True)
    page.get_by_text("À surveiller").first.wait_for(timeout=30_000)
    assert page.get_by_text("NON restaurable").count() == 0
    page.goto(f"{url}/status?site=pharmacie-de-la-gare")
    page.get_by_text("la sauvegarde automatique semble arrêtée").wait_for(timeout=30_000)
    page.screenshot(path=SCREENSHOTS / "status-stale.png", full_page=True)
    page.get_by_text("À surveiller").first.wait_for(timeout=30_000)
    assert page.get_by_text("NON restaurable").count() == 0
