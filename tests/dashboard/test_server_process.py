"""`drill dashboard` never leaves its Streamlit server behind: stopped by SIGTERM (docker stop,
systemd), by SIGINT (Ctrl-C), or killed outright, the server goes with it."""

import signal

import pytest

from tests.dashboard.conftest import gone_within


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_the_streamlit_server_stops_with_drill_dashboard(serving, stop):
    drill, streamlit, _ = serving
    drill.send_signal(stop)
    assert gone_within(streamlit, 10), "the Streamlit server outlived drill dashboard"
    assert drill.wait(10) == 0


def test_the_streamlit_server_stops_when_drill_dashboard_is_killed_outright(serving):
    drill, streamlit, _ = serving
    drill.kill()
    drill.wait(10)
    assert gone_within(streamlit, 10), "the Streamlit server outlived drill dashboard"
