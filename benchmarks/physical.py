"""The same 1 GB demo pharmacy drilled two ways, alternating, in the same run: from its custom dump
(pg_dump -Fc, age-encrypted: what most sites ship) and from a pgBackRest repository holding a full
backup of the very database the dump was restored into (a physical restore then a WAL replay,
amcheck --heapallindexed, the same row counts checked). Each drill is `drill run` in its own
process: seconds from fetch to verified data (the RTO) and the process's peak RSS.

The repository is made once and cached beside the dump (encrypted by pgBackRest): a live cluster
(tests/integration/live_cluster.py, the one the physical tests use) restores the dump, archives its
WAL and takes the full backup.

    python -m benchmarks.physical [--repeat 3]
"""

import argparse
import json
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path

import yaml

from benchmarks.backups import CACHE, GIB, SITE, Backup, cached_backup, drill, drill_catalog
from benchmarks.results import record
from drills.reports import keys
from tests.integration.live_cluster import PASSPHRASE, STANZA, LiveCluster


def cached_repository(backup: Backup) -> Path:
    """A pgBackRest repository holding one full backup of the dump's database, made once."""
    made = CACHE / f"pgbackrest-{backup.patients}"
    if (made / "repo" / "backup" / STANZA / "backup.info").exists():
        return made / "repo"
    shutil.rmtree(made, ignore_errors=True)
    print("bench: restoring the dump into a live cluster and taking a pgBackRest full backup", flush=True)
    live = LiveCluster(made)
    try:
        decrypt = subprocess.Popen(["age", "-d", "-i", str(backup.identity), str(backup.path)], stdout=subprocess.PIPE)
        subprocess.run(["docker", "exec", "-i", live.name, "pg_restore", "--no-owner", "--exit-on-error", "-h",
                        "/run/live", "-U", "postgres", "-d", "officine"], stdin=decrypt.stdout, check=True)
        assert decrypt.wait() == 0
        live.sql("CHECKPOINT")
        live.pgbackrest("--type=full", "--process-max=2", "backup")
        live.archived()
    finally:
        live.remove()
    return made / "repo"


def physical_catalog(directory: Path, backup: Backup, repo: Path, amcheck: str) -> Path:
    """One site drilling the repository, checking the dump manifest's row counts as bounds."""
    if not (directory / "keys" / "signing.ed25519").exists():
        keys.init(directory / "keys" / "signing.ed25519")
    secret = directory / "repo.pass"
    secret.write_text(PASSPHRASE)
    secret.chmod(0o600)
    counts = json.loads(backup.path.with_name(backup.path.name + ".manifest.json").read_text())["tables"]
    memory = backup.memory_needed()
    catalog = directory / "catalog.yaml"
    catalog.write_text(yaml.safe_dump({"evidence": "evidence/", "signing_key": "keys/signing.ed25519", "sites": [{
        "id": SITE, "name": "Bench", "tenant": "bench",
        "source": {"type": "local", "path": str(repo), "pattern": "*"},
        "decrypt": {"passphrase_file": str(secret)},
        "engine": {"type": "postgres", "format": "pgbackrest", "stanza": STANZA, "database": "officine", "jobs": 2, "amcheck": amcheck,
                   "tmpfs": f"{memory // GIB}g", "memory": f"{2 * memory // GIB + 1}g", "timeout": "2h"},
        "checks": {"manifest": "optional", "tables": {name: {"min": rows, "max": rows} for name, rows in counts.items()}},
        "targets": {"rto": "2h", "rpo": "1000d"}}]}))
    return catalog


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    arguments = parser.parse_args()
    backup = cached_backup("1 GB")
    repo = cached_repository(backup)
    with tempfile.TemporaryDirectory(prefix="bench-physical-") as work:
        catalogs = {"custom dump (pg_restore, 2 jobs)": drill_catalog(Path(work) / "dump", backup), **{
            f"pgBackRest, amcheck {depth}": physical_catalog(Path(work) / depth, backup, repo, depth)
            for depth in ("heapallindexed", "heap", "off")}}
        runs = {name: [] for name in catalogs}
        for _ in range(arguments.repeat):
            for name, catalog in catalogs.items():
                runs[name].append(drill(catalog))
                print(name, runs[name][-1], flush=True)
    repo_bytes = sum(path.stat().st_size for path in repo.rglob("*") if path.is_file())
    rows = ["| drilled from | RTO, median (s) | runs (s) | restore (s) | verify (s) | peak RSS (MB) |",
            "|---|---|---|---|---|---|"]
    medians = {}
    for name, found in runs.items():
        medians[name] = statistics.median(run["seconds"] for run in found)
        seconds = ", ".join(f"{run['seconds']:.1f}" for run in found)
        rows.append(f"| {name} | {medians[name]:.1f} | {seconds} | "
                    f"{statistics.median(run['phases']['restore'] for run in found):.1f} | "
                    f"{statistics.median(run['phases']['verify'] for run in found):.1f} | "
                    f"{max(run['rss_mb'] for run in found):.0f} |")
    dump, *physical = medians.values()
    ratios = ", ".join(f"{dump / seconds:.1f}x ({name.split(', ')[1]})" for name, seconds in list(medians.items())[1:])
    record("Physical against logical: the 1 GB pharmacy from pgBackRest and from its dump",
           f"python -m benchmarks.physical --repeat {arguments.repeat}", rows,
           f"The same database: the {backup.size / 1e9:.2f} GB custom dump ({backup.patients:,} patients), and a "
           f"pgBackRest full backup of it ({repo_bytes / 1e6:.0f} MB in the repository, gzip, encrypted). "
           f"The physical drill took less time by {ratios}: the restore phase alone (fetch, pgbackrest "
           "restore, WAL replay to the promotion) is the physical restore's real speed; the verify phase adds "
           "`engine.amcheck` (pg_amcheck over every database, which the dump drill does not do) to the same "
           "exact row counts both check.")


if __name__ == "__main__":
    main()
