"""`drill dashboard`, plugged into `drill`: the Streamlit app on loopback by default."""

import os
import subprocess
import sys
from pathlib import Path

from drills.access import load_users
from drills.catalog import load_catalog

APP = Path(__file__).with_name("app.py")


def register(add) -> None:
    dashboard = add("dashboard", command_dashboard, "serve the dashboard (Streamlit) for the catalog's sites",
                    json=False)
    dashboard.add_argument("--users", help="the users file (default: $DRILL_USERS, else ./users.yaml)")
    dashboard.add_argument("--address", default="127.0.0.1", help="listen address (default: loopback only)")
    dashboard.add_argument("--port", type=int, default=8501)


def streamlit_command(address: str, port: int) -> list[str]:
    return [sys.executable, "-m", "streamlit", "run", str(APP), "--server.address", address,
            "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false",
            "--server.fileWatcherType", "none", "--client.toolbarMode", "minimal"]


def command_dashboard(arguments) -> int:
    catalog = Path(arguments.catalog or os.environ.get("DRILL_CATALOG") or "catalog.yaml").resolve()
    users = Path(arguments.users or os.environ.get("DRILL_USERS") or "users.yaml").resolve()
    load_catalog(catalog), load_users(users)  # refuse to start on a bad file: exit 3 with every problem
    print(f"dashboard: http://{arguments.address}:{arguments.port}  (catalog {catalog}, users {users})", flush=True)
    env = {**os.environ, "DRILL_CATALOG": str(catalog), "DRILL_USERS": str(users)}
    try:
        return subprocess.run(streamlit_command(arguments.address, arguments.port), env=env).returncode
    except KeyboardInterrupt:
        return 0
