"""What content fingerprints cost (docs/fingerprints.md), on the demo pharmacy's live database.

At seal: counting and fingerprinting every table in the snapshot, against counting alone, as a
share of pg_dump's time for the same snapshot. At drill time: a drill comparing every fingerprint
against the same drill with `checks.fingerprints: off`, as a share of the RTO. Goal: under 15% of
each. Run: python -m benchmarks.fingerprints [--size '1 GB'] [--repeat 2]
"""

import argparse
import collections
import statistics
import tempfile
import time
from pathlib import Path

import yaml

from benchmarks.backups import BYTES_PER_PATIENT, CACHE, SITE, SIZES, WAL_ROOM, drill, whole_gib
from benchmarks.results import record
from drills.catalog import load_catalog
from drills.demo.catalog import ensure_age_identity
from drills.demo.seed import GIB, SourceDatabase
from drills.reports import keys
from drills.seal import seal_snapshot
from drills.sealing.postgres import Snapshot

def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def seal_side(dsn: str) -> dict:
    """Seconds to count, to count and fingerprint, and to dump one snapshot (pg_dump -Fc)."""
    snapshot = Snapshot(dsn, "custom")
    try:
        counting = timed(lambda: snapshot.counted("off", None))
        fingerprinting = timed(lambda: snapshot.counted("all", None))
        dumping = timed(lambda: collections.deque(snapshot.dump(), maxlen=0))
    finally:
        snapshot.close()
    return {"count": counting, "fingerprint": fingerprinting, "dump": dumping}


def catalog_for(directory: Path, identity: Path, fingerprints: str, tmpfs: int) -> Path:
    path = directory / f"catalog-{fingerprints}.yaml"
    path.write_text(yaml.safe_dump({"evidence": "evidence/", "signing_key": "keys/signing.ed25519", "sites": [{
        "id": SITE, "name": "Empreintes", "tenant": "bench",
        "source": {"type": "local", "path": str(directory / "source"), "pattern": "*.dump.age"},
        "decrypt": {"identity_file": str(identity)},
        "engine": {"type": "postgres", "format": "custom", "jobs": 2, "tmpfs": f"{tmpfs // GIB}g",
                   "memory": f"{tmpfs // GIB + 1}g", "timeout": "2h"},
        "checks": {"manifest": "required", "fingerprints": fingerprints}, "targets": {"rto": "2h", "rpo": "1000d"}}]}))
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="1 GB", choices=list(SIZES))
    parser.add_argument("--repeat", type=int, default=2)
    arguments = parser.parse_args()
    patients = round(SIZES[arguments.size] / BYTES_PER_PATIENT)
    identity = CACHE / "bench.agekey"
    recipient = ensure_age_identity(identity)
    with tempfile.TemporaryDirectory(prefix="bench-fingerprints-") as folder:
        directory = Path(folder)
        (directory / "source").mkdir()
        keys.init(directory / "keys" / "signing.ed25519")
        tmpfs = whole_gib(2.5 * SIZES[arguments.size] + WAL_ROOM)
        catalogs = {choice: catalog_for(directory, identity, choice, tmpfs) for choice in ("all", "off")}
        with SourceDatabase(patients=patients, at_scale=True, tmpfs=tmpfs) as source:
            seals = [seal_side(source.dsn) for _ in range(arguments.repeat)]
            site = load_catalog(catalogs["all"]).sites[0]
            written = seal_snapshot(site, source.dsn, [recipient])
        drills = {choice: [drill(catalogs[choice]) for _ in range(arguments.repeat)] for choice in ("off", "all")}
    median = lambda values: statistics.median(values)  # noqa: E731
    count, fingerprint, dump = (median([s[key] for s in seals]) for key in ("count", "fingerprint", "dump"))
    rto = {choice: median([d["seconds"] for d in runs]) for choice, runs in drills.items()}
    verify = {choice: median([d["phases"]["verify"] for d in runs]) for choice, runs in drills.items()}
    seal_share, drill_share = (fingerprint - count) / dump, (rto["all"] - rto["off"]) / rto["off"]
    record("Content fingerprints", f"python -m benchmarks.fingerprints --size '{arguments.size}' --repeat {arguments.repeat}", [
        "| measure | value |", "|---|---|",
        f"| live database | demo pharmacy, {patients:,} patients; dump sealed: {written['bytes'] / 1e6:,.0f} MB, "
        f"{written['tables']} tables |",
        f"| at seal: count every table in the snapshot (median of {arguments.repeat}) | {count:.2f} s |",
        f"| at seal: count and fingerprint every table | {fingerprint:.2f} s |",
        f"| at seal: pg_dump -Fc of the same snapshot | {dump:.2f} s |",
        f"| **fingerprinting's cost at seal, share of the dump's time** (goal < 15%) | **{seal_share:.1%}** |",
        f"| drill RTO, fingerprints off (median of {arguments.repeat}) | {rto['off']:.1f} s (verify {verify['off']:.2f} s) |",
        f"| drill RTO, every fingerprint compared | {rto['all']:.1f} s (verify {verify['all']:.2f} s) |",
        f"| **fingerprinting's cost at drill time, share of the RTO** (goal < 15%) | **{drill_share:.1%}** |",
    ])


if __name__ == "__main__":
    main()
