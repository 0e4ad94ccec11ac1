"""Backups made the way a site makes them: a live database, real pg_dump, real age.

`SourceDatabase` is a PostgreSQL server in a throwaway container (network none, unix
socket) loaded with the demo pharmacy; `seal` streams pg_dump's output through the `age`
CLI into the backup file, so no plaintext dump ever lands on the host's disk.
"""

import os
import secrets
import shutil
import subprocess
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Iterator

from drills import manifest as manifests
from drills.demo.at_scale import pharmacy_sql_at_scale
from drills.demo.generator import pharmacy_sql
from drills.engines import executor, postgres
from drills.workdir import make_work_dir
from drills.runtimes.docker import DockerRuntime

GIB = 1024**3


class SourceDatabase:
    """A live demo database to take backups from; use as a context manager."""

    def __init__(self, patients: int, seed: int = 1, image: str = postgres.DEFAULT_POSTGRES_IMAGE, runtime=None,
                 as_of: datetime | None = None, at_scale: bool = False, tmpfs: int = 8 * GIB):
        """`at_scale`: the rows are made by the server itself (drills.demo.at_scale), for gigabytes;
        `tmpfs`: the memory the database (and its WAL) may fill."""
        self.patients, self.seed, self.image, self.as_of, self.at_scale = patients, seed, image, as_of, at_scale
        self.tmpfs = tmpfs
        self.runtime = runtime or DockerRuntime()
        self.container_id = self.socket_dir = None

    def __enter__(self) -> "SourceDatabase":
        name = f"seed-{secrets.token_hex(4)}"
        self.socket_dir = make_work_dir(name)
        engine = replace(postgres.ENGINE.settings(), image=self.image, tmpfs=self.tmpfs, memory=self.tmpfs + 2 * GIB)
        plan = postgres.plan(SimpleNamespace(id=name, engine=engine), name, str(self.socket_dir))
        self.container_id = plan.container.name  # removable by name even if the start fails half-way
        try:
            self.runtime.start(plan.container)
            executor.serve(plan, self.runtime, self.container_id)
            self.execute(pharmacy_sql_at_scale(self.patients, self.seed, self.as_of) if self.at_scale
                         else pharmacy_sql(self.patients, self.seed, self.as_of))
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        if self.container_id:
            self.runtime.remove(self.container_id)
        if self.socket_dir:
            shutil.rmtree(self.socket_dir, ignore_errors=True)

    @property
    def dsn(self) -> str:
        return postgres.attach_dsn(str(self.socket_dir))

    def execute(self, sql: str | Iterator[bytes]) -> None:
        chunks = iter([sql.encode()]) if isinstance(sql, str) else sql
        result = self.runtime.run(self.container_id, ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1",
                                                      *postgres.CONNECT, "-d", postgres.DATABASE], input=chunks)
        if result.exit_code != 0:
            raise RuntimeError(f"demo SQL failed (exit {result.exit_code}): {result.output}")

    def manifest(self, site_id: str, taken_at: datetime | None = None) -> str:
        return manifests.of_live_database(self.dsn, site_id, taken_at)

    def dump(self, sink, format: str = "custom", exclude_tables: tuple[str, ...] = (),
             compress: int | None = None) -> None:
        """Write pg_dump's output (custom, plain SQL, or a directory-format dump as a tar) to `sink.write`;
        `compress`: pg_dump's --compress level (its default if None)."""
        options = [f"--exclude-table={table}" for table in exclude_tables]
        if compress is not None:
            options.append(f"--compress={compress}")
        if format == "directory":
            command = ["sh", "-c", " ".join(["pg_dump", "--format=d", "--jobs=2", "--file=/tmp/lgo.d", *postgres.CONNECT,
                                             *options, postgres.DATABASE]) + " && tar -c -C /tmp lgo.d && rm -rf /tmp/lgo.d"]
        else:
            command = ["pg_dump", f"--format={'c' if format == 'custom' else 'p'}", *postgres.CONNECT, *options,
                       postgres.DATABASE]
        result = self.runtime.run(self.container_id, command, stdout=sink)
        if result.exit_code != 0:
            raise RuntimeError(f"pg_dump failed: {result.output}")


def age_encrypt(recipient: str, path: Path) -> subprocess.Popen:
    """The real age CLI encrypting its stdin to `path`, as a site's backup job would."""
    return subprocess.Popen(["age", "--encrypt", "--recipient", recipient, "--output", str(path)],
                            stdin=subprocess.PIPE)


def seal(source: SourceDatabase, recipient: str, path: Path, site_id: str, format: str = "custom",
         exclude_tables: tuple[str, ...] = (), taken_at: datetime | None = None, alter=None,
         manifest: str | None = None, compress: int | None = None) -> Path:
    """Write an age-encrypted dump at `path` and its manifest beside it.

    The manifest is taken just before the dump unless given; `alter(sink)` may wrap the
    plaintext's way to age (compression, or a test's damage) and is closed after the dump.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    manifest = manifest or source.manifest(site_id, taken_at)
    encryptor = age_encrypt(recipient, path)
    sink = encryptor.stdin if alter is None else alter(encryptor.stdin)
    try:
        source.dump(sink, format, exclude_tables, compress)
        if sink is not encryptor.stdin:
            sink.close()
    finally:
        encryptor.stdin.close()
        if encryptor.wait() != 0:
            raise RuntimeError("age failed to encrypt the dump")
    path.with_name(path.name + ".manifest.json").write_text(manifest)
    if taken_at:  # the files carry the time the job wrote them
        for written in (path, path.with_name(path.name + ".manifest.json")):
            os.utime(written, (taken_at.timestamp(), taken_at.timestamp()))
    return path
