"""Where alerts go (site, tenant, URLs from the environment) and what a log line carries."""

import json
import logging

from drills.catalog import load_catalog
from workers.alerts import destinations, neglect_days
from workers.logs import JsonFormatter

CATALOG = """\
evidence: evidence/
signing_key: keys/signing.ed25519
tenants:
  infogest:
    alerts: {urls: ["json://tenant.internal/hook"], urls_env: INFOGEST_ALERTS, no_success_days: 3}
sites:
  - id: pharmacie-du-port
    name: Pharmacie du Port
    tenant: infogest
    source: {type: local, path: backups}
    decrypt: {identity_env: DRILL_AGE_IDENTITY}
    engine: {type: postgres}
    targets: {rto: 30m, rpo: 26h}
    alerts: {urls: ["json://site.internal/hook"]}
  - id: cabinet-dentaire
    name: Cabinet dentaire
    tenant: autre
    source: {type: local, path: backups}
    decrypt: {identity_env: DRILL_AGE_IDENTITY}
    engine: {type: postgres}
    targets: {rto: 30m, rpo: 26h}
    alerts: {no_success_days: 7}
"""


def test_a_site_alerts_its_own_urls_then_its_tenants_including_urls_with_tokens_from_the_environment(
        tmp_path, monkeypatch):
    (tmp_path / "catalog.yaml").write_text(CATALOG)
    catalog = load_catalog(tmp_path / "catalog.yaml")
    monkeypatch.setenv("INFOGEST_ALERTS", "tgram://bot-token/chat-id mailto://u:p@mail.internal")
    port, dentist = catalog.sites
    assert destinations(catalog, port) == ["json://site.internal/hook", "json://tenant.internal/hook",
                                           "tgram://bot-token/chat-id", "mailto://u:p@mail.internal"]
    assert destinations(catalog, dentist) == []
    assert (neglect_days(catalog, port), neglect_days(catalog, dentist)) == (3, 7)


def test_a_log_line_is_one_json_object_with_the_drill_and_the_site():
    record = logging.makeLogRecord({"name": "restore_drill.worker", "levelname": "INFO", "msg": "drill finished",
                                    "site": "pharmacie-du-port", "drill_id": "20261123T020000Z-1a2b3c4d"})
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "drill finished" and line["site"] == "pharmacie-du-port"
    assert line["drill_id"] == "20261123T020000Z-1a2b3c4d" and line["level"] == "INFO"
