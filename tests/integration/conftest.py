"""Integration fixtures: one live source database per session, backups made from it with real
pg_dump and the real age CLI, and a check after every test that the host is clean."""

import gzip
import shutil
from datetime import datetime, timedelta, timezone

import pytest

from tests.helpers import age_identity, drill_command, site_entry, write_catalog

SITE = "pharmacie-test"
PATIENTS = 300


class Appending:
    """A sink wrapper that adds `text` after the dump (a hostile statement at its end)."""

    def __init__(self, sink, text: str):
        self.sink, self.text = sink, text

    def write(self, data: bytes) -> None:
        self.sink.write(data)

    def close(self) -> None:
        self.sink.write(self.text.encode())


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
        make("plain-hostile", format="plain",
             alter=lambda sink: Appending(sink, "COPY (SELECT 1) TO PROGRAM 'touch /tmp/pwned';\n"))
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
    # A fresh file of old data: a backup job dumping a replica that stopped three days ago.
    with SourceDatabase(patients=50, runtime=docker_engine, as_of=datetime.now(timezone.utc) - timedelta(days=3)) \
            as source:
        make("old-data")
    return made


@pytest.fixture
def catalog(tmp_path, backups, keys_dir, docker_engine):
    """A catalog of one site whose source holds a copy of the healthy backup, and its signing key."""
    folder = tmp_path / "backups"
    folder.mkdir()
    for file in backups["healthy"].parent.iterdir():
        shutil.copy2(file, folder / file.name)
    path = write_catalog(tmp_path, [site_entry(SITE, folder, keys_dir["dir"] / "drill.agekey")])
    assert drill_command("keys", "init", "--catalog", str(path)).returncode == 0
    return path
