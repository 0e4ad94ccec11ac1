"""Alerts from real drill reports, deduplicated in a real Redis, delivered by apprise to a
webhook receiver listening on loopback, in the site's language; heartbeat pings after passing
drills to the same receiver; the scheduler's metrics read from the index those drills wrote."""

import json
import shutil
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from drills.catalog import load_catalog
from drills.pipeline import run_drill
from drills.reports import keys
from tests.helpers import site_entry, write_catalog
from tests.integration.conftest import SITE
from workers import alerts, metrics

TENANT_IN_FRENCH = {"infogest": {"locale": "fr", "contact": "Infogest, 01 23 45 67 89"}}


@pytest.fixture
def webhook():
    """A loopback HTTP endpoint recording the JSON bodies posted to it, and the paths of the GETs
    (heartbeat pings) in `webhook.pings`."""
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def do_GET(self):
            PINGS.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    PINGS.clear()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"json://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()


PINGS: list[str] = []  # the paths the webhook fixture's server was sent a GET on


@pytest.fixture
def site_with_alerts(tmp_path, backups, keys_dir, webhook, docker_engine):
    url, _ = webhook
    folder = tmp_path / "source"
    keys.init(tmp_path / "keys" / "signing.ed25519")

    def make(tenants=None, **overrides):
        overrides.setdefault("alerts", {"urls": [url]})
        if tenants is None:
            overrides.setdefault("locale", "en")
        catalog = load_catalog(write_catalog(tmp_path, [site_entry(SITE, folder, keys_dir["dir"] / "drill.agekey",
                                                                   **overrides)], tenants=tenants or {}))
        return catalog, catalog.sites[0]

    def deliver(backup_name: str):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        for file in backups[backup_name].parent.iterdir():
            shutil.copy2(file, folder / file.name)

    return make, deliver


def test_an_alert_fires_once_on_green_to_red_and_once_on_red_to_green(site_with_alerts, webhook, redis_client):
    make, deliver = site_with_alerts
    catalog, site = make()
    _, received = webhook
    for backup_name in ("healthy", "corrupt-dump", "corrupt-dump", "healthy", "healthy"):
        deliver(backup_name)
        report = run_drill(catalog, site).report
        alerts.after_drill(catalog, site, report, redis_client)
    titles = [message["title"] for message in received]
    assert len(titles) == 2, titles
    assert titles == ["❌ Pharmacie Test: backup NOT restorable", "✅ Pharmacie Test: backup restorable again"]
    assert "The newest backup proven restorable is healthy.dump.age, taken " in received[0]["message"]
    assert received[0]["message"].endswith("\ncode: restore.failed")


def test_a_backup_that_restores_but_lost_rows_alerts_once_and_a_named_backup_changes_nothing(
        site_with_alerts, webhook, redis_client):
    make, deliver = site_with_alerts
    catalog, site = make()
    _, received = webhook
    deliver("healthy")
    alerts.after_drill(catalog, site, run_drill(catalog, site).report, redis_client)
    lost = {"status": "warn", "code": "history.rows_dropped", "message": "public.ventes went from 1,200 to 720 rows",
            "hint": "ask the site"}
    report = run_drill(catalog, site).report
    for _ in range(2):  # as two nights finding the same loss would
        alerts.after_drill(catalog, site, {**report, "findings": report["findings"] + [lost]}, redis_client)
    assert [m["title"] for m in received] == ["⚠️ Pharmacie Test: backup restorable, but needs attention"]
    assert "1,200 to 720 rows" in received[0]["message"]
    assert received[0]["message"].endswith("\ncode: history.rows_dropped")
    deliver("corrupt-dump")
    named = run_drill(catalog, site, backup_name="corrupt-dump.dump.age").report  # an operator's question
    assert alerts.after_drill(catalog, site, named, redis_client) == [] and len(received) == 1


