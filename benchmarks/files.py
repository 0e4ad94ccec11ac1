"""The files engine against what a technician would do by hand, and its memory against the number
of files.

The archive: realistic scans of a practice (PDF, JPEG and TIFF headers, log-normal sizes from a
few KB to a few MB), generated once from a fixed seed, tarred and age-encrypted as a stream, with
its manifest, and cached. The technician's script starts the same tools image the same way as the
drill, pipes `age -d -i KEY backup` into `tar -x`, then checks every file with `sha256sum -c`
against the manifest's sums. Drill and script alternate, `--repeat` times, each timed from the
start to checked files (teardown excluded); the drill runs as `drill run` in its own process.
Then the drill's peak RSS on two archives of 20 KB files (10,000 and 100,000 by default): it
should not grow with the number of files. The figures go to docs/benchmarks.md.

    python -m benchmarks.files [--files 50000] [--size "2 GB"] [--repeat 2] [--rss-files 10000 100000]
"""

import argparse
import hashlib
import multiprocessing
import random
import secrets
import shlex
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from io import BytesIO
from pathlib import Path
from types import SimpleNamespace

from benchmarks.backups import CACHE, GIB, SITE, drill, drill_catalog, whole_gib
from benchmarks.results import record
from drills import manifest as manifests
from drills.demo.catalog import ensure_age_identity
from drills.engines import files
from drills.engines.plan import WORK_INSIDE
from drills.engines.tools import DEFAULT_TOOLS_IMAGE
from drills.runtimes.spec import ContainerSpec
from drills.workdir import make_work_dir

