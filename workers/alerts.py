"""Alerts through apprise (email, webhooks, chat: any URL it supports), deduplicated.

Each site's alert state lives in Redis (`status`, `rto_over`, `last_pass`, `neglect_alerted`),
so an alert fires once per change, not once per drill, whichever worker ran the drill:
- status change: red after green (or a first drill that is red), green after red;
- the measured RTO going above the target (re-armed once it is back under);
- no passing drill for `no_success_days` (checked by the scheduler's tick).
An `error` outcome changes nothing: our infrastructure failing says nothing of the backup.
"""

import logging
import os
from datetime import datetime, timedelta, timezone

import apprise

from drills.finder import newest_restorable
from drills.redaction import printable
from drills.reports import index
from drills.reports.evidence import EvidenceStore
from drills import reasons
from workers import pending

STATE_PREFIX = "restore-drill:alert:"
log = logging.getLogger("restore_drill.alerts")


def destinations(catalog, site) -> list[str]:
    """The site's URLs and its tenant's; URLs from environment variables included."""
    tenant = catalog.tenants.get(site.tenant)
    settings = [site.alerts] + ([tenant.alerts] if tenant else [])
    urls = [url for setting in settings for url in setting.urls]
    urls += [url for setting in settings if setting.urls_env for url in os.environ.get(setting.urls_env, "").split()]
    return urls


def send(urls: list[str], title: str, body: str) -> bool:
    if not urls:
        return False
    notifier = apprise.Apprise()
    for url in urls:
        notifier.add(url)
    delivered = notifier.notify(title=title, body=body)
    if not delivered:
        log.warning("an alert could not be delivered", extra={"title": title})  # URLs may hold tokens: never logged
    return bool(delivered)


def after_drill(catalog, site, report: dict, client) -> list[str]:
    """Update the site's alert state from a report; send what changed. The titles sent. A drill of
    a backup chosen by name (an operator's, the recovery-point finder's) changes nothing: it says
    nothing of the newest backup."""
    if report["outcome"] == "error" or report.get("requested_backup") is not None:
        return []
    key = STATE_PREFIX + site.id
    state = {k.decode(): v.decode() for k, v in client.hgetall(key).items()}
    status = "green" if report["outcome"] == "pass" else "red"
    alerts = []
    if status != state.get("status") and (status == "red" or state.get("status") == "red"):
        alerts.append(status_alert(site, report, status, restorable_known(catalog, site, report)))
    over = report["rto_seconds"] is not None and report["rto_seconds"] > site.targets.rto
    if over and state.get("rto_over") != "1":
        alerts.append((f"{site.name}: restore slower than its RTO target",
                       f"A restore took {report['rto_seconds']:.0f} s, the target is {site.targets.rto} s."))
    attention = [finding for finding in report["findings"]
                 if finding["status"] == "warn" and finding.get("code", "").startswith(reasons.ATTENTION)]
    alerted = set(filter(None, state.get("attention", "").split(",")))
    new = [finding for finding in attention if finding["code"] not in alerted]
    if new and status == "green":  # once per kind of warning, until a drill no longer finds it
        alerts.append((f"{site.name}: backup restorable, but needs attention ({new[0]['code']})",
                       "\n".join(f"{finding['message']}\nNext: {finding['hint']}" for finding in new)))
    updates = {"status": status, "rto_over": "1" if over else "0",
               "attention": ",".join(sorted({finding["code"] for finding in attention}))}
    if status == "green":
        updates |= {"last_pass": report["finished_at"], "neglect_alerted": "0"}
    client.hset(key, mapping=updates)
    for title, body in alerts:
        send(destinations(catalog, site), title, body)
    return [title for title, _ in alerts]


def status_alert(site, report: dict, status: str, restorable: dict | None = None) -> tuple[str, str]:
    if status == "red":
        known = (f"\nNewest backup proven restorable: {printable(restorable['backup_name'])}, taken "
                 f"{restorable['backup_taken_at']} (drill {restorable['drill_id']} of {restorable['started_at'][:16]})."
                 if restorable else
                 "\nNo backup of this site has been proven restorable yet: `drill restorable` looks for one.")
        verdict = "restorable, but failed a check" if str(report["reason"]).startswith(reasons.ATTENTION) \
            else "NOT restorable"  # a history or hosting check the site fails on: it restored
        return (f"{site.name}: backup {verdict} ({report['reason']})",
                f"Drill {report['drill_id']} failed: {report['message']}\nNext: {report['hint']}{known}")
    return (f"{site.name}: backup restorable again",
            f"Drill {report['drill_id']} passed: the backup was restored and verified.")


def restorable_known(catalog, site, failing: dict) -> dict | None:
    """The summary of the passing drill of the site's newest backup whose data was whole, if any
    (never the bytes that just failed): what disaster day would restore."""
    return newest_restorable(index.read_all(catalog.evidence / site.id), failing)


def neglect_days(catalog, site) -> int | None:
    """The site's own setting, else its tenant's."""
    tenant = catalog.tenants.get(site.tenant)
    return site.alerts.no_success_days or (tenant.alerts.no_success_days if tenant else None)


def check_neglect(catalog, client, now: datetime | None = None) -> list[str]:
    """Alert once per site with no passing drill for its `no_success_days`; the titles sent."""
    now = now or datetime.now(timezone.utc)
    sent = []
    for site in catalog.sites:
        days = neglect_days(catalog, site)
        if not days:
            continue
        key = STATE_PREFIX + site.id
        client.hsetnx(key, "first_seen", now.isoformat())
        state = {k.decode(): v.decode() for k, v in client.hgetall(key).items()}
        since = datetime.fromisoformat(state.get("last_pass") or state["first_seen"])
        if (now - since).total_seconds() > days * 86400 and state.get("neglect_alerted") != "1":
            title = f"{site.name}: no successful restore for {days} days"
            send(destinations(catalog, site), title, f"The last passing drill was at {since.isoformat()}.")
            client.hset(key, "neglect_alerted", "1")
            sent.append(title)
    return sent


def report_lost(catalog, client, now: datetime, after_seconds: int) -> list[str]:
    """Alert once about each drill enqueued more than `after_seconds` ago that never concluded
    (workers.pending); the drill ids said lost."""
    store = EvidenceStore(catalog.evidence)
    return pending.sweep(catalog, client, now, timedelta(seconds=after_seconds),
                         send=lambda site, title, body: send(destinations(catalog, site), title, body),
                         concluded=lambda drill_id: store.concluding_report(drill_id) is not None)
