"""The drill actors: one message = one drill (site id, drill id), running the same pipeline
as `drill run`.

- A drill whose outcome is `error` (our side failed) is retried with backoff, up to
  DRILL_MAX_RETRIES more attempts (counted per drill across workers: a busy site's waits are
  not attempts); a `fail` (the backup is bad) is reported and never retried.
- A site whose lease is held by another drill is tried again when the lease can expire.
- A worker shutting down stops its drills through their watchdogs, wherever they are blocked
  (their containers removed, the report says `error.interrupted`) and re-queues them ahead of
  scheduled drills. Dramatiq's own shutdown notification is off: it raises an exception at any
  point of a thread, teardown and the report's writing included.
- "Drill now" messages go to their own queue, whose actor has priority over scheduled ones.
- Each attempt has its own drill id (the first keeps the enqueued one; the others say
  `attempt_of`), which is also the fencing token of the site's lease.
- Every enqueued drill is written down (workers.pending) until a report concludes it. The broker
  delivers at least once (workers.redelivery); a delivery of a drill that already concluded is
  dropped under the site's lease, so each drill concludes once.
"""

import logging
import re
import threading
from dataclasses import dataclass

import dramatiq
import redis
from dramatiq.middleware import TimeLimitExceeded

from drills.catalog import CatalogFile
from drills.catalog.schema import SITE_ID_PATTERN
from drills import finder, reasons
from drills.errors import InfrastructureError, ReportNotStored
from drills.pipeline import run_drill
from drills.reports import anchors, keys
from drills.reports.evidence import EvidenceStore
from drills.reports.report import DRILL_ID, new_drill_id, now_utc
from drills.watchdog import INTERRUPTED, LEASE_LOST, Watchdog
from workers import alerts, metrics, pending
from workers.broker import redis_client, settings
from workers.leases import SiteLease

SCHEDULED_QUEUE, NOW_QUEUE = "drills", "drills-now"
DEFAULT_TIME_LIMIT_MS = 3 * 3600 * 1000
BUSY_RETRIES = 1000
ATTEMPTS_PREFIX = "restore-drill:attempts:"
ATTEMPTS_KEPT_SECONDS = 30 * 86400  # longer than any drill's retries
SITE_ID = re.compile(SITE_ID_PATTERN)
log = logging.getLogger("restore_drill.worker")
CATALOG = CatalogFile(settings.catalog)  # parsed once, again only when the file changes
STOPPING = threading.Event()  # set by `drill worker` on SIGTERM: interrupted drills are re-queued
RUNNING: set[Watchdog] = set()  # the watchdogs of the drills running in this process


class InfrastructureRetry(Exception):
    """Raised when a drill's attempt ended in `error` with retries left: dramatiq retries it with backoff."""


class SiteBusy(dramatiq.Retry):
    """Raised when another drill holds the site's lease: tried again once it can expire."""


@dataclass(frozen=True)
class Attempt:
    drill_id: str  # the drill enqueued
    id: str  # this attempt's own id, also its lease's fencing token
    of: str | None  # the drill this attempt retries, if it is not the first
    last: bool  # the drill's attempts are spent: an error of this one concludes it


def should_retry(retries: int, exception: Exception) -> bool:
    """Retry what is not the backup's fault: a busy site, our infrastructure, Redis away. How
    many attempts an erring drill gets is counted per drill (`next_attempt`), not here, where
    a busy site's waits count too."""
    return isinstance(exception, (SiteBusy, InfrastructureRetry, redis.RedisError)) and retries < BUSY_RETRIES


ACTOR_OPTIONS = dict(retry_when=should_retry, min_backoff=settings.min_backoff_ms,
                     max_backoff=settings.max_backoff_ms, notify_shutdown=False, time_limit=DEFAULT_TIME_LIMIT_MS)


@dramatiq.actor(queue_name=SCHEDULED_QUEUE, priority=10, **ACTOR_OPTIONS)
def scheduled_drill(site_id: str, drill_id: str) -> None:
    execute(site_id, drill_id, trigger="schedule")


@dramatiq.actor(queue_name=NOW_QUEUE, priority=0, **ACTOR_OPTIONS)
def drill_now(site_id: str, drill_id: str, backup_name: str | None = None) -> None:
    """A drill asked for now: of the site's own pick, or of the backup the source lists as
    `backup_name` (an operator's choice)."""
    execute(site_id, drill_id, trigger="now", backup_name=backup_name)


