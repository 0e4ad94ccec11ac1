"""Where the data lives: the tables (EEA, ISO 3166, regions), the catalog's hosting section with its
tenant default, and the findings each location gives (drills.hosting)."""

import json
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

import boto3
import pytest
import yaml
from botocore.stub import Stubber

from drills.catalog import load_catalog
from drills.catalog.model import Hosting, S3Location
from drills.errors import ConfigError
from drills.hosting import check, countries, regions
from drills.hosting.bucket import read_region
from tests.helpers import site_entry, write_catalog

TODAY = date(2026, 12, 2)
ISO_CODES = Path("/usr/share/iso-codes/json/iso_3166-1.json")


def test_the_eea_is_the_eu_27_with_iceland_liechtenstein_norway_and_the_eus_own_territories():
    assert len(countries.EU_MEMBER_STATES) == 27 and countries.EFTA_IN_EEA == {"IS", "LI", "NO"}
    assert {"FR", "DE", "GR", "NO", "IS", "LI", "RE", "GP", "AX"} <= countries.EEA
    assert not {"CH", "GB", "US", "EL", "MC"} & countries.EEA  # EL is the EU's name of Greece, not ISO's
    assert countries.EEA <= countries.ISO_3166_ALPHA2


def test_the_iso_list_is_debians_iso_codes():
    if not ISO_CODES.exists():
        pytest.skip("Debian's iso-codes is not installed")
    published = {entry["alpha_2"] for entry in json.loads(ISO_CODES.read_text())["3166-1"]}
    assert countries.ISO_3166_ALPHA2 == published


@pytest.mark.parametrize("endpoint, region, country", [
    (None, "eu-west-3", "FR"), (None, "eu-west-2", "GB"), (None, "EU", "IE"), (None, "us-east-1", "US"),
    ("https://s3.eu-west-3.amazonaws.com", "eu-central-1", "DE"),
    ("https://oos.eu-west-2.outscale.com", "eu-west-2", "FR"),  # not London: the provider decides
    ("https://s3.fr-par.scw.cloud", "nl-ams", "NL"), ("https://s3.gra.io.cloud.ovh.net", "GRA", "FR"),
    ("https://storage.googleapis.com", "EUROPE-WEST9", "FR"),
])
def test_a_region_is_read_in_its_providers_table(endpoint, region, country):
    assert regions.country_of(endpoint, region, {})[0] == country


def test_an_unknown_endpoint_or_region_is_never_guessed_and_the_catalog_names_it_per_endpoint():
    declared = {"https://s3.hds.example.fr": {"paris-1": "FR", "eu-west-2": "FR"}}
    assert regions.country_of("https://s3.hds.example.fr/", "PARIS-1", declared) == ("FR", "catalog")
    assert regions.country_of("https://minio.other.example", "paris-1", declared) == (None, "")
    assert regions.country_of("https://evil-amazonaws.com", "eu-west-3", {}) == (None, "")
    assert regions.country_of(None, "eu-west-2", declared) == ("GB", "AWS"), "another endpoint's table never applies"
    assert regions.country_of(None, "mars-north-1", {}) == (None, "")
    assert regions.normalised(None) == regions.normalised("") == "us-east-1"


def catalog_with(tmp_path, site_hosting=None, tenant_hosting=None, replica_hosting=None):
    entry = site_entry("pharmacie-du-port", tmp_path, tmp_path / "id.agekey")
    if site_hosting is not None:
        entry["hosting"] = site_hosting
    path = write_catalog(tmp_path, [entry])
    document = yaml.safe_load(path.read_text())
    if tenant_hosting is not None:
        document["tenants"] = {"infogest": {"hosting": tenant_hosting}}
    if replica_hosting is not None:
        document["evidence_replica"] = {"type": "s3", "bucket": "evidence", "hosting": replica_hosting}
    path.write_text(yaml.safe_dump(document))
    return load_catalog(path)


def test_a_site_lays_its_hosting_over_its_tenants_key_by_key(tmp_path):
    catalog = catalog_with(tmp_path, {"country": "de", "regions": {"https://b.example": {"r": "DE"}}},
                           {"host": "OVHcloud", "certificate": "HDS-42", "expires": "2027-03-31", "country": "FR",
                            "notice": "90d", "fail": ["outside_eea"], "regions": {"https://a.example": {"R": "fr"}}})
    hosting = catalog.sites[0].hosting
    assert (hosting.host, hosting.certificate, hosting.expires, hosting.country) == \
        ("OVHcloud", "HDS-42", date(2027, 3, 31), "DE")
    assert hosting.notice == 90 * 86400 and hosting.fail == ("outside_eea",)
    assert hosting.regions == {"https://a.example": {"r": "FR"}, "https://b.example": {"r": "DE"}}


