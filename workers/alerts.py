"""Alerts through apprise (email, webhooks, chat: any URL it supports), deduplicated.

Each site's alert state lives in Redis (`status`, `rto_over`, `last_pass`, `neglect_alerted`),
so an alert fires once per change, not once per drill, whichever worker ran the drill:
- status change: red after green (or a first drill that is red), green after red;
- the measured RTO going above the target (re-armed once it is back under);
- no passing drill for `no_success_days` (checked by the scheduler's tick).
An `error` outcome changes nothing: our infrastructure failing says nothing of the backup.
Alerts are written in the site's language, for its people and its technician (workers.alert_texts);
a passing drill of the newest backup pings the site's heartbeat URL (workers.heartbeat).
"""

import logging
import os
from datetime import datetime, timedelta, timezone

import apprise

from drills.finder import newest_restorable
from drills.reports import index
from drills.reports.evidence import EvidenceStore
from drills import reasons, site_words
from workers import alert_texts, heartbeat, pending
from workers.alert_texts import Audience
from workers.settings import dashboard_url

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


def audience(catalog, site) -> Audience:
    """Who reads the site's alerts: its language, its tenant's contact, the link to its status page."""
    tenant = catalog.tenants.get(site.tenant)
    contact = (tenant.contact if tenant else None) or site_words.CONTACT_DEFAULT[site.locale]
    base = dashboard_url()
    return Audience(site.locale, contact, f"{base}/status?site={site.id}" if base else None)


def after_drill(catalog, site, report: dict, client) -> list[str]:
    """Update the site's alert state from a report; send what changed. The titles sent. A drill of
    a backup chosen by name (an operator's, the recovery-point finder's) changes nothing: it says
    nothing of the newest backup."""
    if report["outcome"] == "error" or report.get("requested_backup") is not None:
        return []
    if report["outcome"] == "pass":
        heartbeat.ping(site)
    key = STATE_PREFIX + site.id
    state = {k.decode(): v.decode() for k, v in client.hgetall(key).items()}
    status = "green" if report["outcome"] == "pass" else "red"
    readers, alerts = audience(catalog, site), []
    if status == "red" and state.get("status") != "red":
        alerts.append(alert_texts.red(site, report, restorable_known(catalog, site, report), readers))
    elif status == "green" and state.get("status") == "red":
        alerts.append(alert_texts.recovered(site, report, readers))
    over = report["rto_seconds"] is not None and report["rto_seconds"] > site.targets.rto
    if over and state.get("rto_over") != "1":
        alerts.append(alert_texts.slow(site, report, readers))
    attention = [finding for finding in report["findings"]
                 if finding["status"] == "warn" and finding.get("code", "").startswith(reasons.ATTENTION)]
    alerted = set(filter(None, state.get("attention", "").split(",")))
    new = [finding for finding in attention if finding["code"] not in alerted]
    if new and status == "green":  # once per kind of warning, until a drill no longer finds it
        alerts.append(alert_texts.attention(site, report, new, readers))
    updates = {"status": status, "rto_over": "1" if over else "0",
               "attention": ",".join(sorted({finding["code"] for finding in attention}))}
    if status == "green":
        updates |= {"last_pass": report["finished_at"], "neglect_alerted": "0"}
    client.hset(key, mapping=updates)
    for title, body in alerts:
        send(destinations(catalog, site), title, body)
    return [title for title, _ in alerts]


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
            title, body = alert_texts.neglected(site, days, since, audience(catalog, site))
            send(destinations(catalog, site), title, body)
            client.hset(key, "neglect_alerted", "1")
            sent.append(title)
    return sent


def report_lost(catalog, client, now: datetime, after_seconds: int) -> list[str]:
    """Alert once about each drill enqueued more than `after_seconds` ago that never concluded
    (workers.pending); the drill ids said lost."""
    store = EvidenceStore(catalog.evidence)
    return pending.sweep(catalog, client, now, timedelta(seconds=after_seconds),
                         said_lost=lambda site, drill_id, hours: send(destinations(catalog, site), *alert_texts.lost(
                             site, drill_id, hours, audience(catalog, site))),
                         concluded=lambda drill_id: store.concluding_report(drill_id) is not None)