@dramatiq.actor(queue_name=NOW_QUEUE, priority=0, **ACTOR_OPTIONS)
def find_restorable(site_id: str, request_id: str, max_backups: int = finder.DEFAULT_MAX) -> None:
    """The recovery-point finder (drills.finder) run by a worker, as the dashboard asks it when a
    site is red: under the site's lease for its whole search, each of its drills stopped by a
    worker shutting down or the lease lost; its answer is signed into the evidence."""
    if not (isinstance(site_id, str) and SITE_ID.fullmatch(site_id) and isinstance(request_id, str)
            and DRILL_ID.fullmatch(request_id) and type(max_backups) is int and 1 <= max_backups <= 100):
        log.error("message refused: its fields are not a site id, a request id and a number of backups")
        return
    catalog = CATALOG.current()
    site = catalog.site(site_id)
    current: list[Watchdog] = []
    lease = SiteLease(redis_client(), site.id, request_id, settings.lease_seconds,
                      on_lost=lambda: [watchdog.fire(LEASE_LOST) for watchdog in current])
    if not lease.acquire():
        raise SiteBusy(delay=settings.lease_seconds * 1000)

    def drill(name: str):
        if lease.lost.is_set() or STOPPING.is_set():  # between two drills: the search stops, its answer says why
            code = reasons.ERROR_LEASE_LOST if lease.lost.is_set() else reasons.ERROR_INTERRUPTED
            raise InfrastructureError(code, "the recovery-point finder stopped before its next drill")
        current[:] = [Watchdog(site.engine.timeout)]
        RUNNING.add(current[0])
        try:
            return run_drill(catalog, site, drill_id=new_drill_id(now_utc()), backup_name=name, watchdog=current[0],
                             interruptions=(TimeLimitExceeded,))
        finally:
            RUNNING.discard(current[0])

    with lease:
        answer = finder.find(catalog, site, drill, now_utc, max_backups, request_id=request_id)
    log.info("recovery point found" if answer["found"] else "no recovery point found",
             extra={"site": site.id, "request_id": request_id, "backup": (answer["found"] or {}).get("backup"),
                    "tried": len(answer["tried"])})


@dramatiq.actor(queue_name=SCHEDULED_QUEUE, priority=5, max_retries=0)
def anchor_journal() -> None:
    """Sign the audit journal's head (drills.reports.anchors), asked hourly by the scheduler: the
    workers hold the signing key, the scheduler does not. A failure is logged; the next hour's
    message, or the next drill, anchors."""
    catalog = CATALOG.current()
    anchors.anchor_logged(EvidenceStore.of(catalog), keys.load_private(catalog.signing_key))


def execute(site_id: str, drill_id: str, trigger: str, backup_name: str | None = None) -> None:
    """One attempt of the drill `drill_id` asked for `site_id` (both checked: they become keys and
    paths; a backup name is only ever compared with the source's listing). The attempt has its
    own id, which is also its lease's fencing token."""
    if not (isinstance(site_id, str) and SITE_ID.fullmatch(site_id) and isinstance(drill_id, str)
            and DRILL_ID.fullmatch(drill_id) and (backup_name is None or isinstance(backup_name, str)
                                                  and 0 < len(backup_name) <= 1024)):
        log.error("message refused: its fields are not a site id, a drill id and a backup name")
        return
    catalog = CATALOG.current()
    site = catalog.site(site_id)
    if STOPPING.is_set():  # taken while the worker stops: left for the next worker, untouched
        enqueue(site, drill_id, now=True, backup_name=backup_name)
        return
    client = redis_client()
    attempt = next_attempt(client, drill_id)
    watchdog = Watchdog(site.engine.timeout)
    lease = SiteLease(client, site.id, attempt.id, settings.lease_seconds, on_lost=lambda: watchdog.fire(LEASE_LOST))
    if not lease.acquire():
        not_attempted(client, drill_id)
        log.info("site busy", extra={"site": site.id, "drill_id": drill_id, "holder": lease.holder()})
        raise SiteBusy(delay=settings.lease_seconds * 1000)
    with lease:
        if concluded(catalog, client, site.id, drill_id):  # delivered again (a reply lost, a worker thought dead)
            not_attempted(client, drill_id)
            log.warning("drill already concluded: this delivery of it is dropped",
                        extra={"site": site.id, "drill_id": drill_id})
            return
        log.info("drill started", extra={"site": site.id, "drill_id": attempt.id, "attempt_of": attempt.of,
                                         "trigger": trigger})
        run_attempt(catalog, site, attempt, watchdog, client, backup_name)


