"""The compliance report as one self-contained HTML page (printable); every value escaped."""

from html import escape

from drills.certificates.html import STYLE, rows_table
from drills.compliance.content import ANNEX_COLUMNS, RED_COLUMNS, Layout


def render_html(layout: Layout) -> bytes:
    labels = layout.labels
    heading = lambda words, level=2: f"<h{level}>{escape(words)}</h{level}>"  # noqa: E731
    parts = [f'<!doctype html><html lang="{layout.lang}"><head><meta charset="utf-8">',
             f"<title>{escape(layout.title)}</title><style>{STYLE}</style></head><body>", heading(layout.title, 1),
             *(f"<p>{escape(paragraph)}</p>" for paragraph in layout.intro),
             heading(labels["section.totals"]), rows_table(["", ""], layout.totals)]
    for site_heading, pairs, red in layout.sites:
        parts += [heading(site_heading), rows_table(["", ""], pairs)]
        if red:
            parts += [heading(labels["red_periods"], 3), rows_table([labels[key] for key in RED_COLUMNS], red)]
    parts += [heading(labels["section.requirements"]),
              "".join(f"<p><strong>{escape(name)}</strong><br>{escape(words)}</p>"
                      for name, words in layout.requirements),
              heading(labels["section.annex"]),
              rows_table([labels[key] for key in ANNEX_COLUMNS], layout.annex, numeric=(1,)),
              heading(labels["section.verify"]), "".join(f"<p>{escape(step)}</p>" for step in layout.verification),
              f"<p><small>{escape(layout.generated)}</small></p></body></html>"]
    return "\n".join(parts).encode()
