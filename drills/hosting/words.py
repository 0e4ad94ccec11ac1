"""One storage location in words, in French and English, as the operator's site page, the
certificate and the compliance report show it (the pharmacist's sentence lives with the
dashboard's texts)."""

from drills.hosting.countries import located, name

WORDS = {
    "backup": {"fr": "Sauvegardes", "en": "Backups"},
    "evidence_replica": {"fr": "Réplique des preuves", "en": "Evidence replica"},
    "unknown": {"fr": "pays non établi", "en": "country not established"},
    "eea.True": {"fr": "dans l'EEE", "en": "in the EEA"},
    "eea.False": {"fr": "HORS de l'EEE", "en": "OUTSIDE the EEA"},
    "eea.None": {"fr": "EEE non établi", "en": "EEA not established"},
    "host": {"fr": "hébergeur {host}", "en": "host {host}"},
    "certificate": {"fr": "certificat HDS {reference} valable jusqu'au {date}",
                    "en": "HDS certificate {reference} valid until {date}"},
    "region": {"fr": "région lue {region}", "en": "region read {region}"},
    "line": {"fr": "{what} : {details}", "en": "{what}: {details}"},
    "where.unknown": {"fr": "dans un pays qui n'a pas pu être établi", "en": "in a country that could not be told"},
    "outside": {"fr": ", hors de l'Espace économique européen", "en": ", outside the European Economic Area"},
    "by": {"fr": " par {host}", "en": " by {host}"},
    "certified": {"fr": ", certifié HDS jusqu'au {date}", "en": ", HDS certified until {date}"},
}


def word(key: str, lang: str, **values) -> str:
    return WORDS[key][lang].format(**values)


def describe(location: dict, lang: str, day=str) -> tuple[str, str]:
    """(which location, what is known of it): ("Sauvegardes", "France (FR), dans l'EEE ; hébergeur
    OVHcloud ; certificat HDS HDS-2024-0042 valable jusqu'au 31 mars 2027 ; région lue eu-west-3").
    `location` is a report's hosting location or its summary (drills.reports.report.hosting_summary);
    `day` writes a date (YYYY-MM-DD) for people."""
    country, eea = location.get("country"), word(f"eea.{location.get('eea')}", lang)
    parts = [(f"{name(country, lang)} ({country})" if country else word("unknown", lang)) + f", {eea}"]
    if location.get("host"):
        parts.append(word("host", lang, host=location["host"]))
    if location.get("expires"):
        parts.append(" ".join(word("certificate", lang, reference=location.get("certificate") or "",
                                   date=day(location["expires"])).split()))
    if location.get("read_region"):
        parts.append(word("region", lang, region=location["read_region"]))
    return word(location["what"], lang), " ; ".join(parts) if lang == "fr" else "; ".join(parts)


def line(location: dict, lang: str, day=str) -> str:
    what, details = describe(location, lang, day)
    return word("line", lang, what=what, details=details)


def backup_location(locations: list[dict] | None) -> dict | None:
    """The location of the site's backups among a report's (or a summary's) hosting locations."""
    return next((location for location in locations or () if location["what"] == "backup"), None)


def sentence_parts(location: dict, lang: str, day=str) -> dict[str, str]:
    """The parts of "hosted {where}{outside}{host}{certified}": " en France", ", hors de l'Espace
    économique européen", " par OVHcloud", ", certifié HDS jusqu'au 31 mars 2027" (each '' if unknown)."""
    country = location.get("country")
    return {"where": located(country, lang) if country else word("where.unknown", lang),
            "outside": word("outside", lang) if location.get("eea") is False else "",
            "host": word("by", lang, host=location["host"]) if location.get("host") else "",
            "certified": word("certified", lang, date=day(location["expires"])) if location.get("expires") else ""}
