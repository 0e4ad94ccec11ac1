"""The servers a test session starts must not outlive it: Streamlit, workers, schedulers,
Redis. The session marks its environment (MARK, inherited by every child, grandchildren and
orphans included); at the end, any such process still carrying the mark is named, killed, and
fails the session."""

import os
import re
import signal
import time
from pathlib import Path

MARK = "RESTORE_DRILL_TEST_SESSION"
SERVERS = re.compile(r"streamlit|redis-server|drills?(\.cli)? (worker|scheduler|dashboard)|dramatiq")
GRACE_SECONDS = 5.0  # a server told to stop gets this long to be gone


def mark_session() -> None:
    os.environ[MARK] = str(os.getpid())


def marked_servers(session: str) -> dict[int, str]:
    """pid -> command line of the servers carrying the session's mark (this process excepted)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environment = (entry / "environ").read_bytes().split(b"\0")
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if f"{MARK}={session}".encode() in environment and SERVERS.search(command):
            found[int(entry.name)] = command
    return found


def left_running() -> dict[int, str]:
    """The session's servers still running after the grace period; they are killed."""
    session = os.environ.get(MARK)
    if session is None:
        return {}
    deadline = time.monotonic() + GRACE_SECONDS
    while (found := marked_servers(session)) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in found:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return found
