"""A drill run in the foreground (`drill run`, `drill export`) that Ctrl-C and SIGTERM stop cleanly.

Python runs signal handlers in the main thread only, between bytecodes: never while that thread
waits inside DuckDB, libpq or a Docker call. So the drill runs in a thread of its own, the main
thread stays free to take the signal, and the signal fires the drill's watchdog: the drill stops
wherever it is blocked, tears down, and still writes its report (`error.interrupted`).
"""

import signal
import threading

from drills.watchdog import INTERRUPTED, Watchdog

SIGNALS = (signal.SIGINT, signal.SIGTERM)


def run_in_foreground(site, drill):
    """`drill(watchdog)`'s result, the drill running in a thread while signals stop it."""
    watchdog = Watchdog(site.engine.timeout)
    outcome = {}

    def work() -> None:
        try:
            outcome["result"] = drill(watchdog)
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