def test_an_rto_above_target_alerts_once_until_it_is_back_under(site_with_alerts, webhook, redis_client):
    make, deliver = site_with_alerts
    catalog, site = make(targets={"rto": "1s", "rpo": "26h"})
    _, received = webhook
    deliver("healthy")
    for _ in range(2):
        alerts.after_drill(catalog, site, run_drill(catalog, site).report, redis_client)
    assert [m["title"] for m in received] == ["⚠️ Pharmacie Test: restore slower than its target"]


def test_a_site_with_no_passing_drill_for_n_days_alerts_once(site_with_alerts, webhook, redis_client):
    make, _ = site_with_alerts
    catalog, site = make(alerts={"urls": [webhook[0]], "no_success_days": 2})
    now = datetime(2026, 11, 23, tzinfo=timezone.utc)
    assert alerts.check_neglect(catalog, redis_client, now) == []
    assert alerts.check_neglect(catalog, redis_client, now + timedelta(days=3)) == \
        ["⚠️ Pharmacie Test: no successful restore for 2 days"]
    assert alerts.check_neglect(catalog, redis_client, now + timedelta(days=4)) == []
    assert len(webhook[1]) == 1


def test_an_infrastructure_error_changes_no_alert_state(site_with_alerts, redis_client):
    make, _ = site_with_alerts
    catalog, site = make()
    assert alerts.after_drill(catalog, site, {"outcome": "error", "reason": "error.runtime"}, redis_client) == []
    assert redis_client.hgetall(alerts.STATE_PREFIX + site.id) == {}


def test_a_drill_enqueued_and_never_concluded_is_said_lost_once(tmp_path, webhook, redis_client):
    from workers import pending

    url, received = webhook
    catalog = load_catalog(write_catalog(tmp_path, [site_entry(SITE, tmp_path, tmp_path / "k", alerts={"urls": [url]},
                                                               locale="en")]))
    now = datetime.now(timezone.utc)
    pending.record(redis_client, SITE, "20261201T020000Z-0000dead", now - timedelta(hours=30))
    pending.record(redis_client, SITE, "20261201T020000Z-00000001", now - timedelta(hours=1))
    pending.record(redis_client, SITE, "20261201T020000Z-00000002", now - timedelta(hours=40))
    pending.conclude(redis_client, "20261201T020000Z-00000002")  # it did conclude
    assert alerts.report_lost(catalog, redis_client, now, 24 * 3600) == ["20261201T020000Z-0000dead"]
    assert alerts.report_lost(catalog, redis_client, now, 24 * 3600) == [], "said once"
    (alert,) = received
    assert "a drill was lost" in alert["title"] and "20261201T020000Z-0000dead" in alert["message"]


def french(moment: str) -> str:
    return f"{datetime.fromisoformat(moment):%d/%m/%Y à %H:%M} UTC"


