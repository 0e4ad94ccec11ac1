"""The words of the alerts, in the site's language (the catalog's `locale`: fr, the default, or en).

Every alert says, for the pharmacist, what happened, what it means and what to do, with the link
to the site's page on the dashboard when DRILL_DASHBOARD_URL is set; then, for the technician, the
drill's own message and hint (as the report holds them, in English); its last line names the stable
code a machine matches (`code: restore.failed`, drills.reasons). A reason's sentence is the one the
dashboard shows (drills.site_words). Each function returns (title, body).
"""

from dataclasses import dataclass
from datetime import datetime

from drills import reasons, site_words
from drills.redaction import printable


@dataclass(frozen=True)
class Audience:
    """Who reads a site's alerts: their language, whom they call, the site's page (or None)."""

    language: str
    contact: str
    link: str | None


TEXT = {
    "happened": {"fr": "Ce qui s'est passé : ", "en": "What happened: "},
    "means": {"fr": "Ce que cela veut dire : ", "en": "What it means: "},
    "todo": {"fr": "Que faire : ", "en": "What to do: "},
    "page": {"fr": "Page du site : ", "en": "The site's page: "},
    "technician": {"fr": "Pour le technicien :", "en": "For the technician:"},
    "hint": {"fr": "Piste : ", "en": "Next: "},
    "moment": {"fr": "{day} à {time} UTC", "en": "{day} at {time} UTC"},
    "drill": {"fr": "Exercice {drill_id} : {message}", "en": "Drill {drill_id}: {message}"},
    "call": {"fr": "Prévenez {contact}.", "en": "Tell {contact}."},
    "passed": {"fr": "Exercice {drill_id} : réussi.", "en": "Drill {drill_id}: passed."},
    "red.title": {"fr": "❌ {site} : sauvegarde NON restaurable", "en": "❌ {site}: backup NOT restorable"},
    "red.happened": {"fr": "Le test de restauration du {at} a échoué. {meaning}",
                     "en": "The restore drill of {at} failed. {meaning}"},
    "red.known": {"fr": "La plus récente sauvegarde prouvée restaurable est {backup}, prise le {taken}.",
                  "en": "The newest backup proven restorable is {backup}, taken {taken}."},
    "red.unknown": {"fr": "Aucune sauvegarde de ce site n'a encore été prouvée restaurable.",
                    "en": "No backup of this site has been proven restorable yet."},
    "red.finder": {"fr": "`drill restorable {site}` cherche la plus récente sauvegarde restaurable.",
                   "en": "`drill restorable {site}` looks for the newest restorable backup."},
    "failed_check.title": {"fr": "❌ {site} : sauvegarde restaurable, mais NON conforme",
                           "en": "❌ {site}: backup restorable, but NOT compliant"},
    "failed_check.means": {"fr": "Vos données peuvent être récupérées, mais votre prestataire a demandé que ce point "
                                 "bloque la vérification : il doit être réglé.",
                           "en": "Your data could be recovered, but your provider asked for this point to fail the "
                                 "check: it must be fixed."},
    "recovered.title": {"fr": "✅ {site} : sauvegarde de nouveau restaurable", "en": "✅ {site}: backup restorable again"},
    "recovered.happened": {"fr": "Le test de restauration du {at} a réussi : la sauvegarde a été restaurée et "
                                 "vérifiée.",
                           "en": "The restore drill of {at} passed: the backup was restored and verified."},
    "nothing": {"fr": "Rien, tout est rentré dans l'ordre.", "en": "Nothing, all is well again."},
    "slow.title": {"fr": "⚠️ {site} : restauration plus lente que l'objectif",
                   "en": "⚠️ {site}: restore slower than its target"},
    "slow.happened": {"fr": "Le test de restauration du {at} a pris {rto} ; l'objectif est de {target} au plus.",
                      "en": "The restore drill of {at} took {rto}; the target is at most {target}."},
    "slow.means": {"fr": "Vos données peuvent être récupérées, mais une panne vous priverait de votre logiciel plus "
                         "longtemps que prévu.",
                   "en": "Your data could be recovered, but a failure would keep you from your software longer "
                         "than planned."},
    "slow.todo": {"fr": "Prévenez {contact}, qui revoit l'objectif ou les moyens de restauration.",
                  "en": "Tell {contact}, who reviews the target or the restore resources."},
    "attention.title": {"fr": "⚠️ {site} : sauvegarde restaurable, à surveiller",
                        "en": "⚠️ {site}: backup restorable, but needs attention"},
    "attention.happened": {"fr": "Le test de restauration du {at} a restauré et vérifié la sauvegarde, mais a "
                                 "relevé un point à surveiller. {meaning}",
                           "en": "The restore drill of {at} restored and verified the backup, but found a point that "
                                 "needs attention. {meaning}"},
    "attention.todo": {"fr": "Prévenez {contact}, qui examine le détail ci-dessous.",
                       "en": "Tell {contact}, who looks into the details below."},
    "neglect.title": {"fr": "⚠️ {site} : aucune restauration réussie depuis {days} jours",
                      "en": "⚠️ {site}: no successful restore for {days} days"},
    "neglect.happened": {"fr": "Aucun test de restauration n'a réussi depuis le {since}.",
                         "en": "No restore drill has passed since {since}."},
    "neglect.means": {"fr": "Rien ne prouve que vos données pourraient être récupérées aujourd'hui.",
                      "en": "Nothing proves that your data could be recovered today."},
    "neglect.technical": {"fr": "Le dernier exercice réussi date du {since}.", "en": "The last passing drill was at {since}."},
    "lost.title": {"fr": "⚠️ {site} : un test de restauration s'est perdu", "en": "⚠️ {site}: a drill was lost"},
    "lost.happened": {"fr": "Un test de restauration demandé il y a {hours} h n'a jamais rendu de résultat.",
                      "en": "A restore drill asked for {hours} h ago never produced a result."},
    "lost.means": {"fr": "Le problème est de notre côté, pas dans votre sauvegarde, mais ce test ne prouve rien.",
                   "en": "The problem is on our side, not in your backup, but this drill proves nothing."},
    "lost.technical": {"fr": "L'exercice {drill_id} n'a produit aucun rapport concluant.",
                       "en": "Drill {drill_id} never produced a concluding report."},
}


