"""The catalog's `hosting` section: who stores the backups (or the evidence replica), under which
HDS certificate, in which country; for sites, tenants (a default) and the evidence replica."""

from datetime import date, datetime

from drills.catalog import model
from drills.hosting.countries import country_code
from drills.hosting.regions import endpoint_key
from drills.options import Choice, Custom, Duration, ListOf, Record, Text


def a_date(value) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValueError(f"expected a date such as 2027-03-31, got {value!r}") from None


def endpoint_regions(value) -> dict[str, dict[str, str]]:
    """{endpoint URL: {region: country}}, keys as drills.hosting.regions looks them up."""
    if not isinstance(value, dict) or not all(isinstance(regions, dict) for regions in value.values()):
        raise ValueError("expected endpoint URLs, each with its regions and their countries "
                         "({https://s3.example.fr: {paris: FR}})")
    for endpoint in value:
        if not isinstance(endpoint, str) or "://" not in endpoint:
            raise ValueError(f"{endpoint!r} is not an endpoint URL such as https://s3.example.fr")
    return {endpoint_key(endpoint): {str(region).lower(): country_code(country) for region, country in regions.items()}
            for endpoint, regions in value.items()}


def hosting(doc: str, for_site: bool) -> Record:
    """The hosting Record; a site's (and a tenant's) also says what fails and when to warn."""
    fields = {
        "host": Text("Who hosts the data: the certified host's name, as shown to people.", example="OVHcloud"),
        "certificate": Text("The host's HDS certificate reference.", example="HDS-2024-0042"),
        "expires": Custom("The last day the HDS certificate is valid (after it: hosting.certificate_expired).",
                          a_date, "date", example="2027-03-31"),
        "country": Custom("Country of the storage (ISO 3166-1 alpha-2). SFTP and local storage are judged on it; "
                          "for S3 the country of the bucket's region, read at each drill, must equal it "
                          "(hosting.mismatch).", country_code, "country code", example="FR"),
        "regions": Custom("Countries of the regions of S3 endpoints the built-in table does not know (or says "
                          "otherwise of), by endpoint URL (docs/hosting.md).", endpoint_regions,
                          "mapping of endpoints", example={"https://s3.hds.example.fr": {"paris-1": "FR"}}),
    }
    if for_site:
        fields["notice"] = Duration("How long before `expires` hosting.certificate_expiring warns (default 60d).",
                                    example="90d")
        fields["fail"] = ListOf("The hosting checks that fail the drill (outcome fail, the site red) instead of "
                                "warning: " + ", ".join(model.HOSTING_CHECKS) + ". They apply to the evidence "
                                "replica's location too.", Choice("A hosting check.", model.HOSTING_CHECKS),
                                example=["outside_eea", "certificate_expired"])
    return Record(doc, fields, build=lambda fail=None, **given: model.Hosting(
        fail=None if fail is None else tuple(fail), **given))


SITE_HOSTING = hosting("Where the site's backups are stored and by whom (HDS 2024: in the EEA only); laid over "
                       "its tenant's, key by key. Without one (here or at the tenant), hosting is not checked.", True)
TENANT_HOSTING = hosting("The hosting of the tenant's sites, unless a site says otherwise.", True)
REPLICA_HOSTING = hosting("Where the evidence replica is stored and by whom; checked with every site's drill "
                          "whose hosting is declared.", False)
