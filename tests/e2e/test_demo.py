"""The README's first command, end to end: the demo's three pharmacies end as intended, their
reports verify, and the dashboard shows them in a real browser (Debian's Chromium driven by
Playwright), with screenshots kept in artifacts/dashboard/."""

import json
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
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


def test_the_demo_drills_one_green_one_corrupt_and_one_stale_pharmacy(demo):
    directory, output = demo
    catalog = directory / "catalog.yaml"
    outcomes = {}
    for site in ("pharmacie-du-port", "pharmacie-des-halles", "pharmacie-de-la-gare"):
        history = json.loads(drill("history", site, "--catalog", str(catalog), "--json").stdout)
        outcomes[site] = (history[-1]["outcome"], history[-1]["reason"])
        (report,) = (directory / "evidence" / site).glob("*.json")
        assert drill("verify-report", str(report), "--catalog", str(catalog)).returncode == 0
    assert outcomes == {"pharmacie-du-port": ("PASS", "-"),
                        "pharmacie-des-halles": ("FAIL", "decrypt.corrupt"),
                        "pharmacie-de-la-gare": ("FAIL", "backup.stale")}
    assert "pharmacie-du-port     PASS" in output


def test_synthetic_reports_have_the_shape_of_real_ones(demo):
    directory, _ = demo
    (real,) = (directory / "evidence" / "pharmacie-du-port").glob("*.json")
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
    page.get_by_text("3 site(s) affiché(s) sur 3 — 2 rouge(s)").wait_for(timeout=30_000)
    page.locator("[data-testid='stDataFrame']").wait_for(timeout=30_000)
    page.wait_for_timeout(1000)  # the grid draws on a canvas after it is attached
    page.screenshot(path=SCREENSHOTS / "operator-fleet.png", full_page=True)
    page.locator("[data-testid='stSelectbox']").last.click()  # the site chooser below the board
    page.get_by_role("option", name="Pharmacie du Port").click()
    page.get_by_role("button", name="Ouvrir la page du site").click()
    page.get_by_text("RTO mesuré et objectif").wait_for(timeout=30_000)
    page.locator("[data-testid='stVegaLiteChart']").first.wait_for(timeout=30_000)
    page.wait_for_timeout(1500)
    assert page.get_by_text("✅ Restaurable").count() >= 1
    page.screenshot(path=SCREENSHOTS / "operator-site.png", full_page=True)
