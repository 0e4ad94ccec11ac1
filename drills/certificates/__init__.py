"""Reversibility certificates: the human form (HTML and PDF, French and English) of the signed
report of a passed drill, the report attached."""

import json

from drills.certificates.content import build
from drills.certificates.html import render_html
from drills.certificates.pdf import render_pdf
from drills.certificates.texts import LANGUAGES

RENDERERS = {"html": render_html, "pdf": render_pdf}


def certificate_files(report_bytes: bytes, signature: bytes | None, report_name: str, keyring: dict,
                      languages=LANGUAGES, formats=tuple(RENDERERS)) -> dict[str, bytes]:
    """{file name: content} for each language and format; ConfigError if the report (with its
    detached `signature`) is not a verified pass."""
    certificates = {lang: build(report_bytes, signature, report_name, keyring, lang) for lang in languages}
    report = json.loads(report_bytes)  # valid JSON: build() verified its signature
    stem = f"certificate-{report['site']}-{report['drill_id']}"
    return {f"{stem}.{lang}.{kind}": RENDERERS[kind](certificate)
            for lang, certificate in certificates.items() for kind in formats}