def test_without_a_hosting_section_nothing_is_checked(tmp_path):
    catalog = catalog_with(tmp_path)
    assert catalog.sites[0].hosting is None
    assert check.inspect(catalog.sites[0], None, TODAY) == (None, [])


def test_every_wrong_hosting_value_is_reported_with_its_line(tmp_path):
    with pytest.raises(ConfigError) as refused:
        catalog_with(tmp_path, {"country": "FX", "expires": "31/03/2027", "fail": ["everything"], "hostt": "x",
                                "regions": {"s3.example.fr": {"paris": "FR"}}})
    message = refused.value.message
    assert "5 problem(s)" in message and "sites.0.hosting.country" in message and "'FX'" in message
    assert "expected a date such as 2027-03-31" in message and "'everything' is not one of" in message
    assert "unknown key 'hostt'" in message and "is not an endpoint URL" in message


def located(storage_type="local", declared=Hosting(country="FR"), read=None, settings=None, today=TODAY, **storage):
    site = SimpleNamespace(source=SimpleNamespace(type=storage_type, path="/srv/backups", host="sftp.example",
                                                  location=S3Location("bucket"), **storage), hosting=declared)
    if settings is not None:
        site.hosting = settings
    return check.inspect(site, None, today, read=read or (lambda location: (None, "unused")))


def codes(findings) -> dict[str, str]:
    return {finding.code or finding.check: finding.status for finding in findings}


def test_a_declared_country_in_the_eea_passes_and_one_outside_warns_or_fails_as_the_site_says():
    record, findings = located("sftp", Hosting(country="DE"))
    assert codes(findings) == {"hosting.location": "pass"} and record["locations"][0]["eea"] is True
    _, findings = located("local", Hosting(country="CH"))
    assert codes(findings) == {"hosting.outside_eea": "warn"}
    _, findings = located("local", Hosting(country="US", fail=("outside_eea",)))
    assert codes(findings) == {"hosting.outside_eea": "fail"}
    _, findings = located("local", Hosting(host="Somebody"))
    assert codes(findings) == {"hosting.unverified": "warn"}


def test_a_certificate_expired_or_expiring_soon_is_found():
    declared = Hosting(country="FR", host="OVHcloud", certificate="HDS-42", expires=TODAY - timedelta(days=1),
                       fail=("certificate_expired",))
    _, findings = located("local", declared)
    assert codes(findings) == {"hosting.certificate_expired": "fail"}
    assert "OVHcloud's HDS certificate HDS-42 expired on 2026-12-01" in findings[0].message
    _, findings = located("local", Hosting(country="FR", expires=TODAY + timedelta(days=59)))
    assert codes(findings) == {"hosting.certificate_expiring": "warn"}
    _, findings = located("local", Hosting(country="FR", expires=TODAY + timedelta(days=59), notice=30 * 86400))
    assert codes(findings) == {"hosting.location": "pass"}
    _, findings = located("local", Hosting(country="FR", expires=TODAY))  # its last valid day: not expired yet
    assert codes(findings) == {"hosting.certificate_expiring": "warn"}


def stubbed_client(answer: dict | None = None, error: str | None = None):
    client = boto3.client("s3", region_name="eu-west-3", aws_access_key_id="k", aws_secret_access_key="s")
    stubber = Stubber(client)
    if error:
        stubber.add_client_error("get_bucket_location", service_error_code=error, http_status_code=403)
    else:
        stubber.add_response("get_bucket_location", answer)
    stubber.activate()
    return client


def test_a_refused_region_read_is_a_finding_judged_on_the_declared_country_never_a_crash():
    region, error = read_region(S3Location("bucket"), client=stubbed_client(error="AccessDenied"))
    assert (region, error) == (None, "AccessDenied")
    record, findings = located("s3", Hosting(country="FR"), read=lambda location: (region, error))
    assert codes(findings) == {"hosting.unverified": "warn"}
    assert "could not be read: AccessDenied" in findings[0].message
    assert record["locations"][0]["country"] == "FR"


def test_a_region_name_from_the_service_is_kept_printable():
    hostile = "eu-west-3\x1b[2J\n" + "x" * 100
    region, error = read_region(S3Location("bucket"), client=stubbed_client({"LocationConstraint": hostile}))
    assert error is None and region.isprintable() and len(region) <= 65
    record, findings = located("s3", Hosting(country="FR"), read=lambda location: (region, error))
    assert codes(findings) == {"hosting.unverified": "warn"}
    assert all(finding.message.isprintable() for finding in findings)


def test_a_bug_in_the_check_costs_the_drill_nothing_but_says_so():
    def broken(location):
        raise RuntimeError("bug")

    record, findings = located("s3", Hosting(country="FR"), read=broken)
    assert record is None and codes(findings) == {"hosting.unverified": "warn"}
