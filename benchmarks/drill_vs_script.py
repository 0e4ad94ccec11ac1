"""The drill against what a technician would do by hand, on the same 1 GB file in the same run:
the full drill against the technician's script, our decryption against the `age` CLI, and the
drill's checks against one `psql count(*)` per table.

The technician's script starts the same image the same way, pipes `age -d -i KEY backup` into
`pg_restore`, then runs one `psql count(*)` per table. Drill and script alternate, `--repeat`
times, each timed from the start to verified counts (teardown excluded); the drill runs as
`drill run` in its own process. The figures go to docs/benchmarks.md.

    python -m benchmarks.drill_vs_script [--size "1 GB"] [--repeat 2]
"""

import argparse
import io
import secrets
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

from benchmarks.backups import SIZES, Backup, cached_backup, drill, drill_catalog
from benchmarks.results import record
from drills.catalog import load_catalog
from drills.engines.postgres import DEFAULT_POSTGRES_IMAGE
from drills.crypto import age
from drills.crypto.identities import identities_from
from drills.engines import postgres
from drills.runtimes.docker import DRILL_LABEL
from drills.streams import Meter
from drills.workdir import make_work_dir

CONNECT = "-h /run/drill -U postgres"


def technician_scripts(backup: Backup, container: str, socket_dir: Path) -> tuple[str, str]:
    """(restore, count): what a careful technician writes by hand, in the same image started the
    same way; the counts are a second script so that they are timed on their own."""
    memory = backup.memory_needed()
    site = SimpleNamespace(id="technician", engine=SimpleNamespace(image=DEFAULT_POSTGRES_IMAGE, tmpfs=memory,
                                                                   memory=memory))
    spec = postgres.container_spec(site, "technician", str(socket_dir))
    tmpfs = " ".join(f"--tmpfs {shlex.quote(path + ':' + options)}" for path, options in spec.tmpfs.items())
    restore = f"""set -euo pipefail
docker run -d --name {container} --network none --user 999:999 --read-only {tmpfs} -v {socket_dir}:/run/drill \\
    --label {DRILL_LABEL}=technician {DEFAULT_POSTGRES_IMAGE} sh -c {shlex.quote(spec.command[-1])} >/dev/null
until docker exec {container} pg_isready -q {CONNECT}; do sleep 0.1; done
docker exec {container} createdb {CONNECT} restore
age -d -i {backup.identity} {backup.path} | docker exec -i {container} pg_restore --exit-on-error --no-owner {CONNECT} -d restore
"""
    count = "set -euo pipefail\n" + "\n".join(
        f"docker exec {container} psql -X -At {CONNECT} -d restore -c {shlex.quote(f'SELECT count(*) FROM {table}')}"
        for table in backup.tables)
    return restore, count


def script_once(backup: Backup) -> dict:
    container = f"technician-{secrets.token_hex(4)}"
    socket_dir = make_work_dir(container)
    restore, count = technician_scripts(backup, container, socket_dir)
    try:
        started = time.perf_counter()
        subprocess.run(["bash", "-c", restore], check=True, stdout=subprocess.DEVNULL)
        restored = time.perf_counter()
        subprocess.run(["bash", "-c", count], check=True, stdout=subprocess.DEVNULL)
        return {"seconds": time.perf_counter() - started, "count_seconds": time.perf_counter() - restored}
    finally:
        subprocess.run(["docker", "rm", "-f", "-v", container], capture_output=True)
        subprocess.run(["rm", "-rf", str(socket_dir)])


def age_cli_seconds(backup: Backup) -> float:
    started = time.perf_counter()
    subprocess.run(["age", "-d", "-i", str(backup.identity), "-o", "/dev/null", str(backup.path)], check=True)
    return time.perf_counter() - started


