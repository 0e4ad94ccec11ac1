"""The certificate as a PDF (A4), with the signed report and the public key attached as
embedded files (`pdfdetach -saveall` takes them out). Fonts: Debian's DejaVu, embedded."""

from pathlib import Path

from drills.certificates.content import Certificate, attachments
from drills.errors import ConfigError
from drills import reasons

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONTS = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
MONO = "DejaVuSansMono.ttf"
GREEN = (30, 123, 52)


def titled_page(title: str, size: float, mono_size: float):
    """A new A4 document, its fonts added, its first page begun with `title` in green; (pdf, the
    fixed-width face hashes are shown in)."""
    from fpdf import FPDF  # loaded only when a document is made
    from fpdf.fonts import FontFace

    pdf = FPDF(format="A4")
    pdf.set_title(title)
    pdf.set_creator("Restore Drill")
    add_fonts(pdf)
    pdf.add_page()
    pdf.set_font("DejaVu", "B", size)
    pdf.set_text_color(*GREEN)
    pdf.multi_cell(0, size / 2, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0)
    return pdf, FontFace(family="DejaVuMono", size_pt=mono_size)


def render_pdf(certificate: Certificate) -> bytes:
    pdf, mono = titled_page(certificate.title, 15, 8)
    pdf.ln(2)
    pdf.set_font("DejaVu", "", 10)
    pdf.multi_cell(0, 5.5, certificate.statement, border="L", align="L", new_x="LMARGIN", new_y="NEXT", padding=(2, 3))
    for heading, pairs in certificate.sections:
        section(pdf, heading)
        table(pdf, pairs, (55, 125), None, mono)
    labels = certificate.labels
    section(pdf, labels["tables"])
    table(pdf, certificate.tables, (55, 25, 25, 50, 25),
          (labels["table"], labels["expected"], labels["restored"], labels["fingerprint"], labels["status"]), mono)
    if certificate.checks:
        section(pdf, labels["checks"])
        table(pdf, certificate.checks, (45, 105, 30), (labels["check"], labels["subject"], labels["status"]), mono)
    section(pdf, labels["verify"])
    pdf.set_font("DejaVu", "", 9)
    for step in certificate.verification:
        pdf.multi_cell(0, 5, step, new_x="LMARGIN", new_y="NEXT")
    for name, content, kind, description in attachments(certificate):
        pdf.embed_file(bytes=content, basename=name, mime_type=kind, desc=description)
    return bytes(pdf.output())


def add_fonts(pdf) -> None:
    missing = [name for name in (*FONTS.values(), MONO) if not (FONT_DIR / name).exists()]
    if missing:
        raise ConfigError(f"the certificate's fonts are missing: {', '.join(missing)}",
                          code=reasons.CONFIG_MISSING_FONTS,
                          hint="apt-get install fonts-dejavu-core (make setup does)")
    for style, name in FONTS.items():
        pdf.add_font("DejaVu", style, FONT_DIR / name)
    pdf.add_font("DejaVuMono", "", FONT_DIR / MONO)


def section(pdf, heading: str) -> None:
    pdf.ln(3)
    pdf.set_font("DejaVu", "B", 11)
    pdf.cell(0, 7, heading, new_x="LMARGIN", new_y="NEXT")


def table(pdf, rows, widths: tuple, header: tuple | None, mono, mono_from: int = 40) -> None:
    """A grid of `rows`; a value of `mono_from` characters or more without a space (a hash, an id)
    in the fixed-width font, unbroken where it fits."""
    pdf.set_font("DejaVu", "", 8.5)
    with pdf.table(col_widths=widths, width=sum(widths), align="LEFT", first_row_as_headings=header is not None,
                   line_height=5, text_align="LEFT") as grid:
        for row in ([header] if header else []) + [tuple(map(str, row)) for row in rows]:
            cells = grid.row()
            for value in row:
                cells.cell(value, style=mono if len(value) > mono_from and " " not in value else None)
