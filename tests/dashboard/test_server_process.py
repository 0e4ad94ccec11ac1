"""`drill dashboard` never leaves its Streamlit server behind: stopped by SIGTERM (docker stop,
systemd), by SIGINT (Ctrl-C), or killed outright, the server goes with it."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

PROJECT = Path(__file__).parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


def gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not alive(pid)


@pytest.fixture
def serving(fleet_files):
    """(drill dashboard's process, its Streamlit child's pid), once the dashboard answers."""
    port = free_port()
    drill = subprocess.Popen([sys.executable, "-m", "drills.cli", "dashboard", "--port", str(port)], cwd=PROJECT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail("the dashboard did not start")
        (streamlit,) = children(drill.pid)
        yield drill, streamlit
    finally:
        for pid in [drill.pid, *(children(drill.pid) if alive(drill.pid) else [])]:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        drill.wait(10)


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_the_streamlit_server_stops_with_drill_dashboard(serving, stop):
    drill, streamlit = serving
    drill.send_signal(stop)
    assert gone_within(streamlit, 10), "the Streamlit server outlived drill dashboard"
    assert drill.wait(10) == 0


def test_the_streamlit_server_stops_when_drill_dashboard_is_killed_outright(serving):
    drill, streamlit = serving
    drill.kill()
    drill.wait(10)
    assert gone_within(streamlit, 10), "the Streamlit server outlived drill dashboard"
