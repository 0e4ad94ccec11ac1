"""A site's status badge, the small picture (SVG) and JSON an editor embeds in its own pages:
the status the dashboard's status page shows (drills.fleet judges it, drills.site_words says
it), the day it was last proven, in French (the default) or English. It names no site and no
figure beyond these: whoever holds the badge's address may read it."""

from xml.sax.saxutils import escape

from drills.fleet import SiteStatus
from drills.site_words import STATUS_COLOUR, day, state, status_label

STATE_NAMES = {"green": "restorable", "amber": "needs_attention", "red": "not_restorable", "never": "never_drilled",
               "failed_check": "restorable_not_compliant"}
CAPTION = {"fr": "sauvegarde", "en": "backup"}
PROVEN = {"fr": "prouvée le {date}", "en": "last proven {date}"}
CHARACTER_WIDTH, PADDING, HEIGHT = 7, 10, 20  # 11 px Verdana: wide enough for its widest letters
CAPTION_COLOUR = "#555555"


def badge_document(status: SiteStatus, language: str) -> dict:
    """The badge as JSON: the state (a stable name), its words, and the last day the backup was proven."""
    proven_at = status.last_pass["started_at"] if status.last_pass else None
    return {"state": STATE_NAMES[state(status.status, status.why)], "status": status.status,
            "label": status_label(status.status, language, status.why, icon=False),
            "last_proven_at": proven_at, "last_proven": day(proven_at, language) if proven_at else None,
            "language": language}


def badge_svg(status: SiteStatus, language: str) -> str:
    """The badge as a shields-style SVG: `sauvegarde | Restaurable · 30 novembre 2026`."""
    document = badge_document(status, language)
    caption = CAPTION[language]
    value = document["label"] + (f" · {document['last_proven']}" if document["last_proven"] else "")
    title = f"{caption.capitalize()} : {document['label']}" if language == "fr" else \
        f"{caption.capitalize()}: {document['label']}"
    if document["last_proven"]:
        title += ", " + PROVEN[language].format(date=document["last_proven"])
    left, right = width(caption), width(value)
    colour = STATUS_COLOUR[status.status]
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + right}" height="{HEIGHT}" role="img" '
            f'aria-label={attribute(title)}><title>{escape(title)}</title>'
            f'<rect width="{left}" height="{HEIGHT}" fill="{CAPTION_COLOUR}"/>'
            f'<rect x="{left}" width="{right}" height="{HEIGHT}" fill="{colour}"/>'
            f'<g fill="#ffffff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11" text-anchor="middle">'
            f'<text x="{left / 2}" y="14">{escape(caption)}</text>'
            f'<text x="{left + right / 2}" y="14">{escape(value)}</text></g></svg>\n')


def width(text: str) -> int:
    return len(text) * CHARACTER_WIDTH + 2 * PADDING


def attribute(text: str) -> str:
    return '"' + escape(text, {'"': "&quot;"}) + '"'
