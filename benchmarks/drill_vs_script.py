"""A full drill against the shell pipeline a technician would write, same file, same run.

The technician's script: start the same image the same way, `age -d -i KEY backup |
pg_restore` into it, then one `psql count(*)` per table. Both are timed from the start to the
verified counts (teardown excluded), alternately, `--repeat` times. The figures go to
docs/benchmarks.md with the command, the date and the machine.

    python -m benchmarks.drill_vs_script [--patients 650000] [--repeat 2]
"""

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from drills.catalog import load_catalog
from drills.catalog.schema import DEFAULT_POSTGRES_IMAGE
from drills.demo.catalog import ensure_age_identity
from drills.demo.seed import SourceDatabase, seal
from drills.engines import postgres
from drills.pipeline import run_drill
from drills.workdir import make_work_dir
from drills.reports import keys
from drills.runtimes.docker import DRILL_LABEL
from benchmarks.results import record

CACHE = Path(os.environ.get("DRILL_CACHE_DIR", Path.home() / ".cache" / "restore-drill")) / "bench"
SITE = "pharmacie-bench"
ENGINE = {"type": "postgres", "format": "custom", "tmpfs": "8g", "memory": "10g"}


def cached_backup(patients: int) -> tuple[Path, Path]:
    """(backup, identity): a custom-format dump of the demo pharmacy, made once and cached."""
    identity = CACHE / "bench.agekey"
    recipient = ensure_age_identity(identity)
    backup = CACHE / f"{SITE}-{patients}.dump.age"
    if not backup.exists():
        print(f"bench: generating the dump of {patients:,} patients (cached for later runs)", flush=True)
        started = time.perf_counter()
        with SourceDatabase(patients=patients, at_scale=True) as source:  # rows made by the server: minutes, not hours
            partial = backup.with_name(backup.name + ".partial")
            seal(source, recipient, partial, SITE)
            partial.with_name(partial.name + ".manifest.json").rename(backup.with_name(backup.name + ".manifest.json"))
            partial.rename(backup)
        print(f"bench: dump made in {time.perf_counter() - started:.0f} s", flush=True)
    return backup, identity


def drill_once(workdir: Path, backup: Path, identity: Path, jobs: int) -> dict:
    source = workdir / "source"
    source.mkdir(exist_ok=True)
    for file in (backup, backup.with_name(backup.name + ".manifest.json")):
        target = source / file.name
        if not target.exists():
            os.link(file, target)
    catalog_path = workdir / "catalog.yaml"
    catalog_path.write_text(yaml.safe_dump({"evidence": "evidence/", "signing_key": "keys/signing.ed25519", "sites": [{
        "id": SITE, "name": "Bench", "tenant": "bench", "source": {"type": "local", "path": str(source),
                                                                   "pattern": "*.dump.age"},
        "decrypt": {"identity_file": str(identity)}, "engine": {**ENGINE, "jobs": jobs},
        "checks": {"manifest": "required"}, "targets": {"rto": "1h", "rpo": "1000d"}}]}))
    if not (workdir / "keys" / "signing.ed25519").exists():
        keys.init(workdir / "keys" / "signing.ed25519")
    catalog = load_catalog(catalog_path)
    report = run_drill(catalog, catalog.sites[0]).report
    assert report["outcome"] == "pass", report["findings"]
    return {"seconds": report["rto_seconds"], "phases": report["phases"]}


