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
from drills.catalog.model import Checks
from drills.sealing.postgres import Snapshot

DEFAULT_CAP = Checks().fingerprint_rows
NOTES = """The drill's share is the verify phase's growth over the RTO without fingerprints (the RTOs'
own difference drowns in the restore's variance). The default samples the tables over
`checks.fingerprint_rows` by their primary key's hash (docs/fingerprints.md); a site wanting every
row sets it higher and pays the every-row figures. Before `hashtextextended`, MD5 of each row's
text cost 108% of the dump and 161% of the RTO on the 100 MB pharmacy."""

def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def seal_side(dsn: str) -> dict:
    """Seconds to count, to count and fingerprint (every row; the default cap's samples), and to
    dump one snapshot (pg_dump -Fc)."""
    snapshot = Snapshot(dsn, "custom")
    try:
        counting = timed(lambda: snapshot.counted("off", None))
        every_row = timed(lambda: snapshot.counted("all", None))
        sampled = timed(lambda: snapshot.counted("all", DEFAULT_CAP))
        dumping = timed(lambda: collections.deque(snapshot.dump(), maxlen=0))
    finally:
        snapshot.close()
    return {"count": counting, "every row": every_row, "sampled": sampled, "dump": dumping}


def catalog_for(directory: Path, identity: Path, fingerprints: str, tmpfs: int, rows: int | None = None) -> Path:
    """A catalog of the site drilling the newest backup in source-ROWS/ (rows: the fingerprints' cap)."""
    path = directory / f"catalog-{fingerprints}-{rows}.yaml"
    checks = {"manifest": "required", "fingerprints": fingerprints, **({"fingerprint_rows": rows} if rows else {})}
    path.write_text(yaml.safe_dump({"evidence": "evidence/", "signing_key": "keys/signing.ed25519", "sites": [{
        "id": SITE, "name": "Empreintes", "tenant": "bench",
        "source": {"type": "local", "path": str(directory / f"source-{rows}"), "pattern": "*.dump.age"},
        "decrypt": {"identity_file": str(identity)},
        "engine": {"type": "postgres", "format": "custom", "jobs": 2, "tmpfs": f"{tmpfs // GIB}g",
                   "memory": f"{tmpfs // GIB + 1}g", "timeout": "2h"},
        "checks": checks, "targets": {"rto": "2h", "rpo": "1000d"}}]}))
    (directory / f"source-{rows}").mkdir(exist_ok=True)
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
        keys.init(directory / "keys" / "signing.ed25519")
        tmpfs = whole_gib(2.5 * SIZES[arguments.size] + WAL_ROOM)
        catalogs = {"off": catalog_for(directory, identity, "off", tmpfs),
                    "sampled": catalog_for(directory, identity, "all", tmpfs),
                    "every row": catalog_for(directory, identity, "all", tmpfs, rows=10**12)}
        with SourceDatabase(patients=patients, at_scale=True, tmpfs=tmpfs) as source:
            seals = [seal_side(source.dsn) for _ in range(arguments.repeat)]
            for choice in ("sampled", "every row"):  # "off" drills the default cap's backup, checking no fingerprint
                written = seal_snapshot(load_catalog(catalogs[choice]).sites[0], source.dsn, [recipient])
        drills = {choice: [drill(catalogs[choice]) for _ in range(arguments.repeat)] for choice in catalogs}
    median = lambda values: statistics.median(values)  # noqa: E731
    count, every_row, sampled, dump = (median([s[key] for s in seals]) for key in ("count", "every row", "sampled", "dump"))
    rto = {choice: median([d["seconds"] for d in runs]) for choice, runs in drills.items()}
    verify = {choice: median([d["phases"]["verify"] for d in runs]) for choice, runs in drills.items()}
    share = lambda seconds: (seconds - count) / dump  # noqa: E731
    # The fingerprints' own time (the verify phase's growth) over the RTO without them: the RTOs'
    # difference alone drowns in the restore's variance.
    cost = lambda choice: (verify[choice] - verify["off"]) / rto["off"]  # noqa: E731
    record("Content fingerprints", f"python -m benchmarks.fingerprints --size '{arguments.size}' --repeat {arguments.repeat}", [
        "| measure | value |", "|---|---|",
        f"| live database | demo pharmacy, {patients:,} patients; dump sealed: {written['bytes'] / 1e6:,.0f} MB, "
        f"{written['tables']} tables |",
        f"| at seal: count every table in the snapshot (median of {arguments.repeat}) | {count:.2f} s |",
        f"| at seal: pg_dump -Fc of the same snapshot | {dump:.2f} s |",
        f"| at seal: count and fingerprint every row | {every_row:.2f} s ({share(every_row):.1%} of the dump) |",
        f"| **at seal: count and fingerprint, tables over {DEFAULT_CAP:,} rows sampled (the default)** (goal < 15%) "
        f"| **{sampled:.2f} s ({share(sampled):.1%} of the dump)** |",
        f"| drill RTO, fingerprints off (median of {arguments.repeat}) | {rto['off']:.1f} s (verify {verify['off']:.2f} s) |",
        f"| drill, every row fingerprinted | RTO {rto['every row']:.1f} s, verify {verify['every row']:.2f} s: "
        f"fingerprints {cost('every row'):.1%} of the RTO |",
        f"| **drill, the default's samples** (goal < 15%) | **RTO {rto['sampled']:.1f} s, verify "
        f"{verify['sampled']:.2f} s: fingerprints {cost('sampled'):.1%} of the RTO** |",
    ], NOTES)


if __name__ == "__main__":
    main()