def run_attempt(catalog, site, attempt: Attempt, watchdog: Watchdog, client, backup_name: str | None = None) -> None:
    """Run one attempt under the site's lease and conclude the drill if it is its last: a pass, a
    fail, or an error with no retry left (crossed out under the lease, so that no delivery of the
    drill can start between its conclusion and the crossing out)."""
    RUNNING.add(watchdog)
    try:
        with metrics.drill_running():
            report = run_drill(catalog, site, drill_id=attempt.id, attempt_of=attempt.of,
                               interruptions=(TimeLimitExceeded,), watchdog=watchdog, backup_name=backup_name).report
    except ReportNotStored as failed:  # the verdict is still delivered; the drill runs again
        log.error("report not stored", extra={"site": site.id, "drill_id": attempt.id, "reason": failed.code,
                                              "outcome": failed.report["outcome"],
                                              "verdict": failed.report["reason"]})
        deliver_alerts(catalog, site, failed.report, client)
        retry_or_conclude(attempt, failed.message)
        return
    finally:
        RUNNING.discard(watchdog)
    metrics.record(report)
    log.info("drill finished", extra={"site": site.id, "drill_id": attempt.id, "outcome": report["outcome"],
                                      "reason": report["reason"], "rto_seconds": report["rto_seconds"]})
    deliver_alerts(catalog, site, report, client)
    if report["reason"] == reasons.ERROR_INTERRUPTED and STOPPING.is_set():
        enqueue(site, attempt.drill_id, now=True, backup_name=backup_name)
    elif report["outcome"] == "error":
        retry_or_conclude(attempt, f"{report['reason']}: {report['message']}")
    else:
        cross_out(attempt.drill_id)


def retry_or_conclude(attempt: Attempt, message: str) -> None:
    """After an attempt that ended in error: retried, or, its attempts spent, concluded by it."""
    if not attempt.last:
        raise InfrastructureRetry(message)
    log.error("drill ended in error with no retry left", extra={"drill_id": attempt.drill_id, "error": message})
    cross_out(attempt.drill_id)


def concluded(catalog, client, site_id: str, drill_id: str) -> bool:
    """Whether drill `drill_id` concluded already: crossed out in Redis, or its passing or
    failing report in the site's evidence (the crossing out may have failed while Redis was away)."""
    if pending.concluded(client, drill_id):
        return True
    return EvidenceStore(catalog.evidence).concluding_report(drill_id, site_id) is not None


def cross_out(drill_id: str) -> None:
    """The drill concluded: off the pending list. Redis away, the scheduler's sweep finds its
    report in the evidence later; the drill never runs again for that."""
    try:
        pending.conclude(redis_client(), drill_id)
    except redis.RedisError:
        log.warning("pending drill not crossed out", extra={"drill_id": drill_id})


def deliver_alerts(catalog, site, report: dict, client) -> None:
    try:
        alerts.after_drill(catalog, site, report, client)
    except redis.RedisError:  # the verdict is known: never run the drill again for an alert
        log.exception("alert state not updated", extra={"site": site.id, "drill_id": report["drill_id"]})


def not_attempted(client, drill_id: str) -> None:
    """Take back the attempt `next_attempt` counted: the site was busy, or the drill concluded."""
    client.decr(ATTEMPTS_PREFIX + drill_id)


def next_attempt(client, drill_id: str) -> Attempt:
    """The first attempt of an enqueued drill keeps the drill's id, every later one (a retry, a
    redelivery after a worker died) gets its own. Attempts are counted per drill, by any worker."""
    key = ATTEMPTS_PREFIX + drill_id
    number, _ = client.pipeline().incr(key).expire(key, ATTEMPTS_KEPT_SECONDS).execute()
    last = number > settings.max_retries
    if number == 1:
        return Attempt(drill_id, drill_id, None, last)
    return Attempt(drill_id, new_drill_id(now_utc()), drill_id, last)


def stop_running_drills() -> None:
    """Stop every drill of this process wherever it is blocked (a worker shutting down): each
    tears down and reports `error.interrupted`, and is queued again."""
    for watchdog in list(RUNNING):
        watchdog.fire(INTERRUPTED)


def enqueue(site, drill_id: str, now: bool = False, backup_name: str | None = None):
    """Send a drill of `site` (of the backup named `backup_name`, if given: a drill now); its time
    limit follows the site's restore timeout."""
    actor = drill_now if now or backup_name is not None else scheduled_drill
    pending.record(redis_client(), site.id, drill_id, now_utc())  # crossed out when it concludes
    named = (backup_name,) if backup_name is not None else ()
    return actor.send_with_options(args=(site.id, drill_id, *named), time_limit=(site.engine.timeout + 900) * 1000)


def enqueue_finder(site, request_id: str, max_backups: int = finder.DEFAULT_MAX):
    """Send the recovery-point finder for `site`: up to `max_backups` drills, time-limited by each."""
    return find_restorable.send_with_options(args=(site.id, request_id, max_backups),
                                             time_limit=max_backups * (site.engine.timeout + 900) * 1000)

