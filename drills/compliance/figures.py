"""The figures of a tenant's compliance report, a pure function of the sites, their drill
summaries (drills.reports.index), the month and the present moment (docs/compliance-report.md).

Every figure names the drills it comes from (drill ids), and every site lists the reports it
cites: a reader finds each figure's evidence among the signed reports.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timezone

from drills.errors import ConfigError
from drills.finder import newest_restorable
from drills.reports import report
from drills import reasons

MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
ROUTINE_OUTCOMES = ("pass", "fail")
HOSTING = "hosting."  # the family of the hosting checks' reason codes (drills.hosting.check)


@dataclass(frozen=True)
class Period:
    """The calendar month in UTC, [start, end); `until` = end, or the present for the current month."""

    month: str
    start: datetime
    end: datetime
    until: datetime

    @property
    def complete(self) -> bool:
        return self.until == self.end


def period_of(month: str, now: datetime) -> Period:
    """The period of `month` (YYYY-MM); ConfigError for another form or a month not begun."""
    match = MONTH.fullmatch(month or "")
    if not match:
        raise ConfigError(f"--month expects YYYY-MM, such as 2026-11, got {month!r}", code=reasons.CONFIG_USAGE)
    year, number = int(match[1]), int(match[2])
    start = datetime(year, number, 1, tzinfo=timezone.utc)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=timezone.utc)
    if start > now:
        raise ConfigError(f"{month} has not begun: there is nothing to report yet", code=reasons.CONFIG_USAGE)
    return Period(month, start, end, min(end, now))


def moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def is_routine(summary: dict) -> bool:
    """A scheduled or asked-for drill of the newest backup: not one of a backup an operator or the
    recovery-point finder chose (`chosen`), which says nothing of the routine."""
    return report.is_routine(summary) and summary["outcome"] in ROUTINE_OUTCOMES


def ids(summaries: list[dict]) -> list[str]:
    return [summary["drill_id"] for summary in summaries]


def site_figures(site, summaries: list[dict], period: Period, excluded: frozenset[int] = frozenset()) -> dict:
    """The figures of one site (a catalog Site) over `period`, from its summaries oldest first;
    summaries whose sequence is in `excluded` (reports that do not verify) are left out, named."""
    kept = [s for s in summaries if s.get("sequence") not in excluded and s.get("started_at")
            and moment(s["started_at"]) < period.until]
    within = [s for s in kept if moment(s["started_at"]) >= period.start]
    routine = [s for s in within if is_routine(s)]
    passed = [s for s in routine if s["outcome"] == "pass"]
    failed = [s for s in routine if s["outcome"] == "fail"]
    timed = [s for s in passed if s.get("rto_seconds") is not None]
    aged = [s for s in routine if s.get("backup_age_seconds") is not None]
    red = red_periods([s for s in kept if is_routine(s)], period)
    restorable = newest_restorable_point(kept, period)
    figures = {
        "site": site.id, "name": site.name,
        "targets": {"rto_seconds": site.targets.rto, "rpo_seconds": site.targets.rpo},
        "drills": len(within),
        "passed": ids(passed), "failed": ids(failed),
        "success_rate": round(len(passed) / len(routine), 4) if routine else None,
        "errors": ids([s for s in within if s["outcome"] == "error" and report.is_routine(s)]),
        "chosen": ids([s for s in within if not report.is_routine(s)]),
        "unreadable": ids([s for s in within if s["outcome"] not in ("pass", "fail", "error")]),
        "unverified": ids([s for s in summaries if s.get("sequence") in excluded]),
        "rto": {"measured": len(timed),
                "mean_seconds": round(sum(s["rto_seconds"] for s in timed) / len(timed), 3) if timed else None,
                "max_seconds": max((s["rto_seconds"] for s in timed), default=None),
                "over_target": ids([s for s in timed
                                    if s["rto_seconds"] > target(s, "rto_target", site.targets.rto)])},
        "rpo": {"measured": len(aged),
                "max_seconds": max((s["backup_age_seconds"] for s in aged), default=None),
                "over_target": ids([s for s in aged
                                    if s["backup_age_seconds"] > target(s, "rpo_target", site.targets.rpo)])},
        "red_periods": red,
        "red_seconds": round(sum(r["seconds"] for r in red), 3),
        "newest_restorable_point": restorable,
        **hosting_figures(within),
    }
    cited = {r[key] for r in red for key in ("from_drill", "until_drill") if r[key]}
    cited |= set(ids(within)) | ({restorable["drill_id"]} if restorable else set())
    figures["reports"] = [{"sequence": s["sequence"], "file": s["file"], "drill_id": s["drill_id"]}
                          for s in kept if s["drill_id"] in cited]
    return figures


def hosting_figures(within: list[dict]) -> dict:
    """Where the data was found by the period's newest drill that checked it (`hosting`: its drill id
    and its locations, drills.reports.report.hosting_summary), and the drills of the period with a
    hosting finding (`hosting_findings`: a warning, or the reason of a failure)."""
    checked = [s for s in within if s.get("hosting")]
    return {"hosting": {"drill_id": checked[-1]["drill_id"], "locations": checked[-1]["hosting"]} if checked else None,
            "hosting_findings": ids([s for s in within if any(str(code).startswith(HOSTING) for code in
                                                              [*(s.get("attention") or ()), s.get("reason")])])}


def target(summary: dict, key: str, catalog_value: int) -> int:
    """The target the drill was held to (signed in its report), else the catalog's."""
    return summary.get(key) or catalog_value


