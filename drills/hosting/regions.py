"""Which country an S3 bucket is in: the region its service names (GetBucketLocation), read by
provider, with the catalog's own table per endpoint for every other service.

The providers below are told apart by their endpoint's host, because their region names collide
(AWS's eu-west-2 is London, Outscale's is Paris). Only regions whose country is published by the
provider are listed (docs/hosting.md); a region missing here is never guessed: it is declared in
`hosting.regions` under the endpoint, or the location is said unverified (hosting.unverified).
Azure Blob Storage has no S3 interface of its own: a gateway in front of it is declared per endpoint.
"""

from dataclasses import dataclass
from urllib.parse import urlsplit

US = "US"


@dataclass(frozen=True)
class Provider:
    name: str
    domains: tuple[str, ...]  # the endpoint's host is one of them, or ends with "." + one of them
    regions: dict[str, str]  # region, in lower case -> ISO 3166-1 alpha-2


AWS = Provider("AWS", ("amazonaws.com",), {
    "us-east-1": US, "us-east-2": US, "us-west-1": US, "us-west-2": US, "ca-central-1": "CA", "ca-west-1": "CA",
    "eu": "IE",  # the legacy name GetBucketLocation gives of eu-west-1
    "eu-west-1": "IE", "eu-west-2": "GB", "eu-west-3": "FR", "eu-central-1": "DE", "eu-central-2": "CH",
    "eu-north-1": "SE", "eu-south-1": "IT", "eu-south-2": "ES",
    "ap-south-1": "IN", "ap-south-2": "IN", "ap-east-1": "HK", "ap-northeast-1": "JP", "ap-northeast-2": "KR",
    "ap-northeast-3": "JP", "ap-southeast-1": "SG", "ap-southeast-2": "AU", "ap-southeast-3": "ID",
    "ap-southeast-4": "AU", "sa-east-1": "BR", "af-south-1": "ZA", "me-south-1": "BH", "me-central-1": "AE",
    "il-central-1": "IL",
})
OUTSCALE = Provider("Outscale", ("outscale.com",), {
    "eu-west-2": "FR", "cloudgouv-eu-west-1": "FR", "us-east-2": US, "us-west-1": US, "ap-northeast-1": "JP",
})
SCALEWAY = Provider("Scaleway", ("scw.cloud",), {"fr-par": "FR", "nl-ams": "NL", "pl-waw": "PL"})
OVHCLOUD = Provider("OVHcloud", ("cloud.ovh.net",), {
    "gra": "FR", "sbg": "FR", "rbx": "FR", "eu-west-par": "FR", "de": "DE", "waw": "PL", "uk": "GB", "bhs": "CA",
})
GOOGLE = Provider("Google Cloud Storage", ("storage.googleapis.com",), {
    "europe-west1": "BE", "europe-west2": "GB", "europe-west3": "DE", "europe-west4": "NL", "europe-west6": "CH",
    "europe-west8": "IT", "europe-west9": "FR", "europe-west10": "DE", "europe-west12": "IT",
    "europe-north1": "FI", "europe-central2": "PL", "europe-southwest1": "ES",
    "us-central1": US, "us-east1": US, "us-east4": US, "us-west1": US, "us-west2": US,
})
PROVIDERS = (AWS, OUTSCALE, SCALEWAY, OVHCLOUD, GOOGLE)


def endpoint_key(endpoint: str | None) -> str:
    """How an endpoint is named in `hosting.regions`: its URL in lower case without a trailing slash."""
    return (endpoint or "").strip().rstrip("/").lower()


def provider_of(endpoint: str | None) -> Provider | None:
    """The provider serving `endpoint` (none given: AWS, the SDK's default); None if unknown."""
    if not endpoint:
        return AWS
    host = (urlsplit(endpoint if "//" in endpoint else "//" + endpoint).hostname or "").lower()
    return next((provider for provider in PROVIDERS
                 if any(host == domain or host.endswith("." + domain) for domain in provider.domains)), None)


def normalised(location_constraint: str | None) -> str:
    """The region a GetBucketLocation answer names: none (null, empty) is us-east-1, as the S3 API says."""
    return location_constraint or "us-east-1"


def country_of(endpoint: str | None, region: str, declared: dict[str, dict[str, str]]) -> tuple[str | None, str]:
    """(country, whose table said so) of `region` at `endpoint`: the catalog's table for that endpoint
    first (`declared`: endpoint_key -> region in lower case -> country), then its provider's; (None, "")
    if neither knows it."""
    key = region.lower()
    own = declared.get(endpoint_key(endpoint), {})
    if key in own:
        return own[key], "catalog"
    provider = provider_of(endpoint)
    if provider and key in provider.regions:
        return provider.regions[key], provider.name
    return None, ""
