"""A drill run in the foreground (`drill run`, `drill export`) that Ctrl-C and SIGTERM stop cleanly.

Python runs signal handlers in the main thread only, between bytecodes: never while that thread
waits inside DuckDB, libpq or a Docker call. So the drill runs in a thread of its own, the main
thread stays free to take the signal, and the signal fires the drill's watchdog: the drill stops
wherever it is blocked, tears down, and still writes its report (`error.interrupted`).

The drill holds its site's lock meanwhile, like a worker's drill: a `restore_drill.site_locks`
plug-in (workers: the site's lease in Redis, when one is configured) or none at all.
"""

import signal
import threading
from contextlib import nullcontext
from importlib.metadata import entry_points

from drills.reports.report import new_drill_id, now_utc
from drills.watchdog import INTERRUPTED, Watchdog

SIGNALS = (signal.SIGINT, signal.SIGTERM)
SITE_LOCKS = "restore_drill.site_locks"


def run_in_foreground(site, drill):
    """`drill(watchdog, drill_id)`'s result, the drill running in a thread while signals stop it."""
    watchdog, drill_id = Watchdog(site.engine.timeout), new_drill_id(now_utc())
    with site_lock(site, drill_id, watchdog):
        return in_a_thread(site, lambda: drill(watchdog, drill_id), watchdog)


def site_lock(site, drill_id: str, watchdog):
    plugins = list(entry_points(group=SITE_LOCKS))
    return plugins[0].load()(site, drill_id, watchdog) if plugins else nullcontext()


def in_a_thread(site, work_of, watchdog):
    outcome = {}

    def work() -> None:
        try:
            outcome["result"] = work_of()
        except BaseException as error:  # raised again in the caller's thread
            outcome["error"] = error

    thread = threading.Thread(target=work, name=f"drill-{site.id}")
    previous = {number: signal.signal(number, lambda *_: watchdog.fire(INTERRUPTED)) for number in SIGNALS}
    try:
        thread.start()
        while thread.is_alive():
            thread.join(0.2)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]
