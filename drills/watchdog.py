"""One deadline for a whole drill, and one way to stop it from any thread.

A drill can be stuck where Python cannot raise: inside DuckDB counting a view that never
ends, inside libpq waiting on a hostile server, inside a Docker exec. The watchdog fires when
the deadline passes (`timeout`) or when told to (`interrupted`: Ctrl-C, SIGTERM, a worker
shutting down; `lease_lost`: the site's lease could not be renewed), and then runs the actions registered for what is blocking right now: the
restore container is removed (every exec and socket into it ends), DuckDB's query is
interrupted. The blocked call returns with an error, and the drill explains that error by the
watchdog's reason, then writes its report as always.
"""

import logging
import threading
import time
from contextlib import contextmanager

from drills.errors import BackupProblem, DrillError, InfrastructureError
from drills import reasons

TIMEOUT, INTERRUPTED, LEASE_LOST = "timeout", "interrupted", "lease_lost"
log = logging.getLogger("restore_drill.watchdog")


class Watchdog:
    def __init__(self, seconds: float):
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.reason: str | None = None
        self.fired = threading.Event()
        self.actions: dict[int, object] = {}
        self.lock = threading.Lock()
        self.timer = threading.Timer(seconds, self.fire, args=(TIMEOUT,))
        self.timer.daemon = True

    def __enter__(self) -> "Watchdog":
        self.timer.start()
        return self

    def __exit__(self, *exc) -> None:
        self.timer.cancel()

    def fire(self, reason: str) -> None:
        """Stop the drill: the first reason given is the one kept."""
        with self.lock:
            if self.reason is not None:
                return
            self.reason = reason
            actions = list(self.actions.values())
        self.fired.set()
        for action in reversed(actions):  # the innermost first: DuckDB's query, then the container
            run_quietly(action)

    @contextmanager
    def guarding(self, action):
        """While inside, `action()` runs if the watchdog fires (at once if it fired already)."""
        key = id(action)
        with self.lock:
            self.actions[key] = action
            fired = self.reason is not None
        if fired:
            run_quietly(action)
        try:
            yield
        finally:
            with self.lock:
                self.actions.pop(key, None)

    def error(self, phase: str) -> DrillError | None:
        """Why the drill stopped during `phase`, if the watchdog fired."""
        if self.reason == INTERRUPTED:
            return interrupted("a stop was asked (Ctrl-C, SIGTERM or a worker shutting down)")
        if self.reason == LEASE_LOST:
            return InfrastructureError(reasons.ERROR_LEASE_LOST,
                                       "the site's lease could not be renewed in time (Redis stalled "
                                       "or unreachable): stopped, so that two drills of one site never "
                                       "run at once", hint="the drill is retried; check Redis")
        if self.reason:
            code = reasons.VERIFY_TIMEOUT if phase in ("verify", "export") else reasons.RESTORE_TIMEOUT
            return BackupProblem(code, f"the drill did not finish within engine.timeout ({self.seconds:,} s): "
                                       f"stopped during {phase}",
                                 hint="a backup much larger than usual, or restored objects that never finish "
                                      "(a view or function that hangs): raise engine.timeout only if the data grew")
        return None

    def remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())


def run_quietly(action) -> None:
    """A stop action failing (what it stops has just ended) must not stop the others."""
    try:
        action()
    except Exception as error:  # noqa: BLE001 - said, and the drill still ends
        log.info("a watchdog action found nothing to stop: %s", type(error).__name__)


def interrupted(why: str) -> InfrastructureError:
    return InfrastructureError(reasons.ERROR_INTERRUPTED, f"the drill was interrupted ({why})",
                               hint="a shutdown re-queues the drill; a time limit means the drill outgrew engine.timeout")