def technician_script(backup: Path, identity: Path, tables: list[str], socket_dir: Path) -> str:
    """What a careful technician writes by hand, in the same image started the same way."""
    spec = postgres.container_spec(bench_site(), "technician", str(socket_dir))
    tmpfs = " ".join(f"--tmpfs {shlex.quote(path + ':' + options)}" for path, options in spec.tmpfs.items())
    counts = "\n".join(f'docker exec "$c" psql -X -At -h /run/drill -U postgres -d restore '
                       f'-c {shlex.quote(f"SELECT count(*) FROM {table}")}' for table in tables)
    return f"""set -euo pipefail
c=$(docker run -d --network none --user 999:999 --read-only {tmpfs} -v {socket_dir}:/run/drill \\
    --label {DRILL_LABEL}=technician {DEFAULT_POSTGRES_IMAGE} sh -c {shlex.quote(spec.command[-1])})
until docker exec "$c" pg_isready -q -h /run/drill -U postgres; do sleep 0.1; done
docker exec "$c" createdb -h /run/drill -U postgres restore
age -d -i {identity} {backup} | docker exec -i "$c" pg_restore --exit-on-error --no-owner -h /run/drill -U postgres -d restore
{counts}
"""


def bench_site():
    from types import SimpleNamespace

    engine = SimpleNamespace(image=DEFAULT_POSTGRES_IMAGE, tmpfs=8 * 1024**3, memory=10 * 1024**3)
    return SimpleNamespace(id=SITE, engine=engine)


def script_once(backup: Path, identity: Path, tables: list[str]) -> dict:
    socket_dir = make_work_dir(f"technician-{os.getpid()}-{time.time_ns()}")
    script = technician_script(backup, identity, tables, socket_dir)
    started = time.perf_counter()
    try:
        subprocess.run(["bash", "-c", script], check=True, stdout=subprocess.DEVNULL)
        return {"seconds": time.perf_counter() - started}
    finally:
        subprocess.run(["bash", "-c", f"docker rm -f -v $(docker ps -aq --filter label={DRILL_LABEL}=technician)"],
                       capture_output=True)
        subprocess.run(["rm", "-rf", str(socket_dir)])


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    options.add_argument("--patients", type=int, default=650_000)
    options.add_argument("--repeat", type=int, default=2)
    options.add_argument("--jobs", type=int, default=1, help="the drill's engine.jobs (parallel pg_restore)")
    arguments = options.parse_args()
    backup, identity = cached_backup(arguments.patients)
    tables = sorted(json.loads(backup.with_name(backup.name + ".manifest.json").read_text())["tables"])
    drills, scripts = [], []
    with tempfile.TemporaryDirectory(prefix="bench-") as workdir:
        for round_number in range(1, arguments.repeat + 1):
            scripts.append(script_once(backup, identity, tables))
            print(f"bench: round {round_number}: technician's script {scripts[-1]['seconds']:.1f} s", flush=True)
            drills.append(drill_once(Path(workdir), backup, identity, arguments.jobs))
            print(f"bench: round {round_number}: drill {drills[-1]['seconds']:.1f} s {drills[-1]['phases']}", flush=True)
    write_results(arguments, backup, drills, scripts)
    return 0


def write_results(arguments, backup: Path, drills: list[dict], scripts: list[dict]) -> None:
    drill_median = statistics.median(d["seconds"] for d in drills)
    script_median = statistics.median(s["seconds"] for s in scripts)
    phases = {phase: statistics.median(d["phases"][phase] for d in drills) for phase in drills[0]["phases"]}
    size_mb = backup.stat().st_size / 1e6
    record(f"Drill against the technician's script (engine.jobs {arguments.jobs})",
           f"python -m benchmarks.drill_vs_script --patients {arguments.patients} --repeat {arguments.repeat} "
           f"--jobs {arguments.jobs}", [
               "| measure | value |", "|---|---|",
               f"| backup | {size_mb:.0f} MB custom-format dump, age-encrypted ({arguments.patients:,} patients) |",
               f"| full drill, fetch to verified (median of {len(drills)}) | {drill_median:.1f} s |",
               f"| technician's script, same file, same run (median of {len(scripts)}) | {script_median:.1f} s |",
               f"| **ratio drill / script** | **{drill_median / script_median:.2f}** |",
               f"| drill throughput | {size_mb / drill_median:.1f} MB/s of backup |",
               "| drill phases (median s) | " + ", ".join(f"{p} {s:.2f}" for p, s in phases.items()) + " |",
           ])


if __name__ == "__main__":
    sys.exit(main())
