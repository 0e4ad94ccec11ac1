"""A site's status and what a drill's verdict means, for the people of the site, in French (the
default) and English, and dates and durations as people write them: one place for the dashboard's
pages, the API's badges and the alerts, so all say the same thing. A family of reason codes
(`decrypt.`, `restore.`...) shares one sentence; a code of no family here says `other`."""

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


MEANING = {
    "decrypt": {"fr": "La sauvegarde est illisible : fichier endommagé ou mauvaise clé de chiffrement.",
                "en": "The backup cannot be read: damaged file or wrong encryption key."},
    "backup": {"fr": "Aucune sauvegarde récente n'a été trouvée : la sauvegarde automatique semble arrêtée.",
               "en": "No recent backup was found: the automatic backup seems to have stopped."},
    "manifest": {"fr": "La liste des données attendues, écrite avec la sauvegarde, manque ou n'est pas valable.",
                 "en": "The list of the expected data, written with the backup, is missing or not valid."},
    "restore": {"fr": "La sauvegarde n'a pas pu être rechargée dans une base de données.",
                "en": "The backup could not be loaded into a database."},
    "verify": {"fr": "Après restauration, des données manquent ou sont incohérentes.",
               "en": "After the restore, data is missing or inconsistent."},
    "history": {"fr": "La sauvegarde se restaure, mais ses données ont changé de façon inhabituelle depuis la "
                      "précédente.",
                "en": "The backup restores, but its data changed in an unusual way since the one before."},
    "hosting": {"fr": "La sauvegarde se restaure, mais le lieu où elle est hébergée, ou la certification HDS de son "
                      "hébergeur, pose problème.",
                "en": "The backup restores, but where it is hosted, or its host's HDS certification, is a problem."},
    "other": {"fr": "La vérification a échoué.", "en": "The check failed."},
}

CONTACT_DEFAULT = {"fr": "votre prestataire informatique", "en": "your IT provider"}  # a tenant without `contact`

CONSEQUENCE = {  # what a status means on the day of a disaster
    "green": {"fr": "En cas de panne, vos données peuvent être récupérées.",
              "en": "If your system failed, your data could be recovered."},
    "red": {"fr": "En cas de panne aujourd'hui, vos données ne pourraient pas être récupérées "
                  "à partir de cette sauvegarde.",
            "en": "If your system failed today, your data could not be recovered from this backup."},
}


def meaning(reason: str | None, language: str) -> str:
    """The sentence of the reason's family: `restore.failed` -> "La sauvegarde n'a pas pu..."."""
    family = (reason or "").split(".")[0]
    return MEANING.get(family, MEANING["other"])[language]


def duration(seconds: float | None, language: str) -> str:
    """12 min 30 s / 2 h 05 min / 45 s."""
    if seconds is None:
        return "—"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours >= 48:
        return f"{hours // 24} {'jours' if language == 'fr' else 'days'}"
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"
