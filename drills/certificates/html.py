"""The certificate as one self-contained HTML page (printable; the signed report and the public
key are inside it as downloadable links, byte for byte)."""

import base64
from html import escape

from drills.certificates.content import Certificate, attachments

STYLE = """
body{font-family:"DejaVu Sans",Arial,sans-serif;max-width:900px;margin:2em auto;color:#1b1b1b;padding:0 1em}
h1{font-size:1.5em;border-bottom:3px solid #1e7b34;padding-bottom:.3em}
.verdict{background:#e6f4ea;border-left:6px solid #1e7b34;padding:1em;font-size:1.05em}
table{border-collapse:collapse;width:100%;margin:.5em 0 1.5em}
th,td{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f3f3f3} td.n{text-align:right;font-variant-numeric:tabular-nums}
code,.mono{font-family:"DejaVu Sans Mono",monospace;font-size:.9em;word-break:break-all}
"""


def data_link(payload: bytes, name: str, mime: str) -> str:
    encoded = base64.b64encode(payload).decode()
    return f'<a download="{escape(name)}" href="data:{mime};base64,{encoded}">{escape(name)}</a>'


def rows_table(headings: list[str], rows, numeric: tuple[int, ...] = ()) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headings)
    body = "".join("<tr>" + "".join(f'<td class="{"n" if i in numeric else "mono" if len(str(v)) > 40 else ""}">'
                                    f"{escape(str(v))}</td>" for i, v in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def render_html(certificate: Certificate) -> bytes:
    labels = certificate.labels
    parts = [f'<!doctype html><html lang="{certificate.lang}"><head><meta charset="utf-8">',
             f"<title>{escape(certificate.title)}</title><style>{STYLE}</style></head><body>",
             f"<h1>{escape(certificate.title)}</h1>", f'<p class="verdict">✅ {escape(certificate.statement)}</p>']
    for heading, pairs in certificate.sections:
        parts += [f"<h2>{escape(heading)}</h2>", rows_table(["", ""], pairs)]
    parts += [f"<h2>{escape(labels['tables'])}</h2>",
              rows_table([labels[key] for key in ("table", "expected", "restored", "fingerprint", "status")],
                         certificate.tables, numeric=(1, 2))]
    if certificate.checks:
        parts += [f"<h2>{escape(labels['checks'])}</h2>",
                  rows_table([labels["check"], labels["subject"], labels["status"]], certificate.checks)]
    parts += [f"<h2>{escape(labels['verify'])}</h2>",
              "".join(f"<p>{escape(step)}</p>" for step in certificate.verification),
              "<p>" + " · ".join(data_link(content, name, kind) for name, content, kind, _ in attachments(certificate))
              + "</p>",
              f"<p><small>{escape(labels['generated'])}</small></p></body></html>"]
    return "\n".join(parts).encode()