ENGINE = {"type": "files"}
SMALL_FILE = 20_000  # the files of the memory archives
# (extension, folder, the first bytes of such a scan, share of the archive's files)
KINDS = (
    (".pdf", "ordonnances", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n", 0.6),
    (".jpg", "radios", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00H\x00H\x00\x00", 0.25),
    (".tif", "courriers", b"II*\x00\x08\x00\x00\x00\x0f\x00\xfe\x00\x04\x00\x01\x00\x00\x00", 0.15),
)
SMALLEST, LARGEST = 3_000, 6_000_000


def parse_size(text: str) -> int:
    """Decimal sizes as the other benchmarks write them: "2 GB", "100 MB", "500 KB"."""
    number, unit = text.split()
    return round(float(number) * {"KB": 1e3, "MB": 1e6, "GB": 1e9}[unit.upper()])


@dataclass
class Scans:
    path: Path
    identity: Path
    files: int
    bytes: int

    def memory_needed(self) -> int:
        """The restored tree (tar's headers and padding included), on the work directory's tmpfs."""
        return whole_gib(self.bytes * 1.1 + self.files * 1024 + GIB / 4)


def scan_sizes(files: int, total: int, rng: random.Random) -> list[int]:
    """`files` log-normal sizes (a few KB to a few MB) summing to about `total`."""
    raw = [rng.lognormvariate(0, 1.2) for _ in range(files)]
    scale = total / sum(raw)
    return [min(LARGEST, max(SMALLEST, round(size * scale))) for size in raw]


def scans(files: int, total: int):
    """(path, content) of `files` scans of about `total` bytes in all, the same on every run."""
    rng = random.Random(f"scans-{files}-{total}")
    kinds = rng.choices(KINDS, weights=[kind[3] for kind in KINDS], k=files)
    for number, ((extension, folder, header, _), size) in enumerate(zip(kinds, scan_sizes(files, total, rng))):
        year, month = 2020 + number % 7, 1 + number % 12
        yield f"{folder}/{year}/{month:02d}/scan-{number:07d}{extension}", header + rng.randbytes(size - len(header))


def cached_scans(files: int, total: int) -> Scans:
    """The age-encrypted tar of the scans and its manifest, made once (tarred and encrypted as a stream)."""
    identity = CACHE / "bench.agekey"
    recipient = ensure_age_identity(identity)
    path = CACHE / f"scans-{files}-{total}.tar.age"
    written = path.with_name(path.name + ".manifest.json")
    if not path.exists():
        print(f"bench: generating {files:,} scans of {total / 1e6:,.0f} MB (cached for later runs)", flush=True)
        started, taken_at, entries = time.perf_counter(), datetime.now(timezone.utc), {}
        partial = path.with_name(path.name + ".partial")
        encrypt = subprocess.Popen(["age", "-r", recipient, "-o", str(partial)], stdin=subprocess.PIPE)
        with tarfile.open(fileobj=encrypt.stdin, mode="w|", format=tarfile.GNU_FORMAT) as archive:
            for name, content in scans(files, total):
                member = tarfile.TarInfo(name)
                member.size, member.mode, member.mtime = len(content), 0o644, int(taken_at.timestamp())
                archive.addfile(member, BytesIO(content))
                entries[name] = {"size": len(content), "sha256": hashlib.sha256(content).hexdigest()}
        encrypt.stdin.close()
        if encrypt.wait() != 0:
            raise RuntimeError("age could not encrypt the scans")
        written.write_text(manifests.render(SITE, "files", taken_at, files=entries))
        partial.rename(path)
        print(f"bench: scans made in {time.perf_counter() - started:.0f} s", flush=True)
    listed = manifests.parse(written.read_bytes()).files
    return Scans(path, identity, listed.count, listed.bytes)


def docker_run(spec: ContainerSpec) -> list[str]:
    """`docker run` of a restore container as the drill's runtime starts it (drills.runtimes.docker)."""
    return ["docker", "run", "-d", "--name", spec.name, "--network", "none", "--user", spec.user, "--read-only",
            "--cap-drop", "ALL", "--security-opt", "no-new-privileges", "--memory", str(spec.memory),
            "--memory-swap", str(spec.memory), "--pids-limit", str(spec.pids), "--cpus", str(spec.cpus),
            "--ipc", "private", "--log-driver", "none",
            *[f"--tmpfs={path}:{options}" for path, options in spec.tmpfs.items()],
            *[f"--volume={host}:{inside}" for host, inside in spec.binds.items()], spec.image, *spec.command]


def technician_script(backup: Scans, container: str, work_dir: Path, sums: Path) -> str:
    """What a careful technician writes by hand: the same image started the same way, `age -d | tar
    -x` into it, then `sha256sum -c` of every file against the manifest's sums."""
    memory = backup.memory_needed()
    site = SimpleNamespace(id="technician", engine=SimpleNamespace(image=DEFAULT_TOOLS_IMAGE, tmpfs=memory,
                                                                   memory=memory + GIB))
    spec = replace(files.plan(site, "technician", str(work_dir)).container, name=container)
    root = f"{WORK_INSIDE}/{files.ROOT}"
    return f"""set -euo pipefail
{shlex.join(docker_run(spec))} >/dev/null
docker exec {container} mkdir {root}
age -d -i {backup.identity} {backup.path} | docker exec -i {container} tar -x -C {root} -f -
docker exec -i {container} sh -c {shlex.quote(f"cd {root} && sha256sum -c --quiet -")} < {sums}
"""


def prepared(files: int, total: int, sums: Path | None = None) -> Scans:
    """The cached scans, made in a process of their own: a drill's peak RSS, read when it ends, would
    otherwise start from this process's size when it was forked. `sums`: where to write the
    manifest's sums as `sha256sum -c` reads them (made before the clock starts)."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(scans_and_sums, files, total, sums).result()


def scans_and_sums(files: int, total: int, sums: Path | None) -> Scans:
    backup = cached_scans(files, total)
    if sums is not None:
        listed = manifests.parse(backup.path.with_name(backup.path.name + ".manifest.json").read_bytes()).files
        sums.write_text("".join(f"{entry.sha256.hex()}  {name}\n" for name, entry in listed.items()))
    return backup


def script_once(backup: Scans, sums: Path) -> float:
    container = f"technician-{secrets.token_hex(4)}"
    work_dir = make_work_dir(container)
    try:
        started = time.perf_counter()
        subprocess.run(["bash", "-c", technician_script(backup, container, work_dir, sums)], check=True)
        return time.perf_counter() - started
    finally:
        subprocess.run(["docker", "rm", "-f", "-v", container], capture_output=True)
        subprocess.run(["rm", "-rf", str(work_dir)])


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    options.add_argument("--files", type=int, default=50_000)
    options.add_argument("--size", default="2 GB", help='decimal, e.g. "2 GB", "100 MB"')
    options.add_argument("--repeat", type=int, default=2)
    options.add_argument("--rss-files", type=int, nargs=2, default=(10_000, 100_000), metavar=("FEW", "MANY"))
    arguments = options.parse_args()
    drills, scripts, peaks = [], [], {}
    with tempfile.TemporaryDirectory(prefix="bench-") as workdir:
        sums = Path(workdir) / "SHA256SUMS"
        backup = prepared(arguments.files, parse_size(arguments.size), sums)
        catalog = drill_catalog(Path(workdir) / "scans", backup, engine=ENGINE)
        for round_number in range(1, arguments.repeat + 1):
            scripts.append(script_once(backup, sums))
            print(f"bench: round {round_number}: technician's script {scripts[-1]:.1f} s", flush=True)
            drills.append(drill(catalog))
            print(f"bench: round {round_number}: drill {drills[-1]['seconds']:.1f} s {drills[-1]['phases']}, "
                  f"{drills[-1]['rss_mb']:.0f} MB", flush=True)
        for count in arguments.rss_files:
            small = prepared(count, count * SMALL_FILE)
            peaks[count] = drill(drill_catalog(Path(workdir) / f"rss-{count}", small, engine=ENGINE))
            print(f"bench: {count:,} files of {SMALL_FILE // 1000} KB: drill {peaks[count]['seconds']:.1f} s, "
                  f"peak RSS {peaks[count]['rss_mb']:.0f} MB", flush=True)
    write_results(arguments, backup, drills, scripts, peaks)
    return 0


NOTES = ("The drill checks each file as it reads it and keeps counts and the first examples of each problem, "
         "never the files; the manifest is streamed, spooled into the drill's work directory (memory "
         "filesystem) and read entry by entry into an SQLite database there, never held as Python objects "
         "(before: 106 MB at 10,000 files, 165 MB at 100,000).")


def write_results(arguments, backup: Scans, drills: list[dict], scripts: list[float], peaks: dict) -> None:
    median = statistics.median
    drill_seconds, script_seconds = median(d["seconds"] for d in drills), median(scripts)
    phases = {phase: median(d["phases"][phase] for d in drills) for phase in drills[0]["phases"]}
    few, many = sorted(peaks)
    growth = peaks[many]["rss_mb"] / peaks[few]["rss_mb"] - 1
    record("Files engine against the technician's script, and its memory against the number of files",
           f"python -m benchmarks.files --files {arguments.files} --size '{arguments.size}' --repeat "
           f"{arguments.repeat} --rss-files {few} {many}", [
               "| measure | value |", "|---|---|",
               f"| archive | {backup.files:,} scans (PDF, JPEG, TIFF), {backup.bytes / 1e6:,.0f} MB in all, "
               f"log-normal sizes, tar, age-encrypted, with its manifest |",
               f"| full drill, fetch to checked files (median of {len(drills)}) | {drill_seconds:.1f} s |",
               f"| technician's script: age -d \\| tar -x, sha256sum -c (median of {len(scripts)}) "
               f"| {script_seconds:.1f} s |",
               f"| **ratio drill / script** (goal <= 1.0) | **{drill_seconds / script_seconds:.2f}** |",
               "| drill phases (median s) | " + ", ".join(f"{p} {s:.2f}" for p, s in phases.items()) + " |",
               f"| drill's peak RSS, {backup.files:,} scans (median) | {median(d['rss_mb'] for d in drills):.0f} MB |",
               *[f"| drill's peak RSS, {count:,} files of {SMALL_FILE // 1000} KB | {peak['rss_mb']:.0f} MB |"
                 for count, peak in sorted(peaks.items())],
               f"| **RSS growth, {few:,} to {many:,} files** (goal within 10 %) | **{growth:+.0%}** |",
           ], NOTES)


if __name__ == "__main__":
    sys.exit(main())