def our_decryption_seconds(backup: Backup, identities: list, hashed: bool) -> float:
    """Our decoder over the same file; `hashed`: as in a drill, the ciphertext's sha256 too."""
    started = time.perf_counter()
    raw = Meter(open(backup.path, "rb", buffering=0)) if hashed else open(backup.path, "rb", buffering=0)
    with io.BufferedReader(raw, buffer_size=1024 * 1024) as ciphertext:
        for _ in age.decrypt(ciphertext, identities):
            pass
    return time.perf_counter() - started


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    options.add_argument("--size", choices=SIZES, default="1 GB")
    options.add_argument("--repeat", type=int, default=2)
    arguments = options.parse_args()
    backup = cached_backup(arguments.size)
    drills, scripts, decryption = [], [], {"age": [], "ours": [], "ours, hashing": []}
    with tempfile.TemporaryDirectory(prefix="bench-") as workdir:
        catalog = drill_catalog(Path(workdir), backup)
        identities = identities_from(load_catalog(catalog).sites[0].decrypt)
        for round_number in range(1, arguments.repeat + 1):
            scripts.append(script_once(backup))
            print(f"bench: round {round_number}: technician's script {scripts[-1]['seconds']:.1f} s", flush=True)
            drills.append(drill(catalog))
            print(f"bench: round {round_number}: drill {drills[-1]['seconds']:.1f} s {drills[-1]['phases']}", flush=True)
            decryption["age"].append(age_cli_seconds(backup))
            decryption["ours"].append(our_decryption_seconds(backup, identities, hashed=False))
            decryption["ours, hashing"].append(our_decryption_seconds(backup, identities, hashed=True))
            print(f"bench: round {round_number}: decryption " +
                  ", ".join(f"{name} {seconds[-1]:.2f} s" for name, seconds in decryption.items()), flush=True)
    write_results(arguments, backup, drills, scripts, decryption)
    return 0


def write_results(arguments, backup: Backup, drills: list[dict], scripts: list[dict], decryption: dict) -> None:
    median = statistics.median
    drill_seconds, script_seconds = median(d["seconds"] for d in drills), median(s["seconds"] for s in scripts)
    verify_seconds = median(d["phases"]["verify"] for d in drills)
    count_seconds = median(s["count_seconds"] for s in scripts)
    phases = {phase: median(d["phases"][phase] for d in drills) for phase in drills[0]["phases"]}
    mb = backup.size / 1e6
    age_speed, our_speed, hashing_speed = (mb / min(seconds) for seconds in decryption.values())
    record(f"Drill against the technician's script ({arguments.size})",
           f"python -m benchmarks.drill_vs_script --size '{arguments.size}' --repeat {arguments.repeat}", [
               "| measure | value |", "|---|---|",
               f"| backup | {mb:,.0f} MB custom-format dump (--compress=0), age-encrypted, "
               f"{backup.patients:,} patients |",
               f"| full drill, fetch to verified, all checks (median of {len(drills)}) | {drill_seconds:.1f} s |",
               f"| technician's script: age -d \\| pg_restore, psql count(*) per table (median of {len(scripts)}) "
               f"| {script_seconds:.1f} s |",
               f"| **ratio drill / script** (goal <= 1.0) | **{drill_seconds / script_seconds:.2f}** |",
               f"| decryption alone: `age -d` CLI (best of {len(decryption['age'])}) | {age_speed:,.0f} MB/s |",
               f"| decryption alone: ours (best of {len(decryption['ours'])}) | {our_speed:,.0f} MB/s |",
               f"| **throughput ratio ours / age** (goal >= 0.9) | **{our_speed / age_speed:.2f}** |",
               f"| ours with the ciphertext's sha256, as in a drill | {hashing_speed:,.0f} MB/s |",
               f"| the drill's checks (verify phase: exact counts, manifest, freshness; median) | {verify_seconds:.2f} s |",
               f"| one `psql count(*)` per table, {len(backup.tables)} tables (median) | {count_seconds:.2f} s |",
               f"| **ratio checks / psql counts** (goal < 1.5) | **{verify_seconds / count_seconds:.2f}** |",
               "| drill phases (median s) | " + ", ".join(f"{p} {s:.2f}" for p, s in phases.items()) + " |",
           ])


if __name__ == "__main__":
    sys.exit(main())
