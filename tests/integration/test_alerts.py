"""Alerts from real drill reports, deduplicated in a real Redis, delivered by apprise to a
webhook receiver listening on loopback."""

import json
import shutil
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from drills.catalog import load_catalog
from drills.pipeline import run_drill
from drills.reports import keys
from tests.helpers import site_entry, write_catalog
from tests.integration.conftest import SITE
from workers import alerts


@pytest.fixture
def webhook():
    """A loopback HTTP endpoint recording the JSON bodies posted to it."""
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"json://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()


@pytest.fixture
def site_with_alerts(tmp_path, backups, keys_dir, webhook, docker_engine):
    url, _ = webhook
    folder = tmp_path / "source"
    keys.init(tmp_path / "keys" / "signing.ed25519")

    def make(**overrides):
        overrides.setdefault("alerts", {"urls": [url]})
        catalog = load_catalog(write_catalog(tmp_path, [site_entry(SITE, folder, keys_dir["dir"] / "drill.agekey",
                                                                   **overrides)]))
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
    assert "NOT restorable (restore.failed)" in titles[0] and "restorable again" in titles[1]
    assert "Newest backup proven restorable: healthy.dump.age, taken " in received[0]["message"]


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
    assert [m["title"] for m in received] == ["Pharmacie Test: backup restorable, but needs attention "
                                              "(history.rows_dropped)"]
    assert "1,200 to 720 rows" in received[0]["message"]
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
    assert [m["title"] for m in received] == ["Pharmacie Test: restore slower than its RTO target"]


def test_a_site_with_no_passing_drill_for_n_days_alerts_once(site_with_alerts, webhook, redis_client):
    make, _ = site_with_alerts
    catalog, site = make(alerts={"urls": [webhook[0]], "no_success_days": 2})
    now = datetime(2026, 11, 23, tzinfo=timezone.utc)
    assert alerts.check_neglect(catalog, redis_client, now) == []
    assert alerts.check_neglect(catalog, redis_client, now + timedelta(days=3)) == \
        ["Pharmacie Test: no successful restore for 2 days"]
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
    catalog = load_catalog(write_catalog(tmp_path, [site_entry(SITE, tmp_path, tmp_path / "k", alerts={"urls": [url]})]))
    now = datetime.now(timezone.utc)
    pending.record(redis_client, SITE, "20261201T020000Z-0000dead", now - timedelta(hours=30))
    pending.record(redis_client, SITE, "20261201T020000Z-00000001", now - timedelta(hours=1))
    pending.record(redis_client, SITE, "20261201T020000Z-00000002", now - timedelta(hours=40))
    pending.conclude(redis_client, "20261201T020000Z-00000002")  # it did conclude
    assert alerts.report_lost(catalog, redis_client, now, 24 * 3600) == ["20261201T020000Z-0000dead"]
    assert alerts.report_lost(catalog, redis_client, now, 24 * 3600) == [], "said once"
    (alert,) = received
    assert "a drill was lost" in alert["title"] and "20261201T020000Z-0000dead" in alert["message"]
