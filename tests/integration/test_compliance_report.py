"""`drill report`: a tenant's compliance report of a month from real signed reports. Every figure
is computed again here from the signed report files (each signature verified, the index never
read), every output file's signature is checked by openssl, and the PDFs are read back with
pdftotext, in French and English."""

import json
import re
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from drills.catalog import load_catalog
from drills.demo.history import synthetic_report
from drills.hosting import check
from drills.reports import keys
from drills.reports.evidence import EvidenceStore
from drills.reports.report import HOSTING_SUMMARY
from drills.reports.signing import digest, verify
from tests.helpers import drill_command, site_entry, write_catalog

REPORT_FILE = re.compile(r"(\d{6})-.+\.json")


def signed_reports(site_dir: Path, keyring: dict) -> tuple[list[tuple[str, str, dict]], set[str]]:
    """([(file, sha256, report)] of the reports whose signature verifies, oldest first), {drill ids that do not}."""
    good, bad = [], set()
    for path in sorted(site_dir.glob("[0-9]*-*.json")):
        if REPORT_FILE.fullmatch(path.name):
            data = path.read_bytes()
            signature = path.with_name(path.name + ".sig")
            valid = signature.exists() and verify(data, signature.read_bytes(), keyring)[0]
            if valid:
                good.append((path.name, digest(data), json.loads(data)))
            else:
                bad.add(json.loads(data)["drill_id"])
    return good, bad


def chosen(report: dict) -> bool:
    """A drill of a backup named by an operator or the recovery-point finder (not routine)."""
    return report.get("requested_backup") is not None


def expected_site(site, reports: list[tuple[str, str, dict]], start: datetime, until: datetime) -> dict:
    """The figures of one site, computed from its signed reports alone (docs/compliance-report.md)."""
    at = lambda report: datetime.fromisoformat(report["started_at"])  # noqa: E731
    before_end = [(name, sha, r) for name, sha, r in reports if at(r) < until]
    within = [r for _, _, r in before_end if at(r) >= start]
    routine = [r for r in within if not chosen(r) and r["outcome"] in ("pass", "fail")]
    passes = [r["drill_id"] for r in routine if r["outcome"] == "pass"]
    timed = [r for r in routine if r["outcome"] == "pass" and r["rto_seconds"] is not None]
    aged = [r for r in routine if (r.get("backup") or {}).get("age_seconds") is not None]
    red, opened = [], None
    for r in [r for _, _, r in before_end if not chosen(r) and r["outcome"] in ("pass", "fail")]:
        if r["outcome"] == "fail" and opened is None:
            opened = r
        elif r["outcome"] == "pass" and opened is not None:
            red.append((opened, r))
            opened = None
    red += [(opened, None)] if opened else []
    periods = []
    for first, closing in red:
        begin, end = max(at(first), start), min(at(closing) if closing else until, until)
        if end > start and at(first) < until:
            periods.append({"from_drill": first["drill_id"], "until_drill": closing and closing["drill_id"],
                            "still_red": closing is None, "seconds": (end - begin).total_seconds()})
    lost = ("history.rows_dropped", "history.schema_changed")  # restores, but data destroyed: not a recovery point
    restored = [r for _, _, r in before_end if r["outcome"] == "pass" and (r.get("backup") or {}).get("taken_at")
                and not any(f.get("status") == "warn" and f.get("code") in lost for f in r["findings"])]
    newest = max(restored, key=lambda r: datetime.fromisoformat(r["backup"]["taken_at"]), default=None)
    hosted = [r for r in within if r.get("hosting")]
    cited = {r["drill_id"] for r in within} | {p[key] for p in periods for key in ("from_drill", "until_drill")}
    cited |= {newest["drill_id"]} if newest else set()
    return {
        "drills": len(within), "passed": passes, "failed": [r["drill_id"] for r in routine if r["outcome"] == "fail"],
        "success_rate": round(len(passes) / len(routine), 4) if routine else None,
        "errors": [r["drill_id"] for r in within if r["outcome"] == "error" and not chosen(r)],
        "rto_mean": round(sum(r["rto_seconds"] for r in timed) / len(timed), 3) if timed else None,
        "rto_max": max((r["rto_seconds"] for r in timed), default=None),
        "rto_over": [r["drill_id"] for r in timed if r["rto_seconds"] > r["targets"]["rto_seconds"]],
        "rpo_max": max((r["backup"]["age_seconds"] for r in aged), default=None),
        "rpo_over": [r["drill_id"] for r in aged if r["backup"]["age_seconds"] > r["targets"]["rpo_seconds"]],
        "red_periods": periods, "newest": newest and newest["drill_id"],
        "hosting": hosted and {"drill_id": hosted[-1]["drill_id"],
                               "locations": [{key: location[key] for key in HOSTING_SUMMARY}
                                             for location in hosted[-1]["hosting"]["locations"]]},
        "hosting_findings": [r["drill_id"] for r in within
                             if any(f["code"].startswith("hosting.") and f["status"] != "pass" for f in r["findings"])],
        "reports": sorted((name, sha) for name, sha, r in before_end if r["drill_id"] in cited),
    }


