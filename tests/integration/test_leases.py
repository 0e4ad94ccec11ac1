"""Site leases against a real Redis: a lease that cannot be renewed in time is given up before
it can expire (so two attempts of one site never run at once), a lease taken over is lost at
once, and `drill run` takes the site's lease like a worker when a Redis is configured."""

import os
import signal
import threading
import time

import pytest

from tests.helpers import drill_command
from tests.integration.conftest import SITE
from workers.leases import LEASE_PREFIX, SiteLease, live_drills


def test_a_lease_redis_cannot_renew_is_given_up_before_it_expires(redis_server, redis_client):
    lost = threading.Event()
    lease = SiteLease(redis_client, SITE, "attempt-1", ttl_seconds=1.5, on_lost=lost.set)
    assert lease.acquire()
    with lease:
        frozen_at = time.monotonic()
        os.kill(redis_server.process.pid, signal.SIGSTOP)  # Redis stalls: no renewal can answer
        try:
            assert lost.wait(5), "the drill was never told"
            given_up_after = time.monotonic() - frozen_at
        finally:
            os.kill(redis_server.process.pid, signal.SIGCONT)
    assert given_up_after < 1.5, f"given up after {given_up_after:.2f} s: the lease could have expired first"


def test_a_lease_taken_over_is_lost_at_the_next_renewal_and_not_released_by_its_old_holder(redis_client):
    lost = threading.Event()
    lease = SiteLease(redis_client, SITE, "attempt-1", ttl_seconds=1.5, on_lost=lost.set)
    assert lease.acquire()
    with lease:
        redis_client.set(LEASE_PREFIX + SITE, "attempt-2")
        assert lost.wait(3)
    assert redis_client.get(LEASE_PREFIX + SITE) == b"attempt-2", "the new holder keeps the site"
    assert live_drills(redis_client) == {"attempt-2"}


def test_a_held_lease_keeps_its_drill_running(redis_client):
    lost = threading.Event()
    lease = SiteLease(redis_client, SITE, "attempt-1", ttl_seconds=0.9, on_lost=lost.set)
    assert lease.acquire()
    with lease:
        assert not lost.wait(2.5), "renewed in time, three times over"
    assert redis_client.get(LEASE_PREFIX + SITE) is None, "released at the end"


def test_drill_run_takes_the_sites_lease_and_refuses_a_busy_site(catalog, redis_server, redis_client):
    redis_client.set(LEASE_PREFIX + SITE, "20261201T020000Z-0badcafe")
    busy = drill_command("run", SITE, "--catalog", str(catalog), "--json", env={"DRILL_REDIS_URL": redis_server.url})
    assert busy.returncode == 2 and '"error.site_busy"' in busy.stdout, busy.stdout + busy.stderr
    redis_client.delete(LEASE_PREFIX + SITE)
    ran = drill_command("run", SITE, "--catalog", str(catalog), "--json", env={"DRILL_REDIS_URL": redis_server.url})
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert redis_client.get(LEASE_PREFIX + SITE) is None


@pytest.fixture(autouse=True)
def redis_resumed(redis_server):
    yield
    os.kill(redis_server.process.pid, signal.SIGCONT)  # never leave the session's Redis frozen
