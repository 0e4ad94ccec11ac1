"""The JSON the API answers with for a site and its status (a drill's summary is the index's own)."""

from api.badges import STATE_NAMES
from drills.fleet import SiteStatus
from drills.site_words import state

SUMMARY_FIELDS = ("sequence", "drill_id", "outcome", "reason", "started_at", "backup_taken_at", "rto_seconds")


def status(site_status: SiteStatus) -> dict:
    """What the dashboard's status page shows: the status (green, amber, red, never) and its stable
    state name, why it is not green (a reason code), the last drill, the last proof, the targets."""
    last, last_pass = site_status.last, site_status.last_pass
    return {"site": site_status.site_id, "status": site_status.status,
            "state": STATE_NAMES[state(site_status.status, site_status.why)], "why": site_status.why or None,
            "last_drill": brief(last), "last_proven_at": last_pass["started_at"] if last_pass else None,
            "last_proven_rto_seconds": last_pass["rto_seconds"] if last_pass else None,
            "rto_target_seconds": site_status.rto_target, "rpo_target_seconds": site_status.rpo_target,
            "backup_age_seconds": site_status.backup_age_seconds}


def site(site, site_status: SiteStatus) -> dict:
    return {"id": site.id, "name": site.name, "tenant": site.tenant, "locale": site.locale,
            "schedule": site.schedule, "targets": {"rto_seconds": site.targets.rto, "rpo_seconds": site.targets.rpo},
            "status": status(site_status)}


def brief(summary: dict | None) -> dict | None:
    return {field: summary.get(field) for field in SUMMARY_FIELDS} if summary else None
