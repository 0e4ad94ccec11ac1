"""Integration fixtures: one live source database per session, backups made from it with real
pg_dump and the real age CLI, and a check after every test that the host is clean."""

import gzip
import os
import subprocess
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from drills.pipeline import default_run_dir
from drills.runtimes.docker import DRILL_LABEL
from tests.helpers import age_identity

SITE = "pharmacie-test"
PATIENTS = 300
# Bytes that only decrypted patient data contains: custom-format dump magic, COPY of a plain
# dump, and the CIP13 code the generator gives product 1.
PLAINTEXT_MARKERS = (b"PGDMP", b"COPY public.patients", b"3400930000001")


class Corrupting:
    """A sink wrapper that overwrites `length` bytes from `offset` on (a damaged dump)."""

    def __init__(self, sink, offset: int, length: int = 64):
        self.sink, self.offset, self.length, self.position = sink, offset, length, 0

    def write(self, data: bytes) -> None:
        data = bytearray(data)
        for index in range(len(data)):
            if self.offset <= self.position + index < self.offset + self.length:
                data[index] ^= 0x5A
        self.position += len(data)
        self.sink.write(bytes(data))

    def close(self) -> None:
        pass


@pytest.fixture(scope="session")
def keys_dir(tmp_path_factory, age_cli):
    directory = tmp_path_factory.mktemp("keys")
    return {"dir": directory, "recipient": age_identity(directory / "drill.agekey"),
            "other_recipient": age_identity(directory / "other.agekey")}


@pytest.fixture(scope="session")
def backups(tmp_path_factory, docker_engine, keys_dir):
    """Every backup the tests drill, made once: name -> path of the .age file."""
    from drills.demo.seed import SourceDatabase, seal

    root = tmp_path_factory.mktemp("backups")
    recipient = keys_dir["recipient"]
    made = {}

    def make(name, **options):
        made[name] = seal(source, options.pop("recipient", recipient), root / name / f"{name}.dump.age", SITE,
                          **options)

    with SourceDatabase(patients=PATIENTS, runtime=docker_engine) as source:
        make("healthy")
        make("plain-gzip", format="plain", alter=lambda sink: gzip.GzipFile(fileobj=sink, mode="wb"))
        make("other-key", recipient=keys_dir["other_recipient"])
        make("missing-table", exclude_tables=("public.factures",))
        make("corrupt-dump", alter=lambda sink: Corrupting(sink, offset=30_000))
        make("stale", taken_at=datetime.now(timezone.utc) - timedelta(days=3))
        before_deletion = source.manifest(SITE)
        source.execute("DELETE FROM public.ventes WHERE id <= 10")
        make("rows-deleted", manifest=before_deletion)
        source.execute("ALTER TABLE public.lignes_ordonnance DROP CONSTRAINT lignes_ordonnance_ordonnance_id_fkey;"
                       "INSERT INTO public.lignes_ordonnance VALUES (999999, 999999, 1, 1, 'orpheline')")
        make("orphan-line")
    return made


@pytest.fixture(autouse=True)
def host_left_clean(request):
    """After each integration test: no drill container, no socket dir, no plaintext on disk."""
    started = time.time()
    yield
    if "docker_engine" not in request.fixturenames and "backups" not in request.fixturenames:
        return
    leftovers = subprocess.run(["docker", "ps", "-aq", "--filter", f"label={DRILL_LABEL}"],
                               capture_output=True, text=True).stdout.split()
    assert leftovers == [], f"containers left behind: {leftovers}"
    run_dir = Path(os.environ.get("DRILL_RUN_DIR") or default_run_dir())
    assert not run_dir.exists() or list(run_dir.iterdir()) == [], f"socket directories left in {run_dir}"
    for path in files_changed_since(started, [Path("/tmp"), Path("/var/tmp"), Path("/dev/shm"), run_dir]):
        content = path.read_bytes()
        assert not any(marker in content for marker in PLAINTEXT_MARKERS), f"plaintext left in {path}"


def files_changed_since(moment: float, roots: list[Path]):
    for root in roots:
        if not root.exists():
            continue
        for directory, _, names in os.walk(root):
            for name in names:
                path = Path(directory) / name
                try:
                    if path.is_file() and not path.is_symlink() and path.stat().st_mtime >= moment - 1 \
                            and path.stat().st_size < 512 * 1024 * 1024:
                        yield path
                except OSError:
                    continue
