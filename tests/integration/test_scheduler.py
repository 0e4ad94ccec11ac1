"""The scheduler against a real Redis, on an injected clock: exactly one enqueue per due run,
whatever the replicas; one catch-up run per site after downtime; deterministic jitter."""

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from tests.helpers import site_entry, write_catalog
from workers.scheduler import Scheduler, due_runs, jitter
from workers.settings import Settings

PARIS = ZoneInfo("Europe/Paris")


class Clock:
    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def catalog_path(tmp_path):
    sites = [site_entry(f"pharmacie-{n:02d}", tmp_path, tmp_path / "k", schedule="0 * * * *") for n in range(10)]
    return write_catalog(tmp_path, sites)


def settings_for(catalog_path, redis_server, jitter_seconds=600):
    return replace(Settings.from_environment(), catalog=str(catalog_path), redis_url=redis_server.url,
                   jitter_seconds=jitter_seconds, tick_seconds=60)


def test_two_replicas_on_an_accelerated_clock_enqueue_each_due_run_exactly_once(
        catalog_path, redis_server, redis_client):
    clock = Clock(datetime(2026, 11, 23, 0, 0, 30, tzinfo=timezone.utc))
    enqueued = []
    replicas = [Scheduler(settings_for(catalog_path, redis_server), redis_client,
                          lambda site, drill_id: enqueued.append((site.id, drill_id)), clock) for _ in range(2)]
    for _ in range(6 * 60):  # six hours, a tick a minute, both replicas ticking
        for replica in replicas:
            replica.tick()
        clock.advance(minutes=1)
    runs_per_site = {site: sum(1 for s, _ in enqueued if s == site) for site, _ in enqueued}
    assert runs_per_site == {f"pharmacie-{n:02d}": 6 for n in range(10)}
    assert len({drill_id for _, drill_id in enqueued}) == 60


def test_after_a_three_hour_outage_each_site_gets_one_catch_up_run_not_three(
        catalog_path, redis_server, redis_client):
    clock = Clock(datetime(2026, 11, 23, 0, 30, 30, tzinfo=timezone.utc))
    enqueued = []
    scheduler = Scheduler(settings_for(catalog_path, redis_server, jitter_seconds=0), redis_client,
                          lambda site, drill_id: enqueued.append(site.id), clock)
    assert scheduler.tick() == []
    clock.advance(hours=3, minutes=5)  # down from 00:30 to 03:35: runs of 01:00, 02:00, 03:00 missed
    restarted = Scheduler(settings_for(catalog_path, redis_server, jitter_seconds=0), redis_client,
                          lambda site, drill_id: enqueued.append(site.id), clock)
    restarted.tick()
    assert sorted(enqueued) == sorted(f"pharmacie-{n:02d}" for n in range(10))


def test_sites_sharing_a_schedule_are_spread_by_a_jitter_that_is_the_same_every_time():
    offsets = {jitter(f"pharmacie-{n:02d}", 900) for n in range(50)}
    assert len(offsets) > 40 and all(timedelta(0) <= offset < timedelta(seconds=900) for offset in offsets)
    assert jitter("pharmacie-du-port", 900) == jitter("pharmacie-du-port", 900)


def test_schedules_are_read_in_the_configured_time_zone(tmp_path):
    from drills.catalog import load_catalog

    site = load_catalog(write_catalog(tmp_path, [site_entry("p", tmp_path, tmp_path / "k", schedule="0 2 * * *")])).sites[0]
    paris_2am_in_winter = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)
    due = due_runs([site], paris_2am_in_winter - timedelta(minutes=1), paris_2am_in_winter, PARIS, 0)
    assert [run.astimezone(timezone.utc) for _, run in due] == [paris_2am_in_winter]
    assert due_runs([site], paris_2am_in_winter, paris_2am_in_winter + timedelta(minutes=59), PARIS, 0) == []


def test_an_edited_catalog_is_read_again(catalog_path, redis_server, redis_client):
    import os

    clock = Clock(datetime(2026, 11, 23, 0, 0, 30, tzinfo=timezone.utc))
    scheduler = Scheduler(settings_for(catalog_path, redis_server), redis_client, lambda *a: None, clock)
    assert len(scheduler.load().sites) == 10
    text = catalog_path.read_text()
    catalog_path.write_text(text[: text.index("- id: pharmacie-01")].rstrip() + "\n")
    os.utime(catalog_path, (1, 2))
    assert len(scheduler.load().sites) == 1


def test_the_scheduler_reconnects_after_redis_restarts_and_misses_nothing(catalog_path, redis_server, redis_client):
    import redis as redis_library

    clock = Clock(datetime(2026, 11, 23, 0, 30, 30, tzinfo=timezone.utc))
    enqueued = []
    client = redis_library.Redis.from_url(redis_server.url, socket_timeout=5)
    scheduler = Scheduler(settings_for(catalog_path, redis_server, jitter_seconds=0), client,
                          lambda site, drill_id: enqueued.append(site.id), clock)
    scheduler.tick()
    redis_server.stop()
    clock.advance(minutes=31)
    with pytest.raises(redis_library.ConnectionError):
        scheduler.tick()  # run_forever logs it and ticks again
    redis_server.start()
    scheduler.tick()
    assert sorted(enqueued) == sorted(f"pharmacie-{n:02d}" for n in range(10)), "the 01:00 runs are not lost"


def test_one_replica_compacts_the_index_once_an_hour(catalog_path, redis_server, redis_client):
    clock = Clock(datetime(2026, 11, 23, 9, 0, 30, tzinfo=timezone.utc))
    replicas = [Scheduler(settings_for(catalog_path, redis_server), redis_client, lambda site, drill_id: None, clock)
                for _ in range(2)]
    snapshot = catalog_path.parent / "evidence" / ".index" / "summaries.parquet"
    compacted = []
    for _ in range(3 * 60):  # three hours, both replicas ticking every minute
        for replica in replicas:
            compacted.append(replica.compact_hourly(replica.load(), clock()))
        clock.advance(minutes=1)
    assert compacted.count(True) == 3 and snapshot.exists()


def test_one_replica_asks_a_worker_to_anchor_the_journal_once_an_hour(catalog_path, redis_server, redis_client):
    clock = Clock(datetime(2026, 11, 23, 9, 0, 30, tzinfo=timezone.utc))
    asked = []
    replicas = [Scheduler(settings_for(catalog_path, redis_server), redis_client, lambda site, drill_id: None, clock,
                          anchor=lambda: asked.append(clock())) for _ in range(2)]
    for _ in range(3 * 60):  # three hours, both replicas ticking every minute
        for replica in replicas:
            replica.tick()
        clock.advance(minutes=1)
    assert [moment.hour for moment in asked] == [9, 10, 11]
