"""A site's status in words, French (the default) and English, and dates as people write them:
one place for the dashboard's pages and the API's badges, so both say the same thing."""

from datetime import datetime

from drills import reasons

LANGUAGES = ("fr", "en")
STATUS_ICON = {"green": "✅", "amber": "⚠️", "red": "❌", "never": "⚪", "failed_check": "❌"}
STATUS_WORDS = {
    "green": {"fr": "Restaurable", "en": "Restorable"},
    "amber": {"fr": "À surveiller", "en": "Needs attention"},
    "red": {"fr": "NON restaurable", "en": "NOT restorable"},
    "never": {"fr": "Jamais vérifié", "en": "Never drilled"},
    "failed_check": {"fr": "Restaurable, mais NON conforme", "en": "Restorable, but NOT compliant"},
}
STATUS_COLOUR = {"green": "#1b7f3b", "amber": "#b26a00", "red": "#b3261e", "never": "#5f6368"}
MONTHS_FR = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
             "novembre", "décembre")


def state(status: str, why: str = "") -> str:
    """The key of the words for a status: a red site whose backup restored but failed a history or
    hosting check its catalog makes fail (reasons.ATTENTION) is `failed_check`, not "not restorable"."""
    return "failed_check" if status == "red" and why.startswith(reasons.ATTENTION) else status


def status_label(status: str, language: str, why: str = "", icon: bool = True) -> str:
    """The status in words ("✅ Restaurable"), with its icon unless `icon` is False."""
    key = state(status, why)
    words = STATUS_WORDS[key][language]
    return f"{STATUS_ICON[key]} {words}" if icon else words


def day(moment: datetime | str | None, language: str) -> str:
    """21 novembre 2026 / 21 November 2026."""
    if moment is None:
        return "—"
    moment = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    if language == "fr":
        return f"{moment.day} {MONTHS_FR[moment.month - 1]} {moment.year}"
    return f"{moment.day} {moment:%B %Y}"
