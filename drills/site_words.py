"""What a drill's verdict means for the people of the site, in French and English: the
dashboard's status page and the alerts say it in the same words. A family of reason codes
(`decrypt.`, `restore.`...) shares one sentence; a code of no family here says `other`."""

LANGUAGES = ("fr", "en")

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
