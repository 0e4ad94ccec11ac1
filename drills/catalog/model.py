"""The site catalog as plain, immutable data: what the schema builds and the pipeline reads."""

from dataclasses import dataclass, field, fields, replace
from datetime import date
from pathlib import Path
from drills import reasons


@dataclass(frozen=True)
class LocalSource:
    type: str
    path: Path
    pattern: str
    pick: str = "newest"
    retention: int | None = None


@dataclass(frozen=True)
class S3Location:
    """An S3-compatible bucket and how to reach it; credentials only by environment variable."""

    bucket: str
    prefix: str = ""
    endpoint: str | None = None
    region: str | None = None
    access_key_env: str | None = None
    secret_key_env: str | None = None


@dataclass(frozen=True)
class S3Source:
    type: str
    location: S3Location
    pattern: str
    pick: str = "newest"
    retention: int | None = None
    sse_customer_key_env: str | None = None
    server_side_encryption: str | None = None
    sse_kms_key_id: str | None = None


@dataclass(frozen=True)
class SftpSource:
    type: str
    host: str
    port: int
    user: str
    key_file: Path
    known_hosts: Path
    path: str
    pattern: str
    pick: str = "newest"
    retention: int | None = None


@dataclass(frozen=True)
class DecryptSettings:
    """Where the age identity or passphrase comes from: a file or an environment variable."""

    identity_file: Path | None = None
    identity_env: str | None = None
    passphrase_file: Path | None = None
    passphrase_env: str | None = None
    max_work_factor: int = 20


@dataclass(frozen=True)
class TableBounds:
    min: int | None = None
    max: int | None = None


@dataclass(frozen=True)
class SqlAssertion:
    name: str
    query: str
    expect: object


HISTORY_CHECKS = ("rows_dropped", "schema_changed", "rto_regression")  # checks.history.fail may list them


@dataclass(frozen=True)
class HistoryChecks:
    """How a passing drill is compared with the site's earlier ones (drills.checks.history)."""

    max_drop: int = 20  # percent of a table's rows
    min_rows: int = 1000
    fail: tuple[str, ...] = ()  # the history checks that fail the drill instead of warning


@dataclass(frozen=True)
class Checks:
    manifest: str = "optional"
    tables: dict[str, TableBounds] = field(default_factory=dict)
    sql: list[SqlAssertion] = field(default_factory=list)
    newest_record: str | None = None
    may_be_empty: bool = False
    fingerprints: str | list[str] = "all"
    fingerprint_rows: int = 1_000_000
    history: HistoryChecks = field(default_factory=HistoryChecks)


@dataclass(frozen=True)
class Targets:
    rto: int
    rpo: int


@dataclass(frozen=True)
class Alerts:
    """Where to send alerts (apprise URLs) and when a site counts as neglected."""

    urls: list[str] = field(default_factory=list)
    urls_env: str | None = None
    no_success_days: int | None = None


LOCALES = ("fr", "en")  # the languages alerts are written in (workers.alert_texts)
HOSTING_CHECKS = ("outside_eea", "mismatch", "certificate_expired", "unverified")  # hosting.fail may list them


@dataclass(frozen=True)
class Hosting:
    """Where backups (or the evidence replica) are stored and by whom, as declared (drills.hosting).
    None is "not said here": a site's declaration is laid over its tenant's, field by field."""

    host: str | None = None
    certificate: str | None = None  # the host's HDS certificate reference
    expires: date | None = None  # the last day the certificate is valid
    country: str | None = None  # ISO 3166-1 alpha-2 of the storage
    regions: dict[str, dict[str, str]] | None = None  # endpoint -> S3 region (lower case) -> country
    notice: int | None = None  # seconds before `expires` from which hosting.certificate_expiring warns
    fail: tuple[str, ...] | None = None  # the HOSTING_CHECKS that fail the drill instead of warning

    def over(self, default: "Hosting | None") -> "Hosting | None":
        """This declaration laid over `default` (a tenant's); None if neither says anything."""
        merged = self if default is None else replace(default, **{
            f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None})
        if default is not None and default.regions and self.regions:
            merged = replace(merged, regions={**default.regions, **self.regions})
        return merged if merged != Hosting() else None


@dataclass(frozen=True)
class Tenant:
    alerts: Alerts = field(default_factory=Alerts)
    contact: str | None = None
    hosting: Hosting | None = None
    locale: str | None = None


@dataclass(frozen=True)
class Site:
    id: str
    name: str
    tenant: str
    source: LocalSource | S3Source | SftpSource
    decrypt: DecryptSettings
    engine: object  # its engine's settings (drills.engines.*: the Record of ENGINE.options builds them)
    checks: Checks
    schedule: str
    targets: Targets
    alerts: Alerts = field(default_factory=Alerts)
    hosting: Hosting | None = None  # with its tenant's laid under it (drills.catalog.loader)
    locale: str = "fr"  # its own, else its tenant's, else French (drills.catalog.loader)
    heartbeat: str | None = None  # pinged after each passing drill (workers.heartbeat); may hold a secret path
    heartbeat_env: str | None = None


@dataclass(frozen=True)
class EvidenceReplica:
    """A write-once copy of every report in S3, locked against deletion for `retention` seconds."""

    type: str
    location: S3Location
    object_lock: str
    retention: int
    hosting: Hosting | None = None


@dataclass(frozen=True)
class Catalog:
    path: Path
    evidence: Path
    signing_key: Path
    sites: list[Site]
    tenants: dict[str, Tenant] = field(default_factory=dict)
    evidence_replica: EvidenceReplica | None = None
    included: tuple[Path, ...] = ()  # the directories and files of `include:`, whose sites are in `sites`

    def site(self, site_id: str) -> Site:
        """The site with this id; raises ConfigError naming the known ids otherwise."""
        from drills.errors import ConfigError

        for site in self.sites:
            if site.id == site_id:
                return site
        known = ", ".join(site.id for site in self.sites) or "none"
        raise ConfigError(f"no site {site_id!r} in {self.path}", hint=f"known sites: {known}",
                          code=reasons.CONFIG_UNKNOWN_SITE)
