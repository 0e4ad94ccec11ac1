"""`drill api` as a real server (a subprocess on a loopback port) over real HTTP: each token sees
exactly its scope, a site outside it answers as a missing one, revoked tokens are refused, the
OpenAPI document validates, reports, signatures and certificates come whole, badges render in
French and English, every call is journaled, and an operator's drill now reaches real Redis."""

import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ElementTree
from datetime import datetime, timedelta, timezone

import pytest

from drills.audit import AuditJournal
from drills.catalog import load_catalog
from drills.demo.history import write_history
from drills.reports import keys
from drills.reports.signing import verify
from drills.site_words import day
from tests.helpers import DRILL, PROJECT, drill_command, site_entry, write_catalog

INFOGEST = {"pharmacie-du-port", "pharmacie-des-halles", "pharmacie-de-la-gare"}
SVG = "{http://www.w3.org/2000/svg}"


class Api:
    """The server, its files, and a token per role."""

    def __init__(self, directory, redis_url):
        self.directory, self.catalog = directory, fleet_catalog(directory)
        self.tokens_file = directory / "tokens.json"
        self.tokens = {"operator": self.token("--role", "operator", "--tenant", "infogest"),
                       "viewer": self.token("--role", "viewer", "--site", "pharmacie-du-port"),
                       "admin": self.token("--role", "admin"),
                       "other": self.token("--role", "operator", "--tenant", "medisoft")}
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process = subprocess.Popen(
            [*DRILL, "api", "--catalog", str(self.catalog), "--tokens", str(self.tokens_file), "--port", str(self.port)],
            cwd=PROJECT, env={"PATH": "/usr/bin:/bin", "DRILL_REDIS_URL": redis_url}, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while self.get("/healthz")[0] != 200:
            assert self.process.poll() is None and time.monotonic() < deadline, self.process.stdout.read()
            time.sleep(0.1)

    def drill(self, *arguments):
        done = drill_command(*arguments, "--catalog", str(self.catalog), "--tokens", str(self.tokens_file), "--json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def token(self, *arguments) -> dict:
        return self.drill("tokens", "add", *arguments)

    def request(self, method, path, role=None, token=None, body=None):
        """(status, headers, body bytes)."""
        token = token or (self.tokens[role]["token"] if role else None)
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method=method,
                                         data=json.dumps(body).encode() if body is not None else None,
                                         headers={"Content-Type": "application/json",
                                                  **({"Authorization": f"Bearer {token}"} if token else {})})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()
        except OSError:
            return None, None, b""

    def get(self, path, role=None, token=None):
        return self.request("GET", path, role, token)

    def json(self, path, role):
        status, _, body = self.get(path, role)
        assert status == 200, body
        return json.loads(body)

    def journal(self) -> list[dict]:
        return [json.loads(line) for line in AuditJournal(load_catalog(self.catalog).evidence).read().splitlines()]

    def stop(self):
        self.process.terminate()
        self.process.wait(10)


def fleet_catalog(directory):
    """Two tenants: infogest's sites green, red and never drilled; medisoft's, green and in English."""
    key = directory / "drill.agekey"
    catalog_path = write_catalog(directory, [
        site_entry("pharmacie-du-port", directory, key, name="Pharmacie du Port"),
        site_entry("pharmacie-des-halles", directory, key, name="Pharmacie des Halles"),
        site_entry("pharmacie-de-la-gare", directory, key, name="Pharmacie de la Gare"),
        site_entry("cabinet-lyon", directory, key, name="Cabinet Lyon Centre", tenant="medisoft", locale="en")])
    keys.init(directory / "keys" / "signing.ed25519")
    private = keys.load_private(directory / "keys" / "signing.ed25519")
    sites = {site.id: site for site in load_catalog(catalog_path).sites}
    now = datetime.now(timezone.utc) - timedelta(hours=1)
    evidence = load_catalog(catalog_path).evidence
    write_history(evidence, sites["pharmacie-du-port"], private, days=10, end=now, last_outcome="pass")
    write_history(evidence, sites["pharmacie-des-halles"], private, days=10, end=now, last_outcome="fail")
    write_history(evidence, sites["cabinet-lyon"], private, days=5, end=now, last_outcome="pass")
    return catalog_path


@pytest.fixture(scope="module")
def api(tmp_path_factory, redis_server):
    server = Api(tmp_path_factory.mktemp("api"), redis_server.url)
    yield server
    server.stop()


def site_ids(api, role) -> set[str]:
    return {site["id"] for site in api.json("/v1/sites", role)}


def test_each_role_sees_exactly_its_scope(api):
    assert site_ids(api, "admin") == INFOGEST | {"cabinet-lyon"}
    assert site_ids(api, "operator") == INFOGEST
    assert site_ids(api, "other") == {"cabinet-lyon"}
    assert site_ids(api, "viewer") == {"pharmacie-du-port"}
    statuses = {site["id"]: site["status"]["state"] for site in api.json("/v1/sites", "operator")}
    assert statuses == {"pharmacie-du-port": "restorable", "pharmacie-des-halles": "not_restorable",
                        "pharmacie-de-la-gare": "never_drilled"}


@pytest.mark.parametrize("route", ["", "/status", "/drills", "/drills/1", "/drills/1/signature",
                                   "/drills/1/certificate"])
def test_a_site_outside_the_scope_answers_exactly_as_a_missing_site(api, route):
    refused = api.get(f"/v1/sites/cabinet-lyon{route}", "operator")
    missing = api.get(f"/v1/sites/no-such-site{route}", "operator")
    assert refused[0] == missing[0] == 404
    assert refused[2] == missing[2] and json.loads(refused[2])["error"] == "api.not_found"
    assert dict(refused[1]) == dict(missing[1]) | {"date": refused[1]["date"]}
    assert api.get(f"/v1/sites/cabinet-lyon{route}", "other")[0] == 200, "the site is there for its tenant"


def test_a_token_missing_unknown_or_revoked_is_refused(api):
    fresh = api.token("--role", "admin")
    assert api.get("/v1/sites", token=fresh["token"])[0] == 200
    api.drill("tokens", "revoke", fresh["id"])
    for token in (fresh["token"], None, "rdt_" + "A" * 43, fresh["token"][:-1]):
        status, headers, body = api.get("/v1/sites", token=token)
        assert (status, json.loads(body)["error"], headers["WWW-Authenticate"]) == (401, "api.unauthorized", "Bearer")
    assert fresh["token"] not in api.tokens_file.read_text(), "the file keeps a hash, never the token"


def test_the_openapi_document_validates_and_lists_every_route(api):
    from openapi_spec_validator import validate

    document = json.loads(api.get("/openapi.json")[2])
    validate(document)
    assert {"/v1/sites", "/v1/sites/{site_id}/drills/{sequence}/certificate", "/v1/sites/{site_id}/drill-now",
            "/badges/{token}.svg", "/badges/{token}.json"} <= set(document["paths"])


def test_drills_come_newest_first_with_their_signed_reports_and_certificates(api):
    drills = api.json("/v1/sites/pharmacie-des-halles/drills", "operator")
    assert [entry["sequence"] for entry in drills] == list(range(10, 0, -1))
    assert drills[0]["outcome"] == "fail"
    assert [entry["outcome"] for entry in api.json("/v1/sites/pharmacie-des-halles/drills?outcome=fail&limit=1",
                                                   "operator")] == ["fail"]
    status, _, report = api.get("/v1/sites/pharmacie-du-port/drills/10", "viewer")
    _, _, signature = api.get("/v1/sites/pharmacie-du-port/drills/10/signature", "viewer")
    assert status == 200 and verify(report, signature, keys.keyring(api.directory / "keys" / "signing.ed25519"))[0]
    status, headers, pdf = api.get("/v1/sites/pharmacie-du-port/drills/10/certificate", "viewer")
    assert (status, headers["Content-Type"], pdf[:5]) == (200, "application/pdf", b"%PDF-")
    status, _, html = api.get("/v1/sites/pharmacie-du-port/drills/10/certificate?lang=en&format=html", "viewer")
    assert status == 200 and b"<html" in html.lower() and b"Pharmacie du Port" in html
    status, _, body = api.get("/v1/sites/pharmacie-des-halles/drills/10/certificate", "operator")
    assert (status, json.loads(body)["error"]) == (409, "certificate.not_passed")
    status, _, body = api.get("/v1/sites/pharmacie-du-port/drills/10/certificate?lang=de", "viewer")
    assert (status, json.loads(body)["error"]) == (422, "api.invalid_request")


def badge(api, token, suffix="svg", lang=None):
    status, headers, body = api.get(f"/badges/{token}.{suffix}" + (f"?lang={lang}" if lang else ""))
    return status, headers, body


def badge_words(body: bytes) -> str:
    root = ElementTree.fromstring(body)
    assert root.tag == f"{SVG}svg"
    return " | ".join(text.text for text in root.iter(f"{SVG}text"))


def test_badges_say_the_status_in_french_by_default_and_in_english_when_asked(api):
    tokens = {site: api.drill("badges", "add", site)["token"]
              for site in ("pharmacie-du-port", "pharmacie-des-halles", "pharmacie-de-la-gare", "cabinet-lyon")}
    status, headers, body = badge(api, tokens["pharmacie-du-port"])
    assert (status, headers["Content-Type"]) == (200, "image/svg+xml; charset=utf-8")
    proven = api.json("/v1/sites/pharmacie-du-port/status", "admin")["last_proven_at"]
    assert badge_words(body) == f"sauvegarde | Restaurable · {day(proven, 'fr')}"
    assert badge_words(badge(api, tokens["pharmacie-du-port"], lang="en")[2]) == f"backup | Restorable · {day(proven, 'en')}"
    assert badge_words(badge(api, tokens["pharmacie-des-halles"])[2]).startswith("sauvegarde | NON restaurable")
    assert badge_words(badge(api, tokens["pharmacie-des-halles"], lang="en")[2]).startswith("backup | NOT restorable")
    assert badge_words(badge(api, tokens["pharmacie-de-la-gare"])[2]) == "sauvegarde | Jamais vérifié"
    assert badge_words(badge(api, tokens["cabinet-lyon"])[2]).startswith("backup | Restorable"), "the site's locale"
    document = json.loads(badge(api, tokens["pharmacie-des-halles"], "json")[2])
    assert (document["state"], document["label"], document["language"]) == ("not_restorable", "NON restaurable", "fr")
    assert json.loads(badge(api, tokens["pharmacie-de-la-gare"], "json", "en")[2])["label"] == "Never drilled"


def test_a_revoked_or_unknown_badge_answers_404(api):
    token = api.drill("badges", "add", "pharmacie-du-port")["token"]
    assert badge(api, token)[0] == 200
    api.drill("badges", "revoke", "pharmacie-du-port")
    missing = api.get("/v1/sites/no-such-site", "admin")
    for gone in (token, "rdb_" + "A" * 43, api.tokens["admin"]["token"]):
        status, _, body = badge(api, gone)
        assert (status, body) == (404, missing[2])


def test_every_call_is_journaled_with_the_token_id_never_the_token(api):
    viewer, operator = api.tokens["viewer"], api.tokens["operator"]
    api.get("/v1/sites/pharmacie-du-port/status", "viewer")
    api.get("/v1/sites/cabinet-lyon", "operator")
    api.get("/v1/sites", token="rdt_nope")
    calls = [entry for entry in api.journal() if entry["event"] == "api.request"][-3:]
    assert [(call["user"], call["route"], call.get("site"), call["status"]) for call in calls] == [
        (f"token:{viewer['id']}", "/v1/sites/{site_id}/status", "pharmacie-du-port", 200),
        (f"token:{operator['id']}", "/v1/sites/{site_id}", "cabinet-lyon", 404),
        (None, "/v1/sites", None, 401)]
    journal = AuditJournal(load_catalog(api.catalog).evidence).read().decode()
    assert not any(token["token"] in journal for token in api.tokens.values())
    assert "rdb_" not in journal, "a badge's token is never journaled"


def test_a_drill_now_by_an_operator_is_queued_and_refused_to_every_other_role(api, redis_client):
    status, _, body = api.request("POST", "/v1/sites/pharmacie-des-halles/drill-now", "operator")
    assert status == 202, body
    drill_id = json.loads(body)["drill_id"]
    assert redis_client.llen("restore-drill:drills-now") == 1
    assert json.loads(redis_client.hget("restore-drill:pending", drill_id))["site"] == "pharmacie-des-halles"
    for role in ("viewer", "admin"):
        status, _, body = api.request("POST", "/v1/sites/pharmacie-du-port/drill-now", role)
        assert (status, json.loads(body)["error"]) == (403, "api.forbidden")
    assert api.request("POST", "/v1/sites/cabinet-lyon/drill-now", "operator")[2] == \
        api.get("/v1/sites/no-such-site", "operator")[2]
    status, _, body = api.request("POST", "/v1/sites/pharmacie-du-port/drill-now", "operator",
                                  body={"backup": "pharmacie-du-port-20261130.dump.age"})
    assert status == 202 and json.loads(body)["backup"] == "pharmacie-du-port-20261130.dump.age"
    assert redis_client.llen("restore-drill:drills-now") == 2, "the refused ones queued nothing"
    requested = [entry for entry in api.journal() if entry["event"] == "drill.requested"]
    assert requested[-2]["drill_id"] == drill_id and requested[-2]["user"] == f"token:{api.tokens['operator']['id']}"


def test_a_strangers_flood_is_refused_and_journaled_at_most_sixty_lines_a_minute(api):
    """Kept last in the module: it spends the server's allowance for the minute."""
    from api.journal import UNAUTHENTICATED_PER_MINUTE

    if time.monotonic() % 60 > 40:  # the allowance counts by the minute of this clock: none starts mid-burst
        time.sleep(61 - time.monotonic() % 60)
    before = len(api.journal())
    statuses = {api.get("/v1/sites", token="rdt_" + "B" * 43)[0] for _ in range(UNAUTHENTICATED_PER_MINUTE + 20)}
    assert statuses == {401}
    strangers = [entry for entry in api.journal()[before:] if entry["event"] == "api.request"]
    assert 0 < len(strangers) <= UNAUTHENTICATED_PER_MINUTE and all(entry["user"] is None for entry in strangers)
    status, _, _ = api.get("/v1/sites", "viewer")
    assert status == 200 and api.journal()[-1]["user"] == f"token:{api.tokens['viewer']['id']}", "a token still counts"
