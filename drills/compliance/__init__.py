"""Compliance reports: for a tenant and a calendar month, the figures of every site's drills
(success rate, RTO and RPO against targets, red periods, newest restorable point), each naming
the signed reports it comes from; a JSON document and its human forms (HTML and PDF, French and
English), each file signed like a report (docs/compliance-report.md)."""

import json
from datetime import datetime

from drills.compliance.content import build
from drills.compliance.evidence import tenant_sites, verified_site_figures
from drills.compliance.figures import period_of, totals
from drills.compliance.html import render_html
from drills.compliance.pdf import render_pdf
from drills.compliance.texts import LANGUAGES, REQUIREMENTS
from drills.reports.evidence import EvidenceStore
from drills.reports.provenance import DISTRIBUTION, installed
from drills.reports.signing import digest

DOCUMENT_KIND = "restore-drill.compliance-report"
RENDERERS = {"html": render_html, "pdf": render_pdf}


def compliance_document(catalog, tenant: str, month: str, now: datetime, keyring: dict) -> dict:
    """Every figure of `tenant`'s sites over `month` (YYYY-MM, UTC), with the reports cited;
    ConfigError for an unknown tenant or a month badly written or not begun."""
    sites = tenant_sites(catalog, tenant)
    now = now.replace(microsecond=0)  # the moment the document says (generated_at): figures counted to it
    period = period_of(month, now)
    store = EvidenceStore(catalog.evidence)
    figures = [verified_site_figures(store, site, period, keyring) for site in sites]
    return {"kind": DOCUMENT_KIND, "format": 1, "tenant": tenant, "month": month,
            "period": {"start": period.start.isoformat(), "end": period.end.isoformat(),
                       "until": period.until.isoformat(), "complete": period.complete},
            "generated_at": now.isoformat(timespec="seconds"), "restore_drill": installed(DISTRIBUTION) or "unknown",
            "evidences": [requirement["id"] for requirement in REQUIREMENTS],
            "totals": totals(figures), "sites": figures}


def document_name(tenant: str, month: str) -> str:
    return f"compliance-{tenant}-{month}.json"


def rendered_files(document_data: bytes, name: str, signed: bool, languages=LANGUAGES,
                   formats=tuple(RENDERERS)) -> dict[str, bytes]:
    """{file name: content}: the stored JSON document (`document_data`, file `name`) in words,
    for each language and format; `signed` when each file will get its detached signature."""
    document = json.loads(document_data)
    layouts = {lang: build(document, lang, name, digest(document_data), signed) for lang in languages}
    stem = name.removesuffix(".json")
    return {f"{stem}.{lang}.{kind}": RENDERERS[kind](layout) for lang, layout in layouts.items() for kind in formats}
