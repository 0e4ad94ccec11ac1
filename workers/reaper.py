"""The reaper: removes restore containers (and their volumes) and socket directories left by
a drill whose worker died, found by label, when the drill holds no live lease.

A grace period spares what was just created: a drill takes its lease before starting its
container, but a container seen before its lease was written must not be killed.
"""

import logging
import shutil
import time
from datetime import datetime

from drills.errors import InfrastructureError
from drills.workdir import run_dir as drill_run_dir
from drills.runtimes.docker import DRILL_LABEL
from workers.leases import live_drills

log = logging.getLogger("restore_drill.reaper")


def reap_safely(runtime, client, grace_seconds: int) -> list[str]:
    """reap(), but a pass that cannot see Redis or the engine is skipped, never fatal: without
    the live leases nothing can be known to be orphaned."""
    try:
        return reap(runtime, client, grace_seconds)
    except Exception:
        log.warning("reaper pass skipped", exc_info=True)
        return []


def reap(runtime, client, grace_seconds: int) -> list[str]:
    """Remove orphans; the drill ids they belonged to."""
    live = live_drills(client)
    now = time.time()
    reaped = []
    for container in runtime.client.containers.list(all=True, filters={"label": DRILL_LABEL}):
        drill_id = container.labels.get(DRILL_LABEL, "")
        created = datetime.fromisoformat(container.attrs["Created"][:26].rstrip("Z") + "+00:00").timestamp()
        if drill_id not in live and now - created > grace_seconds:
            try:
                runtime.remove(container.id)
            except InfrastructureError as error:  # the next pass tries again; the others go on
                log.error("orphaned restore container not removed: %s", error.message, extra={"drill_id": drill_id})
                continue
            reaped.append(drill_id)
            log.warning("orphaned restore container removed", extra={"drill_id": drill_id, "container": container.short_id})
    run_dir = drill_run_dir()
    for directory in run_dir.glob("*") if run_dir.is_dir() else []:
        drill_id = directory.name.split(".")[0]
        if drill_id not in live and now - directory.stat().st_mtime > grace_seconds:
            shutil.rmtree(directory, ignore_errors=True)
            if drill_id not in reaped:
                reaped.append(drill_id)
            log.warning("orphaned socket directory removed", extra={"drill_id": drill_id})
    return reaped
