"""Stopping a drill that is stuck where Python cannot raise: DuckDB counting a restored view that
sleeps for an hour. Ctrl-C and SIGTERM of `drill run`, and SIGTERM of a worker, end the drill
with its report (`error.interrupted`), its container and work directory gone. Deterministic:
the signal is sent only once the drill is in its verify phase, which then waits for ever."""

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import DRILL, PROJECT, drill_command, site_entry, write_catalog
from tests.integration.conftest import SITE

HANGING_VIEW = b"CREATE VIEW public.lente AS SELECT 1 AS x FROM pg_sleep(3600);\n"


@pytest.fixture
def hanging(tmp_path, backups, keys_dir, docker_engine):
    """A catalog whose one site's backup restores a view that sleeps, named by its SQL check."""
    identity = keys_dir["dir"] / "drill.agekey"
    source = backups["plain-gzip"]
    sql = gzip.decompress(subprocess.run(["age", "-d", "-i", str(identity)], input=source.read_bytes(),
                                         capture_output=True, check=True).stdout)
    folder = tmp_path / "backups"
    folder.mkdir()
    subprocess.run(["age", "-r", keys_dir["recipient"], "-o", str(folder / "lgo.sql.age")], input=sql + HANGING_VIEW,
                   check=True)
    (folder / "lgo.sql.age.manifest.json").write_text(source.with_name(source.name + ".manifest.json").read_text())
    entry = site_entry(SITE, folder, identity, engine={"format": "plain"},
                       checks={"sql": [{"name": "hangs", "query": "SELECT count(*) FROM public.lente", "expect": 1}]})
    catalog = write_catalog(tmp_path, [entry])
    assert drill_command("keys", "init", "--catalog", str(catalog)).returncode == 0
    return catalog


def wait_until_stuck_on_the_view(seconds: float = 120) -> None:
    """Until the restored server runs the verifier's query of the sleeping view: the drill is then
    blocked inside DuckDB, where Python cannot raise."""
    deadline = time.monotonic() + seconds
    query = "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%lente%' AND pid <> pg_backend_pid()"
    while time.monotonic() < deadline:
        containers = subprocess.run(["docker", "ps", "-q", "--filter", f"label=io.restore-drill.site={SITE}"],
                                    capture_output=True, text=True).stdout.split()
        if containers:
            seen = subprocess.run(["docker", "exec", containers[0], "psql", "-X", "-At", "-h", "/run/drill", "-U",
                                   "postgres", "-d", "restore", "-c", query], capture_output=True, text=True).stdout
            if seen.strip() not in ("", "0"):
                return
        time.sleep(0.2)
    pytest.fail(f"the verifier did not reach the sleeping view within {seconds} s")


def only_report(catalog: Path) -> dict:
    (path,) = sorted((catalog.parent / "evidence" / SITE).glob("[0-9]*-*.json"))
    return json.loads(path.read_bytes())


@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_signal_stops_a_drill_stuck_in_its_verifier_and_it_still_reports(hanging, number):
    process = subprocess.Popen([*DRILL, "run", SITE, "--catalog", str(hanging)], cwd=PROJECT, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_until_stuck_on_the_view()
    process.send_signal(number)
    stdout, _ = process.communicate(timeout=60)
    assert process.returncode == 2, stdout
    report = only_report(hanging)
    assert (report["outcome"], report["reason"]) == ("error", "error.interrupted")
    assert report["phases"]["verify"] > 0


def test_a_worker_told_to_stop_ends_a_stuck_drill_reports_it_and_queues_it_again(hanging, redis_server, redis_client):
    env = {**os.environ, "DRILL_REDIS_URL": redis_server.url, "DRILL_CATALOG": str(hanging),
           "DRILL_WORKER_THREADS": "1"}
    log = hanging.parent / "worker.log"
    with open(log, "w") as output:
        worker = subprocess.Popen([sys.executable, "-m", "drills.cli", "worker"], env=env, cwd=PROJECT,
                                  stdout=output, stderr=subprocess.STDOUT)
    try:
        assert drill_command("enqueue", SITE, env=env).returncode == 0
        wait_until_stuck_on_the_view()
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(60) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
    report = only_report(hanging)
    assert (report["outcome"], report["reason"]) == ("error", "error.interrupted")
    assert redis_client.llen("restore-drill:drills-now") == 1, "the interrupted drill is queued again"
