"""`drill scheduler`: enqueues each site's drills from its cron schedule.

- Time zone a setting (Europe/Paris by default): "0 2 * * *" means 2 a.m. in Paris.
- Sites that share a schedule are spread by a deterministic jitter (a hash of the site id,
  up to DRILL_JITTER_SECONDS), the same on every replica and every restart.
- After downtime, a site whose schedule fired several times is drilled once, not N times:
  only the latest missed run is due.
- Several replicas may run: each due run is claimed with SET NX on a key naming the site and
  the run's time, so exactly one replica enqueues it. The last tick's time is shared in
  Redis, so a restarted replica knows what it missed.
- The catalog is read again when its file changes.
- Once an hour, by one replica: the summary index is compacted, and a worker (which holds the
  signing key; the scheduler does not) is asked to anchor the audit journal.
"""

import hashlib
import logging
import time
from functools import lru_cache
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from croniter import croniter

from drills.catalog import CatalogFile
from drills.reports import compaction
from drills.reports.report import new_drill_id

CLAIM_PREFIX = "restore-drill:schedule:"
LAST_TICK_KEY = "restore-drill:scheduler:last-tick"
HOURLY_PREFIX = "restore-drill:scheduler:"  # + job + ":" + hour: claimed by the replica that runs it
CLAIM_TTL_SECONDS = 14 * 86400
log = logging.getLogger("restore_drill.scheduler")


def jitter(site_id: str, window_seconds: int) -> timedelta:
    if window_seconds <= 0:
        return timedelta(0)
    digest = hashlib.sha256(site_id.encode()).digest()
    return timedelta(seconds=int.from_bytes(digest[:8], "big") % window_seconds)


@lru_cache(maxsize=1024)
def parsed(schedule: str, zone: ZoneInfo) -> croniter:
    """One parsed expression per distinct schedule: thousands of sites share a few."""
    return croniter(schedule, datetime.now(zone))


def latest_due(schedule: str, offset: timedelta, after: datetime, until: datetime, zone: ZoneInfo) -> datetime | None:
    """The latest run of `schedule` (shifted by `offset`) in (after, until], or None."""
    runs = parsed(schedule, zone)
    # get_prev excludes its start: start a second later so a run at `until` itself counts.
    runs.set_current((until - offset + timedelta(seconds=1)).astimezone(zone), force=True)
    latest = runs.get_prev(datetime) + offset
    if latest.tzinfo is None:
        latest = latest.replace(tzinfo=zone)
    return latest if latest > after else None


def next_run(schedule: str, offset: timedelta, after: datetime, zone: ZoneInfo) -> datetime:
    """The first run of `schedule` (shifted by `offset`) strictly after `after`."""
    runs = parsed(schedule, zone)
    runs.set_current((after - offset).astimezone(zone), force=True)
    upcoming = runs.get_next(datetime) + offset
    return upcoming if upcoming.tzinfo else upcoming.replace(tzinfo=zone)


def due_runs(sites, after: datetime, until: datetime, zone: ZoneInfo, jitter_seconds: int) -> list[tuple]:
    """(site, run time) for every site with a run due in (after, until]: one at most per site."""
    due = []
    for site in sites:
        run = latest_due(site.schedule, jitter(site.id, jitter_seconds), after, until, zone)
        if run is not None:
            due.append((site, run))
    return due


class Scheduler:
    def __init__(self, settings, client, enqueue, clock=lambda: datetime.now(timezone.utc), check_neglect=None,
                 report_lost=None, anchor=None):
        self.settings, self.client, self.enqueue, self.clock = settings, client, enqueue, clock
        self.check_neglect, self.report_lost, self.anchor = check_neglect, report_lost, anchor
        self.zone = ZoneInfo(settings.timezone)
        self.catalog_file, self.catalog = CatalogFile(settings.catalog), None
        self.upcoming: dict[str, datetime] = {}  # site id -> its next run: a quiet tick computes no cron

    def load(self):
        """The catalog, read again when its file changed (remembered next runs are then dropped)."""
        catalog = self.catalog_file.current()
        if catalog is not self.catalog:
            self.catalog, self.upcoming = catalog, {}
            log.info("catalog loaded", extra={"sites": len(catalog.sites)})
        return catalog

    def tick(self) -> list[tuple[str, str]]:
        """Enqueue the runs due since the last tick (of any replica); (site id, drill id) enqueued."""
        catalog, now = self.load(), self.clock()
        stored = self.client.get(LAST_TICK_KEY)
        after = datetime.fromisoformat(stored.decode()) if stored else now - timedelta(seconds=self.settings.tick_seconds)
        enqueued = []
        for site, run in self.due(catalog.sites, after, now):
            claim = f"{CLAIM_PREFIX}{site.id}:{run.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}"
            if self.client.set(claim, "1", nx=True, ex=CLAIM_TTL_SECONDS):
                drill_id = new_drill_id(now)
                self.enqueue(site, drill_id)
                enqueued.append((site.id, drill_id))
                log.info("drill enqueued", extra={"site": site.id, "drill_id": drill_id, "run": run.isoformat()})
        self.advance(now)
        if self.check_neglect:
            self.check_neglect(catalog, self.client, now)
        if self.report_lost:
            self.report_lost(catalog, self.client, now, self.settings.lost_after_seconds)
        self.compact_hourly(catalog, now)
        self.anchor_hourly(now)
        return enqueued

    def compact_hourly(self, catalog, now: datetime) -> bool:
        """Snapshot the sites' indexes for fleet-wide queries (hourly)."""
        return self.hourly("compacted", now, lambda: log.info(
            "index compacted", extra={"summaries": compaction.compact(catalog.evidence)}))

    def anchor_hourly(self, now: datetime) -> bool:
        """Ask a worker to sign the audit journal's head (hourly): the events between drills are
        anchored within the hour."""
        return self.anchor is not None and self.hourly("anchored", now, self.anchor)

    def hourly(self, job: str, now: datetime, work) -> bool:
        """Run `work` once in `now`'s hour, by the one replica that claims it; whether this one did."""
        if not self.client.set(f"{HOURLY_PREFIX}{job}:{now:%Y%m%dT%H}", "1", nx=True, ex=2 * 3600):
            return False
        work()
        return True

    def due(self, sites, after: datetime, now: datetime) -> list[tuple]:
        """due_runs(), computing cron only for the sites whose remembered next run has come."""
        waiting = []
        for site in sites:
            offset = jitter(site.id, self.settings.jitter_seconds)
            upcoming = self.upcoming.get(site.id)
            if upcoming is None or upcoming <= after:
                upcoming = next_run(site.schedule, offset, after, self.zone)
            self.upcoming[site.id] = upcoming if upcoming > now else next_run(site.schedule, offset, now, self.zone)
            if upcoming <= now:
                waiting.append(site)
        return due_runs(waiting, after, now, self.zone, self.settings.jitter_seconds)

    def advance(self, now: datetime) -> None:
        """Move the shared last tick forward, never back (replicas' clocks may differ a little)."""
        stored = self.client.get(LAST_TICK_KEY)
        if not stored or datetime.fromisoformat(stored.decode()) < now:
            self.client.set(LAST_TICK_KEY, now.isoformat())

    def run_forever(self, stop) -> None:
        while not stop.is_set():
            started = time.monotonic()
            try:
                self.tick()
            except Exception:  # Redis restarting, a catalog being edited: log, then try at the next tick
                log.exception("scheduler tick failed")
            stop.wait(max(0.0, self.settings.tick_seconds - (time.monotonic() - started)))
