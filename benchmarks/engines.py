"""Every engine at its native tool's speed: the drill against the tool alone, on the same backup,
in the same run, drill and tool alternating `--repeat` times (the tool first in odd rounds, the
drill first in even ones).

- postgres: the physical limit, `pg_restore --jobs N` alone (N = the drill's engine.jobs), the
  dump already where the drill puts it (decrypted by `age` into the work directory untimed, the
  database created untimed);
  on the custom-format dump of benchmarks.backups. Goal: the drill within 1.10 of it.
- mariadb: `age -d | mariadb` into the same image, then one `SELECT COUNT(*)` per table; on a
  mysqldump of the demo pharmacy (benchmarks.pharmacies). Goal <= 1.0.
- sqlite: `age -d > file; sqlite3 file 'PRAGMA integrity_check'` and one count per table, in
  the tools image; on an SQLite file of the demo pharmacy. Goal <= 1.0.

The tool's container is started as the drill starts its own (the engine's plan, served the same
way), and the tool is timed from that start (postgres: from pg_restore's) to its last count,
teardown excluded. The drill is `drill run` in its own process, timed fetch to verified (its
RTO), every check included. The figures go to docs/benchmarks.md, a section per engine; where
the goal is missed, one more drill runs under py-spy (benchmarks.profile_drill) and its profile
goes beside them, its stacks in docs/profiles/.

    python -m benchmarks.engines [--size "1 GB"] [--repeat 2] [--engines postgres,mariadb,sqlite]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Callable

from benchmarks import backups, pharmacies
from benchmarks.backups import SIZES, Backup, drill, drill_catalog
from benchmarks.pharmacies import engine_container
from benchmarks.profile_drill import PROFILES, profiled
from benchmarks.results import record
from drills.engines import mariadb, postgres, sqlite
from drills.engines.plan import RESTORE, WORK_INSIDE
from drills.workdir import CONTAINER_UID

JOBS = 2  # the drill's engine.jobs, and pg_restore's


@dataclass(frozen=True)
class Bench:
    title: str  # the section of docs/benchmarks.md
    tool: str  # what the drill is measured against, in words
    engine: dict  # the site's engine entry
    backup: Callable[[str], Backup]  # the cached backup of a size
    tool_seconds: Callable[[Backup], float]  # one run of the tool alone
    goal: float  # the ratio drill / tool it should not exceed


def counts(backup: Backup, output: str) -> None:
    """The tool's counts, one a line in the manifest's order of tables, checked against the manifest."""
    found = [int(line) for line in output.split()]
    expected = [backup.manifest_counts[table] for table in backup.tables]
    if found != expected:
        raise RuntimeError(f"the tool counted {found}, the manifest says {expected}")


def docker_exec(container: str, command, stdin=None) -> str:
    return subprocess.run(["docker", "exec", *(["-i"] if stdin else []), container, *command], stdin=stdin,
                          stdout=subprocess.PIPE, text=True, check=True).stdout


def decrypted_into(backup: Backup, container: str, command) -> None:
    """`age -d -i KEY BACKUP | docker exec -i CONTAINER COMMAND`, as a shell pipe runs it."""
    decrypt = subprocess.Popen(["age", "-d", "-i", str(backup.identity), str(backup.path)], stdout=subprocess.PIPE)
    try:
        docker_exec(container, command, stdin=decrypt.stdout)
    finally:
        decrypt.stdout.close()
        if decrypt.wait() != 0:
            raise RuntimeError(f"age -d failed (exit {decrypt.returncode})")


def pg_restore_alone(backup: Backup) -> float:
    with engine_container("postgres", backup.memory_needed(), jobs=JOBS) as (_, container, work, plan):
        [restoring] = plan.steps_when(RESTORE)  # the database was created by the serving
        received = work / plan.receive  # where the drill writes the dump, read by pg_restore inside
        subprocess.run(["age", "-d", "-i", str(backup.identity), "-o", str(received), str(backup.path)], check=True)
        os.chown(received, CONTAINER_UID, CONTAINER_UID)
        started = time.perf_counter()
        docker_exec(container, restoring.command)
        return time.perf_counter() - started


def mariadb_by_hand(backup: Backup) -> float:
    started = time.perf_counter()
    with engine_container("mariadb", backup.memory_needed()) as (_, container, _work, _plan):
        decrypted_into(backup, container, ["mariadb", *mariadb.CLIENT])
        quoted = (".".join(f"`{part}`" for part in table.split(".")) for table in backup.tables)
        output = docker_exec(container, ["mariadb", *mariadb.CLIENT, "--batch", "--skip-column-names", "-e",
                                         " ".join(f"SELECT COUNT(*) FROM {table};" for table in quoted)])
        seconds = time.perf_counter() - started
    counts(backup, output)
    return seconds


def sqlite_by_hand(backup: Backup) -> float:
    started = time.perf_counter()
    with engine_container("sqlite", backup.memory_needed()) as (_, container, work, _plan):
        subprocess.run(["age", "-d", "-i", str(backup.identity), "-o", str(work / sqlite.FILE_NAME), str(backup.path)],
                       check=True)
        output = docker_exec(container, ["sqlite3", f"{WORK_INSIDE}/{sqlite.FILE_NAME}", "PRAGMA integrity_check; " +
                                         " ".join(f'SELECT count(*) FROM "{table}";' for table in backup.tables)])
        seconds = time.perf_counter() - started
    integrity, _, counted = output.partition("\n")
    if integrity != "ok":
        raise RuntimeError(f"PRAGMA integrity_check said {integrity!r}")
    counts(backup, counted)
    return seconds


BENCHES = {
    "postgres": Bench("PostgreSQL: the drill against pg_restore alone", f"`pg_restore --jobs {JOBS}` of the staged dump",
                      {"type": "postgres", "format": "custom", "jobs": JOBS}, backups.cached_backup, pg_restore_alone,
                      1.10),
    "mariadb": Bench("MariaDB: the drill against age -d | mariadb", "`age -d | mariadb`, one `SELECT COUNT(*)` per table",
                     {"type": "mariadb"}, partial(pharmacies.cached_backup, "mariadb"), mariadb_by_hand, 1.0),
    "sqlite": Bench("SQLite: the drill against age -d and sqlite3", "`age -d > file; sqlite3 file 'PRAGMA "
                    "integrity_check'`, one count per table", {"type": "sqlite"},
                    partial(pharmacies.cached_backup, "sqlite"), sqlite_by_hand, 1.0),
}


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    options.add_argument("--size", choices=SIZES, default="1 GB")
    options.add_argument("--repeat", type=int, default=2)
    options.add_argument("--engines", default=",".join(BENCHES), help="a comma-separated list of " + ", ".join(BENCHES))
    arguments = options.parse_args()
    chosen = arguments.engines.split(",")
    if unknown := set(chosen) - set(BENCHES):
        options.error(f"unknown engine(s) {', '.join(sorted(unknown))}: choose among {', '.join(BENCHES)}")
    for name in chosen:
        bench = BENCHES[name]
        backup = bench.backup(arguments.size)
        drills, tools = [], []
        with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as workdir:
            catalog = drill_catalog(Path(workdir), backup, engine=bench.engine)
            for round_number in range(1, arguments.repeat + 1):
                if round_number % 2:  # the order alternates: neither always runs on the other's leftovers
                    tools.append(bench.tool_seconds(backup))
                    drills.append(drill(catalog))
                else:
                    drills.append(drill(catalog))
                    tools.append(bench.tool_seconds(backup))
                print(f"bench: {name} round {round_number}: tool {tools[-1]:.1f} s, drill {drills[-1]['seconds']:.1f} s "
                      f"{drills[-1]['phases']}", flush=True)
            ratio = write_results(arguments, name, backup, drills, tools)
            if ratio > bench.goal:  # where the drill's time goes, beside the figures
                output = PROFILES / f"drill-{name}-{arguments.size.replace(' ', '').lower()}.folded"
                _, rows = profiled(catalog, output)
                record(f"Profile of the {name} drill ({arguments.size})", f"python -m benchmarks.engines --engines "
                       f"{name} --size '{arguments.size}' (run when the goal is missed)", rows)
    return 0


def write_results(arguments, name: str, backup: Backup, drills: list[dict], tools: list[float]) -> float:
    """The engine's section of docs/benchmarks.md; the ratio drill / tool."""
    bench, median = BENCHES[name], statistics.median
    drill_seconds, tool_seconds = median(run["seconds"] for run in drills), median(tools)
    phases = {phase: median(run["phases"][phase] for run in drills) for phase in drills[0]["phases"]}
    tool = bench.tool.replace("|", "\\|")  # a pipe in a table's cell
    record(f"{bench.title} ({arguments.size})",
           f"python -m benchmarks.engines --engines {name} --size '{arguments.size}' --repeat {arguments.repeat}", [
               "| measure | value |", "|---|---|",
               f"| backup | {backup.path.name}: {backup.size / 1e6:,.0f} MB, age-encrypted, {backup.patients:,} "
               f"patients, {len(backup.tables)} tables |",
               f"| full drill, fetch to verified, all checks (median; runs) | {drill_seconds:.1f} s; "
               + ", ".join(f"{run['seconds']:.1f}" for run in drills) + " |",
               f"| {tool} (median; runs) | {tool_seconds:.1f} s; " + ", ".join(f"{s:.1f}" for s in tools) + " |",
               f"| **ratio drill / tool** (goal <= {bench.goal:.2f}) | **{drill_seconds / tool_seconds:.2f}** |",
               "| ratio in each round (drill and tool alternate, so a round shares the host's state) | "
               + ", ".join(f"{run['seconds'] / tool:.2f}" for run, tool in zip(drills, tools)) + " |",
               "| drill phases (median s) | " + ", ".join(f"{p} {s:.2f}" for p, s in phases.items()) + " |",
               f"| drill's peak RSS | {max(run['rss_mb'] for run in drills):.0f} MB |",
               f"| drill process's CPU, user + system (median; its threads, not the tools it waits for) | "
               f"{median(run['cpu_seconds'] for run in drills):.1f} s |",
           ])
    return drill_seconds / tool_seconds


if __name__ == "__main__":
    sys.exit(main())
