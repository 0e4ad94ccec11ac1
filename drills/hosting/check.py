"""The hosting check of a drill: where each storage location is, and what is wrong with it.

Each location (the site's backups; the evidence replica, if any) gets its country: for S3 the
country of the region its service names now (GetBucketLocation; drills.hosting.regions), else
the one declared. Findings, a warning each unless the site's `hosting.fail` lists the check:
- hosting.unverified: the region could not be read, no table knows it, or no country is declared;
- hosting.mismatch: the region's country differs from the declared one;
- hosting.outside_eea: the location's country is outside the EEA;
- hosting.certificate_expired: the host's HDS certificate is past its last valid day;
- hosting.certificate_expiring (always a warning): it ends within `hosting.notice`.
A location with none of them gets a passing finding. Nothing here stops a drill: a failure to
read is a finding, and a bug of ours is one too (logged).
"""

import logging
from datetime import date

from drills.catalog.model import Hosting
from drills.checks.findings import FAIL, PASS, WARN, Finding, coded
from drills.hosting.bucket import read_region
from drills.hosting.countries import in_eea
from drills.hosting.regions import country_of
from drills import reasons

log = logging.getLogger("restore_drill.hosting")
DEFAULT_NOTICE = 60 * 86400
WHAT = {"backup": "the backups", "evidence_replica": "the evidence replica"}


def inspect(site, replica, today: date, read=read_region) -> tuple[dict | None, list[Finding]]:
    """(the report's `hosting` record, its findings) for `site` and the catalog's evidence `replica`
    (or None); (None, []) when the site declares no hosting (not checked)."""
    if site.hosting is None:
        return None, []
    try:
        regions = site.hosting.regions or {}
        locations = [locate("backup", site.source, site.hosting, regions, read)]
        if replica is not None:
            declared = replica.hosting or Hosting()
            locations.append(locate("evidence_replica", replica, declared, {**regions, **(declared.regions or {})},
                                    read))
        findings = [finding for location in locations for finding in judge(location, site.hosting, today)]
        return {"checked_on": today.isoformat(), "locations": locations}, findings
    except Exception as error:  # a bug of ours: the drill keeps its report, the hosting is said unverified
        log.exception("hosting not checked")
        return None, [coded(reasons.HOSTING_UNVERIFIED, "backup", WARN,
                            f"the hosting could not be checked: {type(error).__name__}")]


def locate(what: str, storage, declared: Hosting, regions: dict, read) -> dict:
    """One location as the report records it: who hosts it, what is declared, what was read."""
    region = error = read_country = table = None
    if storage.type == "s3":
        region, error = read(storage.location)
        if region is not None:
            read_country, table = country_of(storage.location.endpoint, region, regions)
    country = read_country or declared.country
    return {"what": what, "storage": storage.type, "place": place(storage), "host": declared.host,
            "certificate": declared.certificate, "expires": declared.expires and declared.expires.isoformat(),
            "declared": declared.country, "read_region": region, "read_error": error, "read_country": read_country,
            "table": table or None, "country": country, "eea": in_eea(country)}


def place(storage) -> str:
    """s3://bucket/prefix, sftp://host/path or the directory: where the location is, for people."""
    if storage.type == "s3":
        return f"s3://{storage.location.bucket}/{storage.location.prefix}"
    return f"sftp://{storage.host}{storage.path}" if storage.type == "sftp" else str(storage.path)


def judge(location: dict, settings: Hosting, today: date) -> list[Finding]:
    what, where = location["what"], f"{WHAT[location['what']]} ({location['place']})"
    status = lambda check: FAIL if check in (settings.fail or ()) else WARN  # noqa: E731
    found = []
    if location["read_error"]:
        found.append(coded(reasons.HOSTING_UNVERIFIED, what, status("unverified"), f"the bucket's region of {where} "
                           f"could not be read: {location['read_error']}", actual=location["read_error"]))
    elif location["read_region"] and not location["read_country"]:
        found.append(coded(reasons.HOSTING_UNVERIFIED, what, status("unverified"), f"no table knows the country of "
                           f"region {location['read_region']} of {where}", actual=location["read_region"]))
    elif location["country"] is None:
        found.append(coded(reasons.HOSTING_UNVERIFIED, what, status("unverified"),
                           f"no country is declared for {where}"))
    if location["read_country"] and location["declared"] and location["read_country"] != location["declared"]:
        found.append(coded(reasons.HOSTING_MISMATCH, what, status("mismatch"), f"the bucket of {where} is in "
                           f"region {location['read_region']} ({location['read_country']}), the catalog declares "
                           f"{location['declared']}", expected=location["declared"], actual=location["read_country"]))
    if location["eea"] is False:
        found.append(coded(reasons.HOSTING_OUTSIDE_EEA, what, status("outside_eea"), f"{where}: stored in "
                           f"{location['country']}, outside the European Economic Area", expected="EEA",
                           actual=location["country"]))
    found += certificate(location, settings, today, status)
    if not any(f.status in (WARN, FAIL) for f in found):
        found.append(Finding("hosting.location", what, PASS, expected="EEA", actual=location["country"]))
    return found


def certificate(location: dict, settings: Hosting, today: date, status) -> list[Finding]:
    if not location["expires"]:
        return []
    expires, host = date.fromisoformat(location["expires"]), location["host"] or "the host"
    named = f"{host}'s HDS certificate {location['certificate'] or ''}".replace("  ", " ").strip()
    days = (expires - today).days
    if days < 0:
        return [coded(reasons.HOSTING_CERTIFICATE_EXPIRED, location["what"], status("certificate_expired"),
                      f"{named} expired on {expires} ({-days} days ago)", expected=f">= {today}",
                      actual=str(expires))]
    if days * 86400 <= (settings.notice or DEFAULT_NOTICE):
        return [coded(reasons.HOSTING_CERTIFICATE_EXPIRING, location["what"], WARN,
                      f"{named} expires on {expires}, in {days} days", actual=str(expires))]
    return []
