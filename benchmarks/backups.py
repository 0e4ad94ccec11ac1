"""What the drill benchmarks share: the demo pharmacy's backups from 2.5 MB to 4 GB, made
once and cached, and a drill run the way an operator runs one (`drill run`, its own process),
with the peak memory of that process.

The dumps are custom format (pg_dump -Fc) with --compress=0. Compressed, the demo's database is
eight times its dump, and a 4 GB dump's database (31 GB) would not fit in this machine's memory,
where a restore's data lives (tmpfs); uncompressed, it is twice the dump. Uncompressed is also
the harder case for the drill's own code: more bytes through decryption for each second of
pg_restore. Sizes are decimal (1 GB = 10^9 bytes).
"""

import json
import math
import os
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from drills.demo.catalog import ensure_age_identity
from drills.demo.seed import GIB, SourceDatabase, seal
from drills.reports import keys

CACHE = Path(os.environ.get("DRILL_CACHE_DIR", Path.home() / ".cache" / "restore-drill")) / "bench"
SITE = "pharmacie-bench"
SIZES = {"2.5 MB": 2.5e6, "100 MB": 100e6, "1 GB": 1e9, "4 GB": 4e9}  # 2.5 MB: a small pharmacy, for the queue
BYTES_PER_PATIENT = 1240  # measured: 330,000 patients dump to 409 MB with --compress=0
WAL_ROOM = 2 * GIB  # the restore server's WAL (max_wal_size 1GB, which it may overshoot), on its data's tmpfs


@dataclass
class Backup:
    path: Path
    identity: Path
    patients: int

    @property
    def size(self) -> int:
        return self.path.stat().st_size

    @property
    def manifest_counts(self) -> dict[str, int]:
        return json.loads(self.path.with_name(self.path.name + ".manifest.json").read_text())["tables"]

    @property
    def tables(self) -> list[str]:
        return sorted(self.manifest_counts)

    def memory_needed(self) -> int:
        """A restore's tmpfs: the database (twice the dump), its WAL, and the dump staged for
        parallel pg_restore (once)."""
        return whole_gib(3 * self.size + WAL_ROOM)


def whole_gib(size: float) -> int:
    """`size` in bytes rounded up to whole GiB, as tmpfs and memory limits are written here."""
    return math.ceil(size / GIB) * GIB


def cached_backup(size: str) -> Backup:
    """The age-encrypted dump of the demo pharmacy at `size` (a key of SIZES), made once."""
    identity = CACHE / "bench.agekey"
    recipient = ensure_age_identity(identity)
    patients = round(SIZES[size] / BYTES_PER_PATIENT)
    path = CACHE / f"{SITE}-{patients}-z0.dump.age"
    if not path.exists():
        print(f"bench: generating the {size} dump ({patients:,} patients; cached for later runs)", flush=True)
        started = time.perf_counter()
        tmpfs = whole_gib(2.5 * SIZES[size] + WAL_ROOM)  # the source database and its WAL
        with SourceDatabase(patients=patients, at_scale=True, tmpfs=tmpfs) as source:  # rows made by the server
            partial = path.with_name(path.name + ".partial")
            seal(source, recipient, partial, SITE, compress=0)
            partial.with_name(partial.name + ".manifest.json").rename(path.with_name(path.name + ".manifest.json"))
            partial.rename(path)
        print(f"bench: dump made in {time.perf_counter() - started:.0f} s", flush=True)
    return Backup(path, identity, patients)


def drill_catalog(directory: Path, backup: Backup, jobs: int = 2, engine: dict | None = None) -> Path:
    """A catalog of one site drilling `backup`, its own evidence and signing key, in `directory`;
    `engine`: its type and format (by default a custom dump restored with `jobs` jobs)."""
    source = directory / "source"
    source.mkdir(parents=True, exist_ok=True)
    for file in (backup.path, backup.path.with_name(backup.path.name + ".manifest.json")):
        if not (source / file.name).exists():
            os.link(file, source / file.name)
    if not (directory / "keys" / "signing.ed25519").exists():
        keys.init(directory / "keys" / "signing.ed25519")
    memory = backup.memory_needed()
    catalog = directory / "catalog.yaml"
    catalog.write_text(yaml.safe_dump({"evidence": "evidence/", "signing_key": "keys/signing.ed25519", "sites": [{
        "id": SITE, "name": "Bench", "tenant": "bench",
        "source": {"type": "local", "path": str(source), "pattern": "*" + "".join(backup.path.suffixes[-2:])},
        "decrypt": {"identity_file": str(backup.identity)},
        "engine": {**(engine or {"type": "postgres", "format": "custom", "jobs": jobs}), "tmpfs": f"{memory // GIB}g",
                   "memory": f"{memory // GIB + 1}g", "timeout": "2h"},
        "checks": {"manifest": "required"}, "targets": {"rto": "2h", "rpo": "1000d"}}]}))
    return catalog


def start_drill(catalog: Path) -> subprocess.Popen:
    """`drill run` of the catalog's site in its own process."""
    return subprocess.Popen([sys.executable, "-m", "drills.cli", "run", "--catalog", str(catalog), "--json", SITE],
                            stdout=subprocess.PIPE, text=True)


def finish_drill(process: subprocess.Popen) -> dict:
    """The drill's figures: seconds (fetch to verified), phases, the process's peak RSS in MB and
    its CPU seconds (user and system: what our own code cost, beside the tools it waited for)."""
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if not output.strip():
        raise RuntimeError(f"{shlex.join(process.args)} printed no report (exit {process.returncode})")
    report = json.loads(output)
    if report["outcome"] != "pass":
        raise RuntimeError(f"the benchmark's drill did not pass: {report['reason']}: {report['message']}")
    return {"seconds": report["rto_seconds"], "phases": report["phases"], "rss_mb": usage.ru_maxrss / 1024,
            "cpu_seconds": usage.ru_utime + usage.ru_stime}


def drill(catalog: Path) -> dict:
    return finish_drill(start_drill(catalog))
