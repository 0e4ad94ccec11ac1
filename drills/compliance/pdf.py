"""The compliance report as a PDF (A4), laid out like the certificate (DejaVu fonts embedded)."""

from drills.certificates.pdf import section, table, titled_page
from drills.compliance.content import ANNEX_COLUMNS, RED_COLUMNS, Layout


def render_pdf(layout: Layout) -> bytes:
    pdf, mono = titled_page(layout.title, 14, 6.5)
    labels = layout.labels
    pdf.set_font("DejaVu", "", 9.5)
    for paragraph in layout.intro:
        pdf.multi_cell(0, 5, paragraph, new_x="LMARGIN", new_y="NEXT")
    section(pdf, labels["section.totals"])
    table(pdf, layout.totals, (95, 85), None, mono)
    for heading, pairs, red in layout.sites:
        section(pdf, heading)
        table(pdf, pairs, (75, 105), None, mono)
        if red:
            pdf.set_font("DejaVu", "B", 9)
            pdf.cell(0, 6, labels["red_periods"], new_x="LMARGIN", new_y="NEXT")
            table(pdf, red, (34, 30, 20, 48, 48), tuple(labels[key] for key in RED_COLUMNS), mono, 20)
    section(pdf, labels["section.requirements"])
    for name, words in layout.requirements:
        pdf.set_font("DejaVu", "B", 9)
        pdf.multi_cell(0, 5, name, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 9)
        pdf.multi_cell(0, 5, words, new_x="LMARGIN", new_y="NEXT")
    section(pdf, labels["section.annex"])
    table(pdf, layout.annex, (34, 8, 46, 92), tuple(labels[key] for key in ANNEX_COLUMNS), mono, 20)
    section(pdf, labels["section.verify"])
    pdf.set_font("DejaVu", "", 9)
    for step in [*layout.verification, layout.generated]:
        pdf.multi_cell(0, 5, step, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
