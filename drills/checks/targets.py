"""The site's targets, checked once the drill is over: the backup's age against the RPO, the
measured restore time against the RTO."""

from datetime import datetime

from drills.checks.findings import FAIL, PASS, WARN, Finding
from drills.manifest import MAX_CLOCK_SKEW
from drills import reasons


def backup_time(manifest_taken_at: datetime | None, modified: datetime | None) -> datetime | None:
    """When the backup was taken, as far as it can be proven: the older of its signals (the
    manifest's taken_at, the object's time at the source), so no one signal can make it newer."""
    return min((signal for signal in (manifest_taken_at, modified) if signal), default=None)


def freshness(backup_name: str, taken: datetime, started_at: datetime, rpo_seconds: int) -> Finding:
    """The backup's age against the RPO. A time in the future proves no freshness: it fails like
    a stale backup."""
    age_seconds = (started_at - taken).total_seconds()
    future = -age_seconds > MAX_CLOCK_SKEW.total_seconds()
    fresh = not future and age_seconds <= rpo_seconds
    if future:
        message = (f"the backup's time at the source is {-age_seconds / 3600:.1f} h in the future: "
                   "its age cannot be known")
        hint = "the storage's clock is wrong, or the file's time was set by hand: check the source"
    else:
        message = f"the newest backup is {age_seconds / 3600:.1f} h old, the RPO target is {rpo_seconds / 3600:.1f} h"
        hint = "the backup job has stopped delivering: check it on the site's side"
    return Finding("backup.freshness", backup_name, PASS if fresh else FAIL, expected=f"<= {rpo_seconds} s",
                   actual=round(age_seconds), code="" if fresh else reasons.BACKUP_STALE,
                   message="" if fresh else message, hint="" if fresh else hint)


def restore_time(site_id: str, rto_seconds: float, target_seconds: int) -> Finding | None:
    """A warning when the restore took longer than the RTO target."""
    if rto_seconds <= target_seconds:
        return None
    return Finding(reasons.RTO_TARGET, site_id, WARN, expected=f"<= {target_seconds} s", actual=round(rto_seconds, 1),
                   message="the restore took longer than the RTO target",
                   hint="a restore on disaster day would be late: review the target or the restore resources")