def test_a_french_tenants_site_is_alerted_in_french_with_its_page_and_its_code(
        site_with_alerts, webhook, redis_client, monkeypatch):
    monkeypatch.setenv("DRILL_DASHBOARD_URL", "https://drill.infogest.fr")
    make, deliver = site_with_alerts
    catalog, site = make(tenants=TENANT_IN_FRENCH)
    _, received = webhook
    drills = []
    for backup_name in ("healthy", "corrupt-dump", "healthy"):
        deliver(backup_name)
        drills.append(run_drill(catalog, site).report)
        alerts.after_drill(catalog, site, drills[-1], redis_client)
    good, bad, again = drills
    red, green = received
    assert red["title"] == "❌ Pharmacie Test : sauvegarde NON restaurable"
    assert red["message"] == (
        f"Ce qui s'est passé : Le test de restauration du {french(bad['started_at'])} a échoué. La sauvegarde n'a "
        "pas pu être rechargée dans une base de données.\n"
        "Ce que cela veut dire : En cas de panne aujourd'hui, vos données ne pourraient pas être récupérées à partir "
        "de cette sauvegarde. La plus récente sauvegarde prouvée restaurable est healthy.dump.age, prise le "
        f"{french(good['backup']['taken_at'])}.\n"
        "Que faire : Prévenez Infogest, 01 23 45 67 89.\n"
        "Page du site : https://drill.infogest.fr/status?site=pharmacie-test\n"
        "\n"
        "Pour le technicien :\n"
        f"Exercice {bad['drill_id']} : {bad['message']}\n"
        f"Piste : {bad['hint']}\n"
        "`drill restorable pharmacie-test` cherche la plus récente sauvegarde restaurable.\n"
        "code: restore.failed")
    assert green["title"] == "✅ Pharmacie Test : sauvegarde de nouveau restaurable"
    assert green["message"] == (
        f"Ce qui s'est passé : Le test de restauration du {french(again['started_at'])} a réussi : la sauvegarde a "
        "été restaurée et vérifiée.\n"
        "Ce que cela veut dire : En cas de panne, vos données peuvent être récupérées.\n"
        "Que faire : Rien, tout est rentré dans l'ordre.\n"
        "Page du site : https://drill.infogest.fr/status?site=pharmacie-test\n"
        "\n"
        "Pour le technicien :\n"
        f"Exercice {again['drill_id']} : réussi.\n"
        "code: alert.recovered")


def test_a_site_in_english_under_a_french_tenant_is_alerted_in_english(site_with_alerts, webhook, redis_client):
    make, deliver = site_with_alerts
    catalog, site = make(tenants=TENANT_IN_FRENCH, locale="en")
    _, received = webhook
    deliver("corrupt-dump")
    bad = run_drill(catalog, site).report
    alerts.after_drill(catalog, site, bad, redis_client)
    (red,) = received
    moment = datetime.fromisoformat(bad["started_at"])
    assert red["title"] == "❌ Pharmacie Test: backup NOT restorable"
    assert red["message"] == (
        f"What happened: The restore drill of {moment:%Y-%m-%d at %H:%M} UTC failed. The backup could not be loaded "
        "into a database.\n"
        "What it means: If your system failed today, your data could not be recovered from this backup. No backup "
        "of this site has been proven restorable yet.\n"
        "What to do: Tell Infogest, 01 23 45 67 89.\n"
        "\n"
        "For the technician:\n"
        f"Drill {bad['drill_id']}: {bad['message']}\n"
        f"Next: {bad['hint']}\n"
        "`drill restorable pharmacie-test` looks for the newest restorable backup.\n"
        "code: restore.failed")


def test_a_passing_drill_pings_the_sites_heartbeat_a_failing_one_does_not_and_metrics_read_the_index(
        site_with_alerts, webhook, redis_client):
    make, deliver = site_with_alerts
    ping = webhook[0].replace("json://", "http://").replace("/hook", "/ping/5e3f-secret")
    catalog, site = make(heartbeat=ping)
    deliver("healthy")
    good = run_drill(catalog, site).report
    alerts.after_drill(catalog, site, good, redis_client)
    deadline = time.monotonic() + 15
    while not PINGS and time.monotonic() < deadline:
        time.sleep(0.1)
    assert PINGS == ["/ping/5e3f-secret"]
    deliver("corrupt-dump")
    bad = run_drill(catalog, site).report
    assert alerts.after_drill(catalog, site, bad, redis_client) == ["❌ Pharmacie Test: backup NOT restorable"]
    time.sleep(3)  # a ping would have come by now: the first took well under a second
    assert PINGS == ["/ping/5e3f-secret"], "no ping after a fail"
    families = {family.name: family for family in metrics.Fleet(lambda: catalog, lambda: {}).collect()}
    assert [sample.value for sample in families["restore_drill_last_success_timestamp_seconds"].samples] == \
        [datetime.fromisoformat(good["started_at"]).timestamp()]
    assert [sample.value for sample in families["restore_drill_last_drill_timestamp_seconds"].samples] == \
        [datetime.fromisoformat(bad["started_at"]).timestamp()]
