"""Drills asked for and not concluded yet: every enqueued drill must end in one concluding
report (a pass, a fail, or an error once its retries are spent).

Each enqueued drill is written down here when it is sent and crossed out when it concludes. One
still written down long after it could have concluded was lost on the way (a message the broker
never delivered again, a worker that vanished with it) or is stuck: nobody else would notice,
so the scheduler's sweep says so, in the log and to the site's alert destinations, once. The
evidence store is the truth: a drill whose concluding report is there (its crossing out failed
while Redis was away) is crossed out by the sweep, never said lost.
"""

import json
import logging
from datetime import datetime, timedelta

PENDING = "restore-drill:pending"  # hash: drill id -> {"site", "enqueued_at"}
ALERTED = "restore-drill:pending:alerted"  # set of drill ids already said lost
CONCLUDED = "restore-drill:concluded:"  # + drill id: the drill concluded; later deliveries of it are dropped
CONCLUDED_KEPT_SECONDS = 30 * 86400  # longer than any message of a drill can wait in a queue
log = logging.getLogger("restore_drill.pending")


def record(client, site_id: str, drill_id: str, now: datetime) -> None:
    client.hsetnx(PENDING, drill_id, json.dumps({"site": site_id, "enqueued_at": now.isoformat()}))


def conclude(client, drill_id: str) -> None:
    (client.pipeline().hdel(PENDING, drill_id).srem(ALERTED, drill_id)
     .set(CONCLUDED + drill_id, 1, ex=CONCLUDED_KEPT_SECONDS).execute())


def concluded(client, drill_id: str) -> bool:
    return bool(client.exists(CONCLUDED + drill_id))


def overdue(client, now: datetime, after: timedelta) -> list[tuple[str, dict]]:
    """(drill id, entry) of the drills pending for longer than `after`, oldest first."""
    entries = [(key.decode(), json.loads(value)) for key, value in client.hgetall(PENDING).items()]
    late = [(drill_id, entry) for drill_id, entry in entries
            if now - datetime.fromisoformat(entry["enqueued_at"]) > after]
    return sorted(late, key=lambda item: item[1]["enqueued_at"])


def sweep(catalog, client, now: datetime, after: timedelta, said_lost, concluded) -> list[str]:
    """Say, once each, which drills were enqueued more than `after` ago and never concluded
    (`concluded(drill_id)`: whether the evidence holds its concluding report); `said_lost(site,
    drill_id, hours)` alerts the site's destinations. The drill ids said lost."""
    said = []
    for drill_id, entry in overdue(client, now, after):
        if concluded(drill_id):
            conclude(client, drill_id)
            continue
        if not client.sadd(ALERTED, drill_id):
            continue
        hours = (now - datetime.fromisoformat(entry["enqueued_at"])).total_seconds() / 3600
        log.error("drill enqueued and never concluded", extra={"site": entry["site"], "drill_id": drill_id,
                                                               "enqueued_at": entry["enqueued_at"]})
        site = next((site for site in catalog.sites if site.id == entry["site"]), None)
        if site is not None:
            said_lost(site, drill_id, hours)
        said.append(drill_id)
    return said