def say(key: str, audience: Audience, **values) -> str:
    return TEXT[key][audience.language].format(**values)


def at(moment: str, audience: Audience) -> str:
    """"02/12/2026 à 03:12 UTC" / "2026-12-02 at 03:12 UTC" (reports' times are UTC)."""
    moment = datetime.fromisoformat(moment)
    day = f"{moment:%d/%m/%Y}" if audience.language == "fr" else f"{moment:%Y-%m-%d}"
    return say("moment", audience, day=day, time=f"{moment:%H:%M}")


def message(audience: Audience, title: str, happened: str, means: str, todo: str, technical: list[str],
            code: str) -> tuple[str, str]:
    lines = [say("happened", audience) + happened, say("means", audience) + means, say("todo", audience) + todo]
    if audience.link:
        lines.append(say("page", audience) + audience.link)
    return title, "\n".join([*lines, "", say("technician", audience), *technical, f"code: {code}"])


def drill_lines(audience: Audience, drill_id: str, text: str, hint: str | None) -> list[str]:
    lines = [say("drill", audience, drill_id=drill_id, message=text)]
    return lines + [say("hint", audience) + hint] if hint else lines


def red(site, report: dict, restorable: dict | None, audience: Audience) -> tuple[str, str]:
    """A drill that failed: not restorable, or restorable but failing a check the site fails on."""
    technical = drill_lines(audience, report["drill_id"], report["message"], report["hint"])
    when = at(report["started_at"], audience)
    if str(report["reason"]).startswith(reasons.ATTENTION):
        return message(audience, say("failed_check.title", audience, site=site.name),
                       say("attention.happened", audience, at=when, meaning=site_words.meaning(report["reason"],
                                                                                              audience.language)),
                       say("failed_check.means", audience), say("call", audience, contact=audience.contact),
                       technical, report["reason"])
    known = say("red.known", audience, backup=printable(restorable["backup_name"]),
                taken=at(restorable["backup_taken_at"] or restorable["started_at"], audience)) \
        if restorable else say("red.unknown", audience)
    return message(audience, say("red.title", audience, site=site.name),
                   say("red.happened", audience, at=when, meaning=site_words.meaning(report["reason"],
                                                                                     audience.language)),
                   f"{site_words.CONSEQUENCE['red'][audience.language]} {known}",
                   say("call", audience, contact=audience.contact),
                   [*technical, say("red.finder", audience, site=site.id)], report["reason"])


def recovered(site, report: dict, audience: Audience) -> tuple[str, str]:
    return message(audience, say("recovered.title", audience, site=site.name),
                   say("recovered.happened", audience, at=at(report["started_at"], audience)),
                   site_words.CONSEQUENCE["green"][audience.language], say("nothing", audience),
                   [say("passed", audience, drill_id=report["drill_id"])], reasons.ALERT_RECOVERED)


def slow(site, report: dict, audience: Audience) -> tuple[str, str]:
    language = audience.language
    return message(audience, say("slow.title", audience, site=site.name),
                   say("slow.happened", audience, at=at(report["started_at"], audience),
                       rto=site_words.duration(report["rto_seconds"], language),
                       target=site_words.duration(site.targets.rto, language)),
                   say("slow.means", audience), say("slow.todo", audience, contact=audience.contact),
                   drill_lines(audience, report["drill_id"], f"RTO {report['rto_seconds']:.0f} s > {site.targets.rto} s",
                               reasons.REASONS[reasons.RTO_TARGET].hint), reasons.RTO_TARGET)


def attention(site, report: dict, findings: list[dict], audience: Audience) -> tuple[str, str]:
    """Warnings of a passing drill (history, hosting) that were not alerted yet."""
    technical = [line for finding in findings
                 for line in drill_lines(audience, report["drill_id"], finding["message"], finding["hint"])]
    return message(audience, say("attention.title", audience, site=site.name),
                   say("attention.happened", audience, at=at(report["started_at"], audience),
                       meaning=site_words.meaning(findings[0]["code"], audience.language)),
                   site_words.CONSEQUENCE["green"][audience.language],
                   say("attention.todo", audience, contact=audience.contact),
                   technical, ",".join(finding["code"] for finding in findings))


def neglected(site, days: int, since: datetime, audience: Audience) -> tuple[str, str]:
    return message(audience, say("neglect.title", audience, site=site.name, days=days),
                   say("neglect.happened", audience, since=at(since.isoformat(), audience)),
                   say("neglect.means", audience), say("call", audience, contact=audience.contact),
                   [say("neglect.technical", audience, since=since.isoformat())], reasons.PROOF_OLD)


def lost(site, drill_id: str, hours: float, audience: Audience) -> tuple[str, str]:
    return message(audience, say("lost.title", audience, site=site.name),
                   say("lost.happened", audience, hours=f"{hours:.0f}"), say("lost.means", audience),
                   say("call", audience, contact=audience.contact),
                   [say("lost.technical", audience, drill_id=drill_id),
                    say("hint", audience) + reasons.REASONS[reasons.ALERT_DRILL_LOST].hint.replace("SITE", site.id)],
                   reasons.ALERT_DRILL_LOST)

