"""What a compliance report reads from the evidence store: the tenant's sites, their summaries,
and every report a figure cites, read again from its signed bytes.

The index chooses the drills; each cited report is then verified (its detached signature) and
its summary made again from its own bytes, the figures computed again until they cite only
verified reports: a figure never rests on the index alone. A report that does not verify is
left out and named (`unverified`).
"""

from drills.compliance.figures import Period, site_figures
from drills.errors import ConfigError
from drills.reports import index
from drills.reports.evidence import EvidenceStore
from drills.reports.report import UNREADABLE, parse_report, summarize
from drills.reports.signing import digest, read_signature, verify
from drills import reasons


def tenant_sites(catalog, tenant: str) -> list:
    """The catalog's sites of `tenant`; ConfigError naming the known tenants if it has none."""
    sites = [site for site in catalog.sites if site.tenant == tenant]
    if not sites:
        known = ", ".join(sorted({site.tenant for site in catalog.sites})) or "none"
        raise ConfigError(f"no site of tenant {tenant!r} in {catalog.path}", code=reasons.CONFIG_USAGE,
                          hint=f"known tenants: {known}")
    return sites


def site_summaries(store: EvidenceStore, site_id: str) -> list[dict]:
    """The site's summaries oldest first: its index, and any report the index does not hold yet
    (a process that died between the two writes), summarized from its file, the index untouched."""
    summaries = index.read_all(store.root / site_id)
    indexed = {summary["sequence"] for summary in summaries}
    missing = [path for path in store.site_reports(site_id) if index.sequence_of(path) not in indexed]
    return sorted(summaries + [index.summary_of(path) for path in missing], key=lambda s: s["sequence"])


def verified_site_figures(store: EvidenceStore, site, period: Period, keyring: dict) -> dict:
    """site_figures over summaries whose cited reports were verified and summarized again from
    their bytes; each cited report carries its sha256."""
    summaries = {summary["sequence"]: summary for summary in site_summaries(store, site.id)}
    checked, excluded, sha256 = set(), set(), {}
    while True:
        figures = site_figures(site, list(summaries.values()), period, frozenset(excluded))
        unchecked = [entry for entry in figures["reports"] if entry["sequence"] not in checked]
        if not unchecked:
            break
        for entry in unchecked:
            checked.add(entry["sequence"])
            path = store.root / site.id / entry["file"]
            data = path.read_bytes()
            sha256[entry["sequence"]] = digest(data)
            report = parse_report(data)
            if report is None:
                continue  # summarized as unreadable already: named so in the figures
            if not verify(data, read_signature(path), keyring)[0]:
                excluded.add(entry["sequence"])
            else:
                summaries[entry["sequence"]] = {**summaries[entry["sequence"]], **summarize(report, entry["file"])}
    for entry in figures["reports"]:
        entry["sha256"] = sha256[entry["sequence"]]
        entry["verified"] = summaries[entry["sequence"]]["outcome"] != UNREADABLE
    return figures