def assert_report_matches_reports(json_document: dict, evidence_root: Path, sites, month: str, keyring=None):
    """Every figure of a compliance report's JSON document equals the one computed here from the
    signed report files of `sites` (catalog Sites) under `evidence_root`; `keyring` defaults to
    the catalog layout's (EVIDENCE/../keys/signing.ed25519)."""
    keyring = keyring or keys.keyring(Path(evidence_root).parent / "keys" / "signing.ed25519")
    year, number = map(int, month.split("-"))
    start = datetime(year, number, 1, tzinfo=timezone.utc)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=timezone.utc)
    until = min(end, datetime.fromisoformat(json_document["generated_at"]))
    assert json_document["month"] == month and [s["site"] for s in json_document["sites"]] == [s.id for s in sites]
    for site, shown in zip(sites, json_document["sites"]):
        reports, unverified = signed_reports(Path(evidence_root) / site.id, keyring)
        expected = expected_site(site, reports, start, until)
        assert shown["drills"] == expected["drills"], site.id
        assert (shown["passed"], shown["failed"], shown["errors"]) == \
               (expected["passed"], expected["failed"], expected["errors"]), site.id
        assert shown["success_rate"] == expected["success_rate"], site.id
        assert (shown["rto"]["mean_seconds"], shown["rto"]["max_seconds"], shown["rto"]["over_target"]) == \
               (expected["rto_mean"], expected["rto_max"], expected["rto_over"]), site.id
        assert (shown["rpo"]["max_seconds"], shown["rpo"]["over_target"]) == \
               (expected["rpo_max"], expected["rpo_over"]), site.id
        assert [{key: period[key] for key in ("from_drill", "until_drill", "still_red", "seconds")}
                for period in shown["red_periods"]] == expected["red_periods"], site.id
        assert (shown["newest_restorable_point"] or {}).get("drill_id") == expected["newest"], site.id
        assert (shown["hosting"], shown["hosting_findings"]) == (expected["hosting"] or None,
                                                                 expected["hosting_findings"]), site.id
        assert sorted((r["file"], r["sha256"]) for r in shown["reports"]) == expected["reports"], site.id
        assert set(shown["unverified"]) <= unverified, site.id
    passed = sum(len(s["passed"]) for s in json_document["sites"])
    routine = passed + sum(len(s["failed"]) for s in json_document["sites"])
    assert json_document["totals"]["success_rate"] == (round(passed / routine, 4) if routine else None)


