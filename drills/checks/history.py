"""History-aware checks: a drill that restored the backup, compared with the site's earlier ones.

A backup can restore perfectly while the data inside was destroyed at the source (a bugged
update, a virus, a wrong purge): its manifest agrees with its dump, both taken of the damaged
database. Each passing drill is therefore compared with what came before, read from the index
(drills.reports.index: the baseline, what the last passing drill restored, and the summaries),
never by re-reading reports:
- history.rows_dropped: a table of at least `min_rows` rows lost more than `max_drop` percent;
- history.schema_changed: tables or columns appeared, vanished or changed type;
- history.rto_regression: the restore took longer than the mean + 3 standard deviations of the
  last RTO_WINDOW passing drills (RTO_MINIMUM at least), and 10% and a minute more than their mean.
Rows and schema are compared only with a backup taken before this one, so drilling an older
backup (the recovery-point finder) never reads as a loss; the nightly drill after it compares
with that older backup. A drill of a requested backup is never judged on its RTO. A loss is
found by the drill that first sees it (alerted, amber or red that night); the drills after
compare with the new state (drills.reports.index.advance_baseline). Names read from the restored
database reach messages printable only (drills.redaction.printable). Each is a warning, the site amber,
unless the site's checks.history.fail lists it.
"""

import statistics
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from drills.catalog.model import HISTORY_CHECKS
from drills.checks.findings import FAIL, WARN, Finding, coded
from drills.redaction import printable
from drills.reports import index
from drills.reports.report import routine
from drills import reasons

RTO_WINDOW, RTO_MINIMUM = 10, 5
# A restore less than 10%, or less than a minute, above the mean is never called a regression: the
# noise of a busy worker, not a restore that would be late on disaster day.
RTO_MARGIN, RTO_FLOOR_SECONDS = 1.10, 60
MAX_NAMED = 20  # tables named one finding each; beyond, one finding says how many more


@dataclass(frozen=True)
class Past:
    baseline: dict | None  # drills.reports.index.read_baseline
    rtos: list[float]  # the RTOs of the last routine drills that restored, oldest first

    @classmethod
    def read(cls, site_dir: Path) -> "Past":
        """What the site's earlier drills proved; nothing (and the drill goes on) if the derived
        files cannot be read."""
        try:
            restored = [entry["rto_seconds"] for entry in routine(index.read_newest(site_dir))
                        if index.restored(entry) and isinstance(entry.get("rto_seconds"), (int, float))]
            return cls(index.read_baseline(site_dir), restored[-RTO_WINDOW:])
        except OSError:
            return cls(None, [])


def findings(settings, past: Past, tables: dict | None, taken: datetime | None,
             rto_seconds: float | None) -> list[Finding]:
    """The history findings of a drill that restored and verified its backup (`rto_seconds`
    None: not judged on its RTO)."""
    status = {name: FAIL if name in settings.fail else WARN for name in HISTORY_CHECKS}
    found = []
    before = past.baseline
    if before and tables is not None and taken and index.time_of(before["backup_taken_at"]) < taken:
        found += capped(rows_dropped(before, tables, settings, status["rows_dropped"]))
        found += capped(schema_changed(before, tables, status["schema_changed"]))
    if rto_seconds is not None:
        found += rto_regression(past.rtos, rto_seconds, status["rto_regression"])
    return found


def since(before: dict) -> str:
    return f"the backup of {before['backup_taken_at'][:16].replace('T', ' ')} UTC (drill {before['drill_id']})"


def capped(found: list[Finding]) -> list[Finding]:
    """At most MAX_NAMED findings of one check, the last saying how many more tables it found."""
    if len(found) <= MAX_NAMED:
        return found
    rest = found[MAX_NAMED - 1:]
    return found[:MAX_NAMED - 1] + [Finding(rest[0].check, f"{len(rest)} more tables", rest[0].status,
                                            message=f"and {len(rest)} more tables: " + ", ".join(
                                                f.subject for f in rest[:50]) + (", …" if len(rest) > 50 else ""),
                                            code=rest[0].code, hint=rest[0].hint)]


def rows_dropped(before: dict, tables: dict, settings, status: str) -> list[Finding]:
    """Tables that lost more than max_drop of their rows, a table that vanished included (-100%)."""
    found = []
    for name, entry in sorted(before["tables"].items()):
        was, now = rows_of(entry), rows_of(tables.get(name)) or 0
        if was is None or was < settings.min_rows:
            continue
        lost = (was - now) * 100 / was
        if lost > settings.max_drop:
            gone = "" if name in tables else " (the table vanished)"
            found.append(coded(reasons.HISTORY_ROWS_DROPPED, name, status, expected=was, actual=now,
                               message=f"{printable(name)} went from {was:,} to {now:,} rows (-{lost:.0f}%, more "
                                       f"than {settings.max_drop}%){gone} since {since(before)}"))
    return found


def rows_of(entry) -> int | None:
    rows = entry.get("rows") if isinstance(entry, dict) else None
    return rows if isinstance(rows, int) and not isinstance(rows, bool) else None


def schema_changed(before: dict, tables: dict, status: str) -> list[Finding]:
    """One finding per table that appeared, vanished, or whose columns changed (when both drills
    read its columns)."""
    was = {name: columns_of(entry) for name, entry in before["tables"].items()}
    now = {name: columns_of(entry) for name, entry in tables.items()}
    changes = {name: "the table vanished" for name in sorted(set(was) - set(now))}
    changes |= {name: "the table appeared" for name in sorted(set(now) - set(was))}
    for name in sorted(set(was) & set(now)):
        if was[name] and now[name] and was[name] != now[name]:
            changes[name] = column_changes(was[name], now[name])
    return [coded(reasons.HISTORY_SCHEMA_CHANGED, name, status, expected=describe(was.get(name)),
                  actual=describe(now.get(name)), message=f"{printable(name)}: {change} since {since(before)}")
            for name, change in sorted(changes.items())]


def columns_of(entry) -> dict[str, str]:
    columns = entry.get("columns") if isinstance(entry, dict) else None
    return {printable(column[0]): printable(column[1]) for column in columns or []
            if isinstance(column, list) and len(column) == 2}


def column_changes(was: dict[str, str], now: dict[str, str]) -> str:
    said = [f"column {name} ({was[name]}) vanished" for name in was if name not in now]
    said += [f"column {name} ({now[name]}) appeared" for name in now if name not in was]
    said += [f"column {name} changed type from {was[name]} to {now[name]}" for name in was
             if name in now and was[name] != now[name]]
    return "; ".join(said)


def describe(columns: dict[str, str] | None) -> str | None:
    return None if columns is None else printable(", ".join(f"{name} {kind}" for name, kind in columns.items()), 2000)


def rto_regression(rtos: list[float], rto_seconds: float, status: str) -> list[Finding]:
    if len(rtos) < RTO_MINIMUM:
        return []
    mean, deviation = statistics.mean(rtos), statistics.stdev(rtos)
    limit = max(mean + 3 * deviation, mean * RTO_MARGIN, mean + RTO_FLOOR_SECONDS)
    if rto_seconds <= limit:
        return []
    return [coded(reasons.HISTORY_RTO_REGRESSION, "rto", status, expected=f"<= {limit:.1f} s",
                  actual=round(rto_seconds, 1),
                  message=f"the restore took {rto_seconds:.1f} s; the last {len(rtos)} drills that restored took "
                          f"{mean:.1f} s on average (standard deviation {deviation:.1f} s)")]
