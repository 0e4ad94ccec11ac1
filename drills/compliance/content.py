"""What a compliance report says, as plain data both renderers (HTML, PDF) lay out: the figures
of the signed JSON document in words, in one language."""

from dataclasses import dataclass
from datetime import datetime

from drills.compliance.texts import REQUIREMENTS, text
from drills.hosting.words import line

RED_COLUMNS = ("red.from", "red.until", "red.duration", "red.failed_drill", "red.passed_drill")
ANNEX_COLUMNS = ("annex.site", "annex.sequence", "annex.drill", "annex.sha256")


@dataclass
class Layout:
    lang: str
    title: str
    intro: list[str]
    totals: list[tuple[str, str]]
    sites: list[tuple[str, list[tuple[str, str]], list[tuple[str, ...]]]]  # (heading, pairs, red period rows)
    requirements: list[tuple[str, str]]  # (name, quote or paraphrase)
    annex: list[tuple[str, str, str, str]]  # (site, sequence, drill id, sha256)
    verification: list[str]
    generated: str
    labels: dict


def decimal(value: float, lang: str, digits: int = 1) -> str:
    shown = f"{value:.{digits}f}"
    return shown.replace(".", ",") if lang == "fr" else shown


def rate(value: float | None, lang: str) -> str:
    """A success rate as a percentage: 92,9 % in French, 92.9% in English; - without drills."""
    if value is None:
        return "-"
    return decimal(value * 100, lang) + ("\u00a0%" if lang == "fr" else "%")


def duration(seconds: float | None, lang: str) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return decimal(seconds / 3600, lang) + " h"
    return decimal(seconds / 86400, lang) + (" j" if lang == "fr" else " d")


def listed(drill_ids: list[str], t) -> str:
    return ", ".join(drill_ids) if drill_ids else t("none")


def site_pairs(site: dict, t, lang: str) -> list[tuple[str, str]]:
    routine = len(site["passed"]) + len(site["failed"])
    rto, rpo, restorable = site["rto"], site["rpo"], site["newest_restorable_point"]
    return [
        (t("drills"), str(site["drills"])),
        (t("success_rate"), rate(site["success_rate"], lang)),
        (t("passed_failed"), f"{len(site['passed'])} / {len(site['failed'])}"),
        (t("errors"), f"{len(site['errors'])}: {listed(site['errors'], t)}"),
        (t("chosen"), f"{len(site['chosen'])}: {listed(site['chosen'], t)}"),
        (t("rto", target=duration(site["targets"]["rto_seconds"], lang)),
         f"{duration(rto['mean_seconds'], lang)} / {duration(rto['max_seconds'], lang)}"),
        (t("rto_over"), t("of", count=len(rto["over_target"]), total=rto["measured"])
         + (": " + listed(rto["over_target"], t) if rto["over_target"] else "")),
        (t("rpo", target=duration(site["targets"]["rpo_seconds"], lang)), duration(rpo["max_seconds"], lang)),
        (t("rpo_over"), t("of", count=len(rpo["over_target"]), total=rpo["measured"])
         + (": " + listed(rpo["over_target"], t) if rpo["over_target"] else "")),
        (t("red_total"), duration(site["red_seconds"], lang)),
        (t("restorable"), t("restorable.value", name=restorable["backup_name"], taken=restorable["taken_at"],
                            drill=restorable["drill_id"]) if restorable else t("none")),
    ] + hosting_pairs(site, t, lang) \
      + [(t(key), listed(site[key], t)) for key in ("unreadable", "unverified") if site[key]] \
      + ([] if routine else [(t("without_drill"), site["site"])])


def hosting_pairs(site: dict, t, lang: str) -> list[tuple[str, str]]:
    """Where the data was found (by the period's newest drill that checked it), and the drills with a
    hosting finding; reports before hosting existed have neither."""
    hosting, found = site.get("hosting"), site.get("hosting_findings") or []
    pairs = [(t("hosting", drill=hosting["drill_id"] if hosting else "-"),
              " / ".join(line(location, lang) for location in hosting["locations"]) if hosting
              else t("hosting.undeclared"))]
    return pairs + ([(t("hosting_findings"), f"{len(found)}: {listed(found, t)}")] if found else [])


def when(timestamp: str) -> str:
    """A moment in UTC to the minute: 2026-11-08 02:00."""
    return datetime.fromisoformat(timestamp).strftime("%Y-%m-%d %H:%M")


def red_rows(site: dict, t, lang: str) -> list[tuple[str, ...]]:
    return [(when(period["from"]) + (t("red.before") if period["began_before_period"] else ""),
             t("red.still") if period["still_red"] else when(period["until"]), duration(period["seconds"], lang),
             period["from_drill"], period["until_drill"] or "-") for period in site["red_periods"]]


def build(document: dict, lang: str, name: str, digest: str, signed: bool) -> Layout:
    """The layout of the signed JSON `document` (file `name`, SHA-256 `digest`) in `lang`;
    `signed`: its files get a detached signature (not the dashboard's copies)."""
    t = lambda key, **values: text(lang, key, **values)  # noqa: E731
    period, totals = document["period"], document["totals"]
    intro = [t("intro", tenant=document["tenant"], start=when(period["start"]), until=when(period["until"]))]
    if not period["complete"]:
        intro.append(t("incomplete", until=when(period["until"])))
    return Layout(
        lang=lang,
        title=t("title", tenant=document["tenant"], month=document["month"]),
        intro=intro,
        totals=[(t("sites"), str(totals["sites"])), (t("drills"), str(totals["drills"])),
                (t("success_rate"), rate(totals["success_rate"], lang)),
                (t("passed_failed"), f"{totals['passed']} / {totals['failed']}"), (t("errors"), str(totals["errors"])),
                (t("red_total"), duration(totals["red_seconds"], lang)),
                (t("red_at_end"), ", ".join(totals["sites_red_at_period_end"]) or t("none")),
                (t("without_drill"), ", ".join(totals["sites_without_routine_drill"]) or t("none"))],
        sites=[(f"{site['name']} ({site['site']})", site_pairs(site, t, lang), red_rows(site, t, lang))
               for site in document["sites"]],
        requirements=[(requirement["name"][lang], requirement["text"][lang]) for requirement in REQUIREMENTS],
        annex=[(site["site"], str(report["sequence"]), report["drill_id"], report["sha256"])
               for site in document["sites"] for report in site["reports"]],
        verification=[t("verify.figures", name=name, digest=digest),
                      t("verify.openssl") if signed else t("verify.unsigned", tenant=document["tenant"],
                                                                           month=document["month"]),
                      t("verify.reports")],
        generated=t("generated", version=document["restore_drill"], now=document["generated_at"]),
        labels={key: t(key) for key in (*RED_COLUMNS, *ANNEX_COLUMNS, "section.totals", "section.requirements",
                                        "section.annex", "section.verify", "red_periods")},
    )
