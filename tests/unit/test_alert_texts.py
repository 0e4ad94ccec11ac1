"""The site's language for its alerts (site over tenant, French by default), the dashboard link
they carry, and the heartbeat ping: sent to a loopback receiver, its secret path never logged."""

import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from drills.catalog import load_catalog
from drills.errors import ConfigError
from workers import heartbeat
from workers.alert_texts import Audience
from workers.alerts import audience
from workers.settings import dashboard_url

CATALOG = """\
evidence: evidence/
signing_key: keys/signing.ed25519
tenants:
  infogest: {locale: en, contact: "Infogest, 01 23 45 67 89"}
sites:
  - {id: port, name: Port, tenant: infogest, locale: fr, heartbeat: "http://127.0.0.1:PORT/ping/0f6c2b1e-secret",
     source: {type: local, path: b}, decrypt: {identity_env: K}, engine: {type: postgres}, targets: {rto: 30m, rpo: 26h}}
  - {id: gare, name: Gare, tenant: infogest, heartbeat_env: GARE_PING,
     source: {type: local, path: b}, decrypt: {identity_env: K}, engine: {type: postgres}, targets: {rto: 30m, rpo: 26h}}
  - {id: dentiste, name: Dentiste, tenant: autre,
     source: {type: local, path: b}, decrypt: {identity_env: K}, engine: {type: postgres}, targets: {rto: 30m, rpo: 26h}}
"""


@pytest.fixture
def receiver():
    """A loopback HTTP server recording the paths it is sent (GET)."""
    paths = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            paths.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"OK")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], paths
    server.shutdown()


def catalog_with(tmp_path, port=1):
    (tmp_path / "catalog.yaml").write_text(CATALOG.replace("PORT", str(port)))
    return load_catalog(tmp_path / "catalog.yaml")


def test_a_sites_locale_overrides_its_tenants_and_french_is_the_default(tmp_path):
    catalog = catalog_with(tmp_path)
    assert [site.locale for site in catalog.sites] == ["fr", "en", "fr"]


def test_a_locale_other_than_french_or_english_is_refused_with_its_line(tmp_path):
    (tmp_path / "catalog.yaml").write_text(CATALOG.replace("locale: en", "locale: de"))
    with pytest.raises(ConfigError) as refused:
        load_catalog(tmp_path / "catalog.yaml")
    assert "catalog.yaml:4" in refused.value.message and "'de'" in refused.value.message


def test_alerts_name_the_tenants_contact_in_the_sites_language_and_link_its_page(tmp_path, monkeypatch):
    catalog = catalog_with(tmp_path)
    monkeypatch.setenv("DRILL_DASHBOARD_URL", "https://drill.infogest.fr/")
    port, gare, dentiste = catalog.sites
    assert audience(catalog, port) == Audience("fr", "Infogest, 01 23 45 67 89",
                                               "https://drill.infogest.fr/status?site=port")
    assert audience(catalog, gare).language == "en"
    assert audience(catalog, dentiste) == Audience("fr", "votre prestataire informatique",
                                                   "https://drill.infogest.fr/status?site=dentiste")
    monkeypatch.delenv("DRILL_DASHBOARD_URL")
    assert audience(catalog, port).link is None


def test_a_dashboard_url_that_is_not_http_is_refused_without_repeating_it(monkeypatch):
    monkeypatch.setenv("DRILL_DASHBOARD_URL", "drill.infogest.fr/secret")
    with pytest.raises(ConfigError) as refused:
        dashboard_url()
    assert "secret" not in refused.value.message and refused.value.code == "config.invalid"


def test_a_heartbeat_is_a_get_to_the_sites_url_and_its_path_is_never_logged(tmp_path, receiver, caplog):
    port, paths = receiver
    site = catalog_with(tmp_path, port).sites[0]
    caplog.set_level(logging.DEBUG)
    heartbeat.ping(site).join(timeout=15)
    assert paths == ["/ping/0f6c2b1e-secret"]
    closed = heartbeat.send(site.id, f"http://127.0.0.1:{closed_port()}/ping/0f6c2b1e-secret")  # nobody listens
    assert closed is False
    (failure,) = [record for record in caplog.records if record.name == "restore_drill.heartbeat"]
    assert (failure.site, failure.host) == ("port", "127.0.0.1")
    assert "0f6c2b1e" not in " ".join(f"{record.getMessage()} {vars(record)}" for record in caplog.records)


def test_a_heartbeat_answered_by_a_redirect_is_a_failed_ping_and_goes_nowhere_else(receiver):
    """The URL's server may not send the worker elsewhere (another host, an internal address)."""
    elsewhere_port, elsewhere = receiver

    class Redirect(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{elsewhere_port}/internal")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert heartbeat.send("port", f"http://127.0.0.1:{server.server_address[1]}/ping/x") is False
    finally:
        server.shutdown()
    assert elsewhere == []
    assert heartbeat.send("port", "http://[::1/ping") is False  # a malformed URL is a failed ping, in the guard


def test_a_heartbeat_url_may_come_from_the_environment_and_no_url_means_no_ping(tmp_path, monkeypatch):
    catalog = catalog_with(tmp_path)
    monkeypatch.setenv("GARE_PING", "https://hc.example/ping/uuid")
    assert heartbeat.url_of(catalog.sites[1]) == "https://hc.example/ping/uuid"
    monkeypatch.delenv("GARE_PING")
    assert heartbeat.url_of(catalog.sites[1]) is None and heartbeat.ping(catalog.sites[2]) is None


def closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_alert_says_what_happened_means_and_to_do_and_ends_with_its_code(tmp_path, language):
    from datetime import datetime, timezone

    from workers import alert_texts

    site = catalog_with(tmp_path).sites[0]
    readers = Audience(language, "Infogest", "https://drill.infogest.fr/status?site=port")
    report = {"drill_id": "20261202T020000Z-0000abcd", "started_at": "2026-12-02T02:00:00+00:00", "rto_seconds": 2400,
              "reason": "history.rows_dropped", "message": "public.ventes lost 40% of its rows", "hint": "ask the site"}
    finding = {"code": "hosting.certificate_expiring", "message": "expires 2027-01-10", "hint": "ask for the renewal"}
    made = {"restore.failed": alert_texts.red(site, {**report, "reason": "restore.failed"}, None, readers),
            "history.rows_dropped": alert_texts.red(site, report, None, readers),
            "alert.recovered": alert_texts.recovered(site, report, readers),
            "rto.target": alert_texts.slow(site, report, readers),
            "hosting.certificate_expiring": alert_texts.attention(site, report, [finding], readers),
            "proof.old": alert_texts.neglected(site, 3, datetime(2026, 11, 29, 2, tzinfo=timezone.utc), readers),
            "alert.drill_lost": alert_texts.lost(site, report["drill_id"], 30.2, readers)}
    labels = alert_texts.TEXT["happened"][language], alert_texts.TEXT["means"][language], \
        alert_texts.TEXT["todo"][language], alert_texts.TEXT["page"][language] + readers.link
    for code, (title, body) in made.items():
        lines = body.split("\n")
        assert title.startswith(("❌ Port", "✅ Port", "⚠️ Port")), title
        assert [line.startswith(label) for line, label in zip(lines, labels)] == [True] * 4, body
        assert lines[-1] == f"code: {code}" and "{" not in body, body
    assert "2 h 40 min" not in made["rto.target"][1] and "40 min 00 s" in made["rto.target"][1]
    assert ("Infogest" in made["proof.old"][1]) and ("29/11/2026" if language == "fr" else "2026-11-29") in \
        made["proof.old"][1]