def red_periods(routine: list[dict], period: Period) -> list[dict]:
    """Each stretch from a routine drill that failed to the next one that passed, clipped to the
    period; `still_red` when no pass came before the period's end."""
    stretches, opened = [], None
    for summary in routine:
        if summary["outcome"] == "fail" and opened is None:
            opened = summary
        elif summary["outcome"] == "pass" and opened is not None:
            stretches.append((opened, summary))
            opened = None
    if opened is not None:
        stretches.append((opened, None))
    found = []
    for first, closing in stretches:
        began, ended = moment(first["started_at"]), moment(closing["started_at"]) if closing else period.until
        if ended <= period.start or began >= period.until:
            continue
        start, end = max(began, period.start), min(ended, period.until)
        found.append({"from_drill": first["drill_id"], "from": start.isoformat(),
                      "began_before_period": began < period.start,
                      "until_drill": closing["drill_id"] if closing else None, "until": end.isoformat(),
                      "still_red": closing is None, "seconds": round((end - start).total_seconds(), 3)})
    return found


def newest_restorable_point(summaries: list[dict], period: Period) -> dict | None:
    """The newest backup a passing drill restored with its data whole (chosen drills too) before
    the period's end: the finder's and the alerts' rule (drills.finder.newest_restorable)."""
    newest = newest_restorable(summaries)
    if newest is None:
        return None
    taken = moment(newest["backup_taken_at"])
    return {"drill_id": newest["drill_id"], "backup_name": newest.get("backup_name"),
            "taken_at": newest["backup_taken_at"],
            "age_seconds_at_period_end": round((period.until - taken).total_seconds(), 3)}


def totals(sites: list[dict]) -> dict:
    """The tenant's figures: sums over its sites."""
    passed = sum(len(site["passed"]) for site in sites)
    routine = passed + sum(len(site["failed"]) for site in sites)
    return {"sites": len(sites), "drills": sum(site["drills"] for site in sites), "passed": passed,
            "failed": routine - passed, "success_rate": round(passed / routine, 4) if routine else None,
            "errors": sum(len(site["errors"]) for site in sites),
            "sites_without_routine_drill": [site["site"] for site in sites if site["success_rate"] is None],
            "sites_red_at_period_end": [site["site"] for site in sites
                                        if site["red_periods"] and site["red_periods"][-1]["still_red"]],
            "red_seconds": round(sum(site["red_seconds"] for site in sites), 3)}
