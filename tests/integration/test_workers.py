"""Unattended drills at fleet scale: real `drill worker` processes, a real Redis on loopback,
the real Docker engine. Every wait is bounded."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from drills.audit import AuditJournal
from drills.reports import anchors
from drills.runtimes.docker import DRILL_LABEL
from tests.helpers import site_entry, write_catalog
from tests.integration.conftest import SITE

PROJECT = Path(__file__).parents[2]
FAST = {"DRILL_HEARTBEAT_TIMEOUT_MS": "4000", "DRILL_MAINTENANCE_CHANCE": "1000000", "DRILL_LEASE_SECONDS": "4",
        "DRILL_MIN_BACKOFF_MS": "500", "DRILL_MAX_BACKOFF_MS": "2000", "DRILL_REAP_EVERY_SECONDS": "2",
        "DRILL_REAP_GRACE_SECONDS": "3", "DRILL_WORKER_THREADS": "1"}


def requested(report: dict) -> str:
    """The drill id that was enqueued, whichever attempt of it the report is."""
    return report.get("attempt_of") or report["drill_id"]


class Fleet:
    """A catalog of sites over copies of real backups, and the worker processes draining it."""

    def __init__(self, directory: Path, backups, keys_dir, redis_url: str, sites: dict[str, str]):
        self.directory, self.workers = directory, []
        entries = []
        for site_id, backup_name in sites.items():
            folder = directory / "backups" / site_id
            folder.mkdir(parents=True)
            source = backups[backup_name]
            os.link(source, folder / source.name)
            manifest = json.loads(source.with_name(source.name + ".manifest.json").read_text())
            (folder / (source.name + ".manifest.json")).write_text(json.dumps({**manifest, "site": site_id}))
            entries.append(site_entry(site_id, folder, keys_dir["dir"] / "drill.agekey"))
        self.catalog = write_catalog(directory, entries)
        self.env = {**os.environ, **FAST, "DRILL_REDIS_URL": redis_url, "DRILL_CATALOG": str(self.catalog)}
        self.drill("keys", "init")

    def drill(self, *arguments) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "drills.cli", *arguments], env=self.env, cwd=PROJECT,
                              capture_output=True, text=True, timeout=120)

    def start_worker(self, **env) -> subprocess.Popen:
        log = open(self.directory / f"worker-{len(self.workers)}.log", "w")
        worker = subprocess.Popen([sys.executable, "-m", "drills.cli", "worker"], env={**self.env, **env},
                                  cwd=PROJECT, stdout=log, stderr=subprocess.STDOUT)
        self.workers.append(worker)
        return worker

    def enqueue_all(self) -> list[dict]:
        return json.loads(self.drill("enqueue", "--all", "--json").stdout)

    def reports(self) -> list[dict]:
        paths = sorted((self.directory / "evidence").glob("[!.]*/[0-9]*-*.json"))  # sites' reports, no anchor
        return [json.loads(path.read_text()) for path in paths]

    def wait_for(self, condition, timeout: float, what: str):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = condition()
            if value:
                return value
            time.sleep(0.2)
        logs = "\n".join(path.read_text()[-3000:] for path in self.directory.glob("worker-*.log"))
        pytest.fail(f"timed out waiting for {what}\n{logs}")

    def stop(self) -> None:
        for worker in self.workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        for worker in self.workers:
            try:
                worker.wait(90)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()


@pytest.fixture
def fleet(tmp_path, backups, keys_dir, redis_server, redis_client, docker_engine):
    fleets = []

    def make(sites: dict[str, str]) -> Fleet:
        fleets.append(Fleet(tmp_path, backups, keys_dir, redis_server.url, sites))
        return fleets[-1]

    yield make
    for made in fleets:
        made.stop()


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def drill_containers() -> list[str]:
    return subprocess.run(["docker", "ps", "-aq", "--filter", f"label={DRILL_LABEL}"],
                          capture_output=True, text=True).stdout.split()


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def scrape(port: int) -> dict[str, float]:
    """Prometheus text format -> {'name{labels}': value}."""
    import urllib.request

    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
            if line and not line.startswith("#")}


def test_two_workers_drain_twenty_drills_for_ten_sites_once_each_never_two_at_once_per_site(fleet):
    sites = fleet({f"pharmacie-{n:02d}": "healthy" for n in range(10)})
    metrics_port = free_port()
    sites.start_worker(DRILL_METRICS_PORT=str(metrics_port))
    sites.start_worker()
    sent = sites.enqueue_all() + sites.enqueue_all()
    reports = sites.wait_for(lambda: len(sites.reports()) >= 20 and sites.reports(), 300, "20 reports")
    assert sorted(map(requested, reports)) == sorted(s["drill_id"] for s in sent), "each drill reported once"
    assert all(r["outcome"] == "pass" for r in reports)
    for site in {r["site"] for r in reports}:
        spans = sorted((moment(r["started_at"]), moment(r["finished_at"])) for r in reports if r["site"] == site)
        assert len(spans) == 2 and spans[0][1] <= spans[1][0], f"two drills of {site} overlapped: {spans}"
    logs = "".join(path.read_text() for path in sites.directory.glob("worker-*.log"))
    assert "drill finished" in logs and "AGE-SECRET-KEY" not in logs, "no secret in the workers' logs"
    metrics = scrape(metrics_port)
    passed = metrics['restore_drill_drills_total{outcome="pass",reason=""}']
    assert 1 <= passed <= 20 and not [name for name in metrics if name.startswith("restore_drill_queue_depth")], \
        "the queue depth is the scheduler's to serve, once"
    assert metrics['restore_drill_phase_seconds_count{phase="restore"}'] == passed


def test_a_worker_killed_mid_restore_has_its_drill_redelivered_completed_once_and_its_container_reaped(fleet):
    sites = fleet({SITE: "healthy"})
    first = sites.start_worker()
    (sent,) = sites.enqueue_all()
    sites.wait_for(drill_containers, 60, "the restore container")
    first.send_signal(signal.SIGKILL)
    first.wait()
    orphan = drill_containers()
    assert orphan, "the killed worker left its container behind"
    sites.start_worker()
    reports = sites.wait_for(lambda: sites.reports(), 120, "the redelivered drill's report")
    time.sleep(2)
    reports = sites.reports()
    assert [(requested(r), r["outcome"]) for r in reports] == [(sent["drill_id"], "pass")], "exactly one final report"
    assert reports[0]["drill_id"] != sent["drill_id"], "the redelivered attempt has an id of its own"
    sites.wait_for(lambda: not set(orphan) & set(drill_containers()), 60, "the orphan to be reaped")


def test_sigterm_during_a_drill_removes_its_container_reports_it_interrupted_and_requeues_it(fleet, redis_client):
    sites = fleet({SITE: "healthy"})
    worker = sites.start_worker()
    (sent,) = sites.enqueue_all()
    sites.wait_for(drill_containers, 60, "the restore container")
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(90) == 0
    assert drill_containers() == [], "no container left by the interrupted drill"
    assert [(r["drill_id"], r["outcome"], r["reason"]) for r in sites.reports()] == \
        [(sent["drill_id"], "error", "error.interrupted")]
    assert redis_client.llen("restore-drill:drills-now") == 1, "the interrupted drill is queued again"
    sites.start_worker()
    final = sites.wait_for(lambda: len(sites.reports()) == 2 and sites.reports(), 120, "the re-run")
    assert (final[1]["attempt_of"], final[1]["outcome"]) == (sent["drill_id"], "pass")
    assert final[1]["drill_id"] != sent["drill_id"], "each attempt its own id"
    assert sites.drill("verify-chain", "--all").returncode == 0, "a retry is not a replay"


def test_redis_restarted_mid_run_loses_no_drill_and_leaves_none_running_or_wrongly_green(
        fleet, redis_server, redis_client):
    sites = fleet({**{f"pharmacie-{n:02d}": "healthy" for n in range(5)}, "pharmacie-abimee": "corrupt-dump"})
    sites.start_worker()
    sites.start_worker()
    sent = sites.enqueue_all()
    sites.wait_for(lambda: len(sites.reports()) >= 1, 120, "a first report")
    redis_server.restart(down_seconds=2)
    concluded = lambda: [r for r in sites.reports() if r["outcome"] != "error"]  # noqa: E731
    reports = sites.wait_for(lambda: len(set(map(requested, concluded()))) >= len(sent) and concluded(),
                             300, "every drill concluded after the restart")
    final = {requested(r): r for r in reports}
    assert set(final) == {s["drill_id"] for s in sent}, "no drill lost"
    assert sorted(map(requested, reports)) == sorted(s["drill_id"] for s in sent), "each concluded exactly once"
    assert all(r["outcome"] == "pass" for r in final.values() if r["site"] != "pharmacie-abimee")
    assert final[next(s["drill_id"] for s in sent if s["site"] == "pharmacie-abimee")]["outcome"] == "fail", \
        "the bad backup is never reported green"
    sites.wait_for(lambda: not list(redis_client.scan_iter("restore-drill:lease:*")), 30, "no lease left")
    from drills.catalog import load_catalog
    from workers import alerts

    assert alerts.report_lost(load_catalog(sites.catalog), redis_client, datetime.now(timezone.utc), 0) == []
    assert redis_client.hlen("restore-drill:pending") == 0, "every enqueued drill concluded, its report says so"


def test_redis_frozen_longer_than_the_leases_never_doubles_a_site_and_loses_no_drill(fleet, redis_server, redis_client):
    """Two workers (two threads each), three sites each enqueued twice (the second waits on the
    busy site's lease), Redis frozen (SIGSTOP) for 15 s with 6 s leases, then a worker killed
    and a replacement started: never two attempts of one site at once, every drill concluded
    once, nothing left pending."""
    sites = fleet({f"pharmacie-{n}": "healthy" for n in range(3)})
    env = {"DRILL_LEASE_SECONDS": "6", "DRILL_WORKER_THREADS": "2"}
    first, _ = sites.start_worker(**env), sites.start_worker(**env)
    sent = sites.enqueue_all() + sites.enqueue_all()
    sites.wait_for(drill_containers, 60, "a restore container")
    os.kill(redis_server.process.pid, signal.SIGSTOP)
    try:
        time.sleep(15)
    finally:
        os.kill(redis_server.process.pid, signal.SIGCONT)
    first.kill()
    first.wait()
    sites.start_worker(**env)
    concluded = lambda: [r for r in sites.reports() if r["outcome"] != "error"]  # noqa: E731
    reports = sites.wait_for(lambda: len(concluded()) >= len(sent) and sites.reports(), 300, "every drill concluded")
    assert sorted(map(requested, concluded())) == sorted(s["drill_id"] for s in sent), "each drill concluded once"
    for site in {r["site"] for r in reports}:
        spans = sorted((moment(r["started_at"]), moment(r["finished_at"])) for r in reports if r["site"] == site)
        assert all(end <= start for (_, end), (start, _) in zip(spans, spans[1:])), f"two attempts of {site} at once"
    from drills.catalog import load_catalog
    from workers import alerts

    assert alerts.report_lost(load_catalog(sites.catalog), redis_client, datetime.now(timezone.utc), 0) == []
    assert redis_client.hlen("restore-drill:pending") == 0, "nothing left pending"


def test_drill_now_goes_ahead_of_scheduled_drills(fleet):
    sites = fleet({f"pharmacie-{n:02d}": "healthy" for n in range(6)})
    send_scheduled = ("from workers.actors import scheduled_drill\n"
                      "for n in range(5): scheduled_drill.send(f'pharmacie-{n:02d}', f'20261201T020000Z-0000000{n}')")
    subprocess.run([sys.executable, "-c", send_scheduled], env=sites.env, cwd=PROJECT, check=True, timeout=60)
    (now,) = json.loads(sites.drill("enqueue", "pharmacie-05", "--json").stdout)
    sites.start_worker()
    reports = sites.wait_for(lambda: len(sites.reports()) == 6 and sites.reports(), 240, "six reports")
    order = [requested(r) for r in sorted(reports, key=lambda r: r["started_at"])]
    assert now["drill_id"] in order[:2], f"the drill-now ran {order.index(now['drill_id']) + 1}th of 6"


def test_an_infrastructure_error_is_retried_up_to_the_limit_and_a_bad_backup_never_is(fleet):
    sites = fleet({"pharmacie-demontee": "healthy", "pharmacie-vide": "healthy"})
    shutil.rmtree(sites.directory / "backups" / "pharmacie-demontee")  # the share is not mounted: error.source
    for file in (sites.directory / "backups" / "pharmacie-vide").iterdir():  # nothing delivered: backup.missing
        file.unlink()
    sites.start_worker(DRILL_MAX_RETRIES="2")
    sites.enqueue_all()
    sites.wait_for(lambda: len(sites.reports()) >= 4, 120, "1 + 2 retries of the error, 1 fail")
    time.sleep(4)  # past the largest backoff: nothing more may come
    reasons = sorted((r["site"], r["reason"]) for r in sites.reports())
    assert reasons == [("pharmacie-demontee", "error.source")] * 3 + [("pharmacie-vide", "backup.missing")]


def test_waits_on_a_busy_site_do_not_spend_a_drills_retries(fleet, redis_client):
    """The site's lease held elsewhere for about three busy waits, then an infrastructure error:
    the drill still gets its one retry (DRILL_MAX_RETRIES=1), two attempts in all."""
    sites = fleet({"pharmacie-demontee": "healthy"})
    shutil.rmtree(sites.directory / "backups" / "pharmacie-demontee")  # the share is not mounted: error.source
    redis_client.set("restore-drill:lease:pharmacie-demontee", "another-drill", px=10_000)
    sites.start_worker(DRILL_MAX_RETRIES="1")
    sites.enqueue_all()
    sites.wait_for(lambda: len(sites.reports()) >= 2, 120, "the first attempt and its retry")
    time.sleep(4)  # past the largest backoff: nothing more may come
    assert [r["reason"] for r in sites.reports()] == ["error.source"] * 2
    assert (sites.directory / "worker-0.log").read_text().count("site busy") >= 2


def test_a_drill_delivered_again_after_it_concluded_is_dropped_not_run_twice(fleet):
    """At-least-once delivery (a reply lost, a worker thought dead) can hand out a drill twice:
    the second delivery finds it concluded and runs nothing."""
    sites = fleet({SITE: "healthy"})
    (sent,) = sites.enqueue_all()
    again = f"from workers.actors import drill_now\ndrill_now.send('{SITE}', '{sent['drill_id']}')"
    subprocess.run([sys.executable, "-c", again], env=sites.env, cwd=PROJECT, check=True, timeout=60)
    sites.start_worker()
    log = sites.directory / "worker-0.log"
    sites.wait_for(lambda: "drill already concluded" in log.read_text(), 120, "the second delivery dropped")
    assert [requested(r) for r in sites.reports()] == [sent["drill_id"]], "one report, one conclusion"


def test_queue_messages_naming_no_site_or_no_drill_are_refused_and_the_worker_goes_on(fleet):
    sites = fleet({SITE: "healthy"})
    sites.start_worker()
    hostile = ("from workers.actors import drill_now\n"
               "drill_now.send('../../etc', '20261201T020000Z-00000001')\n"
               f"drill_now.send('{SITE}', '../../run/restore-drill/x')")
    subprocess.run([sys.executable, "-c", hostile], env=sites.env, cwd=PROJECT, check=True, timeout=60)
    (sent,) = sites.enqueue_all()
    sites.wait_for(lambda: sites.reports(), 120, "the valid drill's report")
    time.sleep(2)
    assert [requested(r) for r in sites.reports()] == [sent["drill_id"]], "only the valid message became a drill"
    assert (sites.directory / "worker-0.log").read_text().count("message refused") == 2


def test_a_worker_anchors_the_audit_journal_when_the_scheduler_asks(fleet):
    sites = fleet({SITE: "healthy"})
    AuditJournal(sites.directory / "evidence").record("report.viewed", "marie", site=SITE, sequence=1)
    subprocess.run([sys.executable, "-c", "from workers.actors import anchor_journal; anchor_journal.send()"],
                   env=sites.env, cwd=PROJECT, check=True, timeout=60)
    sites.start_worker()
    (anchor,) = sites.wait_for(lambda: anchors.anchor_paths(sites.directory / "evidence"), 60, "the anchor")
    assert json.loads(anchor.read_bytes())["lines"] == AuditJournal(sites.directory / "evidence").count()
    assert sites.drill("audit", "verify").returncode == 0


def test_a_worker_drills_a_named_backup_and_runs_the_finder_an_operator_asks_for(fleet):
    from drills.demo.catalog import flip_byte

    sites = fleet({SITE: "healthy"})
    folder = sites.directory / "backups" / SITE
    tonight = folder / "tonight.dump.age"  # delivered after the healthy one, damaged in transit
    shutil.copyfile(folder / "healthy.dump.age", tonight)
    shutil.copyfile(folder / "healthy.dump.age.manifest.json", folder / "tonight.dump.age.manifest.json")
    flip_byte(tonight, tonight.stat().st_size // 2)
    sites.start_worker()
    (named,) = json.loads(sites.drill("enqueue", SITE, "--backup", "healthy.dump.age", "--json").stdout)
    (report,) = sites.wait_for(lambda: sites.reports(), 120, "the named drill's report")
    assert (report["drill_id"], report["requested_backup"], report["outcome"]) == \
        (named["drill_id"], "healthy.dump.age", "pass")
    assert sites.drill("enqueue", SITE, "--restorable", "--json").returncode == 0
    answers = sites.directory / "evidence" / ".recovery-points" / SITE
    (answer,) = sites.wait_for(lambda: sorted(answers.glob("*.json")), 180, "the finder's answer")
    found = json.loads(answer.read_text())
    assert found["found"]["backup"] == "healthy.dump.age"
    assert [(t["backup"], t["outcome"], t["reason"], t["reused"]) for t in found["tried"]] == \
        [("tonight.dump.age", "fail", "decrypt.corrupt", False), ("healthy.dump.age", "pass", None, True)]
    assert len(sites.reports()) == 2 and sites.drill("verify-chain", SITE).returncode == 0
