"""Small drills through the queue against `drill run`, same backups, same run.

N sites over a small demo backup (2,000 patients): first drilled one after the other with
`drill run --all` (in-process), then enqueued at once and drained by one `drill worker` (one
thread) on a Redis started on loopback. Gives the throughput per hour of one worker and the
overhead of the queue path as a ratio.

    python -m benchmarks.queue_path [--sites 20]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from benchmarks.backups import cached_backup
from benchmarks.results import record

PROJECT = Path(__file__).parents[1]
PORT = 16380


def catalog_for(directory: Path, backup: Path, identity: Path, count: int) -> Path:
    sites = []
    manifest = json.loads(backup.with_name(backup.name + ".manifest.json").read_text())
    for n in range(count):
        site_id = f"pharmacie-{n:03d}"
        folder = directory / "backups" / site_id
        folder.mkdir(parents=True)
        os.link(backup, folder / backup.name)
        (folder / (backup.name + ".manifest.json")).write_text(json.dumps({**manifest, "site": site_id}))
        sites.append({"id": site_id, "name": site_id, "tenant": "bench",
                      "source": {"type": "local", "path": str(folder), "pattern": "*.dump.age"},
                      "decrypt": {"identity_file": str(identity)}, "engine": {"type": "postgres"},
                      "checks": {"manifest": "required"}, "targets": {"rto": "1h", "rpo": "1000d"}})
    path = directory / "catalog.yaml"
    path.write_text(yaml.safe_dump({"evidence": "evidence/", "signing_key": "keys/signing.ed25519", "sites": sites}))
    return path


def reports(directory: Path) -> int:
    return len(list((directory / "evidence").glob("[!.]*/[0-9]*-*.json")))


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    options.add_argument("--sites", type=int, default=20)
    arguments = options.parse_args()
    small = cached_backup("2.5 MB")  # about 2,000 patients
    backup, identity = small.path, small.identity
    with tempfile.TemporaryDirectory(prefix="bench-queue-") as workdir:
        directory = Path(workdir)
        catalog = catalog_for(directory, backup, identity, arguments.sites)
        env = {**os.environ, "DRILL_CATALOG": str(catalog), "DRILL_REDIS_URL": f"redis://127.0.0.1:{PORT}/0",
               "DRILL_WORKER_THREADS": "1"}
        drill = [sys.executable, "-m", "drills.cli"]
        subprocess.run([*drill, "keys", "init"], env=env, cwd=PROJECT, check=True, capture_output=True)

        started = time.perf_counter()
        subprocess.run([*drill, "run", "--all", "--json"], env=env, cwd=PROJECT, capture_output=True)
        in_process = time.perf_counter() - started
        assert reports(directory) == arguments.sites

        redis = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(PORT), "--save", "",
                                  "--dir", workdir], stdout=subprocess.DEVNULL)
        worker = None
        try:
            time.sleep(0.5)
            worker = subprocess.Popen([*drill, "worker"], env=env, cwd=PROJECT, stderr=subprocess.DEVNULL)
            time.sleep(3)  # the worker's start-up (imports, reaper pass) is not part of a drill
            started = time.perf_counter()
            subprocess.run([*drill, "enqueue", "--all"], env=env, cwd=PROJECT, check=True, capture_output=True)
            deadline = time.monotonic() + 60 * arguments.sites
            while reports(directory) < 2 * arguments.sites and time.monotonic() < deadline:
                time.sleep(0.05)
            queued = time.perf_counter() - started
            assert reports(directory) == 2 * arguments.sites, "the worker did not drain the queue"
        finally:
            if worker:
                worker.terminate()
                worker.wait(60)
            redis.terminate()
    record("Queue path and small-drill throughput", f"python -m benchmarks.queue_path --sites {arguments.sites}", [
        "| measure | value |", "|---|---|",
        f"| {arguments.sites} small drills (2,000-patient pharmacy, {backup.stat().st_size / 1e6:.1f} MB), "
        f"`drill run --all` | {in_process:.1f} s |",
        f"| the same, enqueued and drained by one worker (1 thread) | {queued:.1f} s |",
        f"| **queue path / in-process** | **{queued / in_process:.2f}** |",
        f"| small-drill throughput of one worker | {3600 * arguments.sites / queued:.0f} drills/hour |",
    ])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