NOVEMBER = datetime(2026, 11, 1, tzinfo=timezone.utc)
# per site: (day offset from November 1st, outcome, RTO seconds, backup age seconds)
HISTORIES = {
    "pharmacie-du-port": [(-2, "fail", 0, 3600)] + [(day, "pass", 300 + day * 10, 3600) for day in range(0, 30, 3)]
                         + [(10, "error", 0, 3600), (16, "fail", 0, 200_000)],
    "cabinet-des-lilas": [(day, "pass", 250, 7200) for day in range(0, 28, 7)] + [(28, "fail", 0, 7200),
                                                                                  (29, "fail", 0, 7200)],
    "officine-centrale": [(-10, "pass", 400, 3600)],  # nothing in November
}


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    """A catalog of three sites of infogest and one of another tenant, with signed histories; one
    November report edited after signing."""
    root = tmp_path_factory.mktemp("compliance")
    entries = [site_entry(site_id, root / "b", root / "id.txt", targets={"rto": "6m"}) for site_id in HISTORIES]
    entries[1]["hosting"] = {"host": "OVHcloud", "certificate": "HDS-2024-0042", "expires": "2026-11-20",
                             "country": "FR", "notice": "10d"}
    entries.append(site_entry("autre-pharmacie", root / "b", root / "id.txt", tenant="autre"))
    catalog = load_catalog(write_catalog(root, entries))
    keys.init(catalog.signing_key)
    private_key, store = keys.load_private(catalog.signing_key), EvidenceStore(catalog.evidence)
    for site in catalog.sites:
        for day, outcome, rto, age in sorted(HISTORIES.get(site.id, [(3, "pass", 100, 60)])):
            report = synthetic_report(site, NOVEMBER + timedelta(days=day, hours=2), outcome, rto,
                                      reason=None if outcome == "pass" else "restore.failed")
            report["backup"]["age_seconds"] = age
            if site.id == "cabinet-des-lilas":  # hosted in France, but its host's certificate ends on the 20th
                record, found = check.inspect(site, None, (NOVEMBER + timedelta(days=day)).date())
                report.update(hosting=record, findings=report["findings"] + [f.as_dict() for f in found])
            store.append(site.id, report, private_key)
    named = synthetic_report(catalog.site("pharmacie-du-port"), NOVEMBER + timedelta(days=20), "fail", 90,
                             reason="restore.failed")  # an operator's drill of an old backup: not routine
    named["backup"]["pick"], named["requested_backup"] = "named", named["backup"]["name"]
    store.append("pharmacie-du-port", named, private_key)
    edited = store.site_reports("pharmacie-du-port")[3]  # a pass of November 7th, now claiming a fresher backup
    edited.chmod(0o644)
    data = edited.read_bytes()
    assert data.count(b'"age_seconds": 3600,') == 1
    edited.write_bytes(data.replace(b'"age_seconds": 3600,', b'"age_seconds": 36,'))
    return catalog, root


@pytest.fixture(scope="module")
def made(fleet, tmp_path_factory):
    catalog, root = fleet
    output = tmp_path_factory.mktemp("out")
    done = drill_command("report", "--tenant", "infogest", "--month", "2026-11", "--output", str(output),
                         "--catalog", str(catalog.path))
    assert done.returncode == 0, done.stderr
    return output


def test_every_figure_equals_the_one_computed_from_the_signed_reports(fleet, made):
    catalog, _ = fleet
    document = json.loads((made / "compliance-infogest-2026-11.json").read_bytes())
    sites = [site for site in catalog.sites if site.tenant == "infogest"]
    assert_report_matches_reports(document, catalog.evidence, sites, "2026-11")
    by_site = {site["site"]: site for site in document["sites"]}
    assert by_site["pharmacie-du-port"]["red_periods"][0]["began_before_period"]
    assert len(by_site["pharmacie-du-port"]["unverified"]) == 1  # the edited report, left out
    assert by_site["cabinet-des-lilas"]["red_periods"][-1]["still_red"]
    assert by_site["officine-centrale"]["success_rate"] is None
    assert by_site["officine-centrale"]["newest_restorable_point"] is not None


