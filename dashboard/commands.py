"""`drill dashboard`, plugged into `drill`: the Streamlit app on loopback by default.

Streamlit runs as a child process, and never outlives `drill dashboard`: SIGTERM and SIGINT
(Ctrl-C) are forwarded to it and waited for, and on Linux the kernel sends it SIGTERM when its
parent dies, even by SIGKILL (PR_SET_PDEATHSIG). Exit codes: 0 when stopped by SIGTERM or
SIGINT, 2 when the server ended on its own with an error, 3 on a bad catalog or users file.
"""

import ctypes
import os
import signal
import subprocess
import sys
from pathlib import Path

from drills.access import load_users
from drills.commands.output import EXIT
from drills.catalog import load_catalog
from drills.commands.common import catalog_path_of

SERVER = Path(__file__).with_name("server.py")  # app.py, and the route that sets the session cookie
FORWARDED = (signal.SIGTERM, signal.SIGINT)
PR_SET_PDEATHSIG = 1
STOP_SECONDS = 20  # how long a stopping Streamlit may take before it is killed


def register(add) -> None:
    dashboard = add("dashboard", command_dashboard, "serve the dashboard (Streamlit) for the catalog's sites",
                    json=False)
    dashboard.add_argument("--users", help="the users file (default: $DRILL_USERS, else ./users.yaml)")
    dashboard.add_argument("--address", default="127.0.0.1", help="listen address (default: loopback only)")
    dashboard.add_argument("--port", type=int, default=8501)


def streamlit_command(address: str, port: int) -> list[str]:
    return [sys.executable, "-m", "streamlit", "run", str(SERVER), "--server.address", address,
            "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false",
            "--server.fileWatcherType", "none", "--client.toolbarMode", "minimal"]


def command_dashboard(arguments) -> int:
    catalog = catalog_path_of(arguments).resolve()
    users = Path(arguments.users or os.environ.get("DRILL_USERS") or "users.yaml").resolve()
    load_catalog(catalog), load_users(users)  # refuse to start on a bad file: exit 3 with every problem
    print(f"dashboard: http://{arguments.address}:{arguments.port}  (catalog {catalog}, users {users})", flush=True)
    env = {**os.environ, "DRILL_CATALOG": str(catalog), "DRILL_USERS": str(users)}
    return supervise(streamlit_command(arguments.address, arguments.port), env)


def supervise(command: list[str], env: dict[str, str]) -> int:
    """Run `command` until it exits, forwarding SIGTERM and SIGINT to it. The child has its own
    process group, so a Ctrl-C in a terminal reaches it once, through here."""
    parent, stopping, started = os.getpid(), [], []

    def forward(received: int, _) -> None:  # installed before the child starts: no signal falls between
        stopping.append(received)
        for child in started:
            child.send_signal(received)

    previous = {number: signal.signal(number, forward) for number in FORWARDED}
    try:
        child = subprocess.Popen(command, env=env, process_group=0, preexec_fn=lambda: die_with(parent))
        started.append(child)
        if stopping:  # asked to stop while it started
            child.send_signal(stopping[0])
        code = child.wait()
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        for child in started:
            if child.poll() is None:  # only if this process itself failed while waiting
                child.terminate()
                try:
                    child.wait(STOP_SECONDS)
                except subprocess.TimeoutExpired:
                    child.kill()
    return 0 if stopping or code == 0 else EXIT["error"]


def die_with(parent: int) -> None:
    """In the child, before exec: be sent SIGTERM when the parent dies (Linux; elsewhere a no-op),
    and exit at once if it already has."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM))
    if os.getppid() != parent:
        os._exit(1)
