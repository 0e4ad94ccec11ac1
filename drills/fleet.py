"""The dashboard's data access: each site's status and history, read through a user's scope.

Every read takes the scope (the site ids a user may see, drills.access) and refuses a site
outside it exactly as it refuses a site that does not exist (`NotVisible`), so a page, a
widget state or a query parameter naming another site gets nothing, not even whether it
exists. Reads come from the summary index (drills.reports.index), cached per site until its
index file changes.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path
from datetime import datetime, timedelta, timezone

from drills.reports import index, keys
from drills.reports.evidence import EvidenceStore
from drills.reports.report import read_report, routine, UNREADABLE
from drills.reports.signing import read_signature, verify
from drills import reasons

GREEN, AMBER, RED, NEVER = "green", "amber", "red", "never"
PROOF_TOO_OLD = timedelta(days=2)  # a green status needs a passing drill at most this old
TREND_LENGTH = 30


class NotVisible(LookupError):
    """The site does not exist, or the user may not see it: the same answer for both."""


@dataclass(frozen=True)
class SiteStatus:
    site_id: str
    name: str
    tenant: str
    status: str                       # green | amber | red | never
    why: str                          # what makes it amber or red: a reason code, rto.slow, proof.old,
                                      # contents.unverified, a warning's code (history.rows_dropped...)
    last: dict | None                 # the newest drill's summary
    last_pass: dict | None            # the newest passing drill's summary (among the recent ones)
    rto_target: int | None
    rpo_target: int | None
    backup_age_seconds: float | None  # now, of the backup the newest drill took
    trend: list = field(default_factory=list)  # RTO of the recent drills, None where one did not pass


def status_of(site, recent: list[dict], now: datetime) -> SiteStatus:
    """The status a person should read from the site's recent routine drills (oldest first): a
    backup chosen by name (an operator's question, the recovery-point finder's) says nothing of
    the newest one."""
    recent = routine(recent)
    last = recent[-1] if recent else None
    last_pass = next((entry for entry in reversed(recent) if entry["outcome"] == "pass"), None)
    status, why = judge(site, last, last_pass, now)
    trend = [entry["rto_seconds"] if entry["outcome"] == "pass" else None for entry in recent[-TREND_LENGTH:]]
    taken = last and last.get("backup_taken_at")
    age = (now - parse_time(taken)).total_seconds() if taken else None
    return SiteStatus(site.id, site.name, site.tenant, status, why, last, last_pass,
                      site.targets.rto, site.targets.rpo, age, trend)


def judge(site, last: dict | None, last_pass: dict | None, now: datetime) -> tuple[str, str]:
    if last is None:
        return NEVER, "never"
    if last["outcome"] == "fail":
        return RED, last["reason"] or "fail"
    if last["outcome"] in ("error", UNREADABLE):  # not proven this time (our side failed, or its report is damaged)
        return AMBER, last["reason"] or "error"
    if now - parse_time(last_pass["started_at"]) > PROOF_TOO_OLD:
        return AMBER, reasons.PROOF_OLD
    warned = [code for code in last.get("attention") or () if code.startswith(reasons.ATTENTION)]
    if warned:  # restores, but the data changed, or where it is stored is wrong: a person must look
        return AMBER, warned[0]
    if not last.get("contents_verified", True):  # restored, but checked against nothing the site declared
        return AMBER, reasons.CONTENTS_UNVERIFIED
    if last["rto_seconds"] is not None and last["rto_seconds"] > site.targets.rto:
        return AMBER, reasons.RTO_SLOW
    return GREEN, ""


def certifiable(report_or_summary: dict) -> bool:
    """Whether a reversibility certificate can be made of this drill: it passed, and its contents
    were verified (drills.certificates refuses the others)."""
    return report_or_summary["outcome"] == "pass" and report_or_summary.get("contents_verified", True)


def parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class Fleet:
    """Scoped, cached reads of one catalog's evidence store."""

    def __init__(self, catalog, clock=lambda: datetime.now(timezone.utc)):
        self.catalog, self.clock = catalog, clock
        self.store = EvidenceStore(catalog.evidence)
        self.sites = {site.id: site for site in catalog.sites}
        self.cache: dict[str, tuple[tuple, list[dict]]] = {}

    def site(self, scope: frozenset[str], site_id: str):
        if site_id not in scope or site_id not in self.sites:
            raise NotVisible(site_id)
        return self.sites[site_id]

    def statuses(self, scope: frozenset[str]) -> list[SiteStatus]:
        """One status per visible site, in catalog order."""
        now = self.clock()
        return [status_of(site, self.recent(site.id), now) for site in self.catalog.sites if site.id in scope]

    def status(self, scope: frozenset[str], site_id: str) -> SiteStatus:
        return status_of(self.site(scope, site_id), self.recent(site_id), self.clock())

    def history(self, scope: frozenset[str], site_id: str) -> list[dict]:
        """Every drill of the site, oldest first (summaries)."""
        self.site(scope, site_id)
        return index.read_all(self.store.root / site_id)

    def report_path(self, scope: frozenset[str], site_id: str, sequence: int) -> Path:
        self.site(scope, site_id)
        for path in self.store.site_reports(site_id):
            if index.sequence_of(path) == sequence:
                return path
        raise NotVisible(f"{site_id}#{sequence}")

    def report(self, scope: frozenset[str], site_id: str, sequence: int) -> tuple[dict, bytes, str]:
        """(report, its bytes, what its signature check says) of the site's drill `sequence`."""
        path = self.report_path(scope, site_id, sequence)
        data = path.read_bytes()
        valid, why = verify(data, read_signature(path), keys.keyring(self.catalog.signing_key))
        return read_report(path), data, why if valid else f"INVALID: {why}"

    def certificate(self, scope: frozenset[str], site_id: str, sequence: int, lang: str,
                    kind: str = "pdf") -> tuple[str, bytes]:
        """(file name, content) of the reversibility certificate of a passed drill of the site, as a
        PDF (`kind`) or HTML; ConfigError (a certificate.* code) if the drill cannot be certified."""
        from drills.certificates import certificate_files

        path = self.report_path(scope, site_id, sequence)
        files = certificate_files(path.read_bytes(), read_signature(path), path.name, keys.keyring(self.catalog.signing_key),
                                  languages=(lang,), formats=(kind,))
        return next(iter(files.items()))

    def tenants(self, scope: frozenset[str]) -> list[str]:
        """The tenants whose every site is in the scope: those whose compliance report it may read."""
        return sorted({site.tenant for site in self.catalog.sites}
                      - {site.tenant for site in self.catalog.sites if site.id not in scope})

    def compliance(self, scope: frozenset[str], tenant: str, month: str, lang: str) -> tuple[str, bytes]:
        """(file name, PDF) of the tenant's compliance report of `month`, unsigned (the dashboard
        holds no signing key: the PDF says so and names the command that signs it)."""
        from drills.compliance import compliance_document, document_name, rendered_files

        if tenant not in self.tenants(scope):
            raise NotVisible(tenant)
        document = compliance_document(self.catalog, tenant, month, self.clock(),
                                       keys.keyring(self.catalog.signing_key))
        data = (json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()
        files = rendered_files(data, document_name(tenant, month), signed=False, languages=(lang,), formats=("pdf",))
        return next(iter(files.items()))

    def backup_names(self, scope: frozenset[str], site_id: str) -> list[str]:
        """The names of the backups the site's drills took, newest drill first: what an operator
        may ask to drill again (the dashboard never reaches the sources themselves)."""
        return list(dict.fromkeys(entry["backup_name"] for entry in reversed(self.history(scope, site_id))
                                  if entry.get("backup_name")))

    def recovery_point(self, scope: frozenset[str], site_id: str) -> tuple[dict, bool] | None:
        """(the recovery-point finder's newest answer for the site, whether its signature verifies),
        or None if it never ran."""
        from drills.finder import answers

        self.site(scope, site_id)
        found = answers(self.store.root, site_id)
        if not found:
            return None
        data = found[-1].read_bytes()
        return json.loads(data), verify(data, read_signature(found[-1]), keys.keyring(self.catalog.signing_key))[0]

    def recent(self, site_id: str) -> list[dict]:
        """The site's newest summaries, read again only when its index file changed."""
        path = self.store.root / site_id / index.INDEX_NAME
        try:
            stat = path.stat()
            key = (stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            return []
        cached = self.cache.get(site_id)
        if cached is None or cached[0] != key:
            cached = (key, index.read_newest(path.parent))
            self.cache[site_id] = cached
        return cached[1]