def test_every_file_is_signed_and_openssl_verifies_it(fleet, made):
    catalog, _ = fleet
    public = keys.public_path(catalog.signing_key)
    names = sorted(path.name for path in made.iterdir() if not path.name.endswith(".sig"))
    assert names == [f"compliance-infogest-2026-11.{kind}" for kind in
                     ("en.html", "en.pdf", "fr.html", "fr.pdf", "json")]
    for name in names:
        checked = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(public), "-rawin",
                                  "-in", str(made / name), "-sigfile", str(made / (name + ".sig"))],
                                 capture_output=True, text=True)
        assert "Signature Verified Successfully" in checked.stdout, (name, checked.stdout, checked.stderr)


@pytest.mark.parametrize("lang, rate", [("fr", "{:.1f} %"), ("en", "{:.1f}%")])
def test_the_pdf_read_back_shows_the_sites_their_success_rates_and_the_drill_ids(fleet, made, lang, rate):
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed")
    document = json.loads((made / "compliance-infogest-2026-11.json").read_bytes())
    text = subprocess.run(["pdftotext", "-layout", str(made / f"compliance-infogest-2026-11.{lang}.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout.replace("\u00a0", " ")
    assert ("Rapport de conformité" if lang == "fr" else "Backup compliance report") in text
    for site in document["sites"]:
        assert site["name"] in text
        if site["success_rate"] is not None:
            shown = rate.format(site["success_rate"] * 100)
            assert (shown.replace(".", ",") if lang == "fr" else shown) in text
        for report in site["reports"]:
            assert report["drill_id"] in text
    assert "8.13" in text and "autre-pharmacie" not in text
    flowing = subprocess.run(["pdftotext", str(made / f"compliance-infogest-2026-11.{lang}.pdf"), "-"],
                             capture_output=True, text=True, check=True).stdout  # a cell's lines in their order
    said = (["Sauvegardes : France (FR), dans l'EEE ; hébergeur OVHcloud ;",
             "certificat HDS HDS-2024-0042 valable jusqu'au 2026-11-20", "Exercices avec un constat d'hébergement"]
            if lang == "fr" else ["Backups: France (FR), in the EEA; host OVHcloud; HDS certificate",
                                  "HDS-2024-0042 valid until 2026-11-20", "Drills with a hosting finding"])
    assert all(words in " ".join(flowing.split()) for words in said), flowing


@pytest.mark.parametrize("arguments", [("--tenant", "nobody", "--month", "2026-11"),
                                       ("--tenant", "infogest", "--month", "11/2026")])
def test_an_unknown_tenant_or_a_badly_written_month_is_a_usage_error(fleet, tmp_path, arguments):
    catalog, _ = fleet
    done = drill_command("report", *arguments, "--output", str(tmp_path), "--catalog", str(catalog.path))
    assert done.returncode == 3 and "config.usage" in done.stderr and list(tmp_path.iterdir()) == []


def test_a_report_the_index_does_not_hold_yet_is_counted_from_its_file(fleet, made, tmp_path):
    """A process that died between the report's write and the index's: the figures are the same."""
    catalog, _ = fleet
    index_file = catalog.evidence / "pharmacie-du-port" / "index.jsonl"
    lines = index_file.read_text().splitlines(keepends=True)
    index_file.write_text("".join(lines[:-3]))  # the last three reports are not indexed
    try:
        done = drill_command("report", "--tenant", "infogest", "--month", "2026-11", "--output", str(tmp_path),
                             "--catalog", str(catalog.path), "--json")
        assert done.returncode == 0, done.stderr
        behind = json.loads((tmp_path / "compliance-infogest-2026-11.json").read_bytes())
        whole = json.loads((made / "compliance-infogest-2026-11.json").read_bytes())
        assert [s for s in behind["sites"]] == [s for s in whole["sites"]]
    finally:
        index_file.write_text("".join(lines))
