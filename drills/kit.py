"""The reversibility kit: a site's data handed back in open formats, encrypted to the client.

`drill export SITE` runs a drill of the newest backup and, once the restored database is
verified, exports it while its container still runs: every table to Parquet and CSV (DuckDB,
over the read-only attach), the schema as SQL (`pg_dump --schema-only` inside the container),
and a manifest with each table's rows, its content fingerprint (drills.checks.fingerprints) and
each file's size and sha256. The export is read back and its counts compared with the restored
database before anything is written out.

Patient data only leaves encrypted: the files are staged on a memory filesystem (tmpfs, never
the host's disk; refused otherwise), streamed as a tar straight into the age writer, and the
staging directory is removed whatever happens. The kit's name ends in `.tar.age`.
"""

import hashlib
import json
import os
import re
import shutil
import tarfile
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from drills.checks import database
from drills.checks.dialects import POSTGRES
from drills import redaction
from drills.checks.duckdb_connection import connect_with
from drills.checks.findings import PASS, Finding
from drills.crypto.encrypt import AgeWriter, parse_recipient
from drills.engines import ENGINES, engine_for, postgres
from drills.engines.tools import last_lines
from drills.errors import ConfigError, InfrastructureError
from drills.workdir import memory_filesystem
from drills import reasons

KIT_FORMAT = 1
EVERY_ROW = {"one_in": 1, "key": None}  # the kit's fingerprints are of every row
DEFAULT_STAGING = "/dev/shm"


def file_stem(table: str, taken: set[str]) -> str:
    """A file name for `table`, safe on any filesystem and unique within the kit."""
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", table) or "table"
    candidate, number = stem, 1
    while candidate in taken:
        number += 1
        candidate = f"{stem}-{number}"
    taken.add(candidate)
    return candidate


def described(path: Path) -> dict:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1024 * 1024):
            digest.update(block)
    return {"file": path.name, "bytes": path.stat().st_size, "sha256": digest.hexdigest()}


class HashingWriter:
    """A binary file's write(), hashing what passes."""

    def __init__(self, file):
        self.file, self.sha256 = file, hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.sha256.update(data)
        return self.file.write(data)


class KitExport:
    """The drill's after-verify step that writes the kit of `site` into `output_dir`.

    Settings are checked when it is made (recipients, a memory filesystem to stage on), so a
    mistake is refused before any restore starts."""

    def __init__(self, site, recipients: list[str], output_dir: Path, staging_base: str | None = None):
        if not engine_for(site).exports:
            exporting = ", ".join(name for name, engine in ENGINES.items() if engine.exports)
            raise ConfigError(f"drill export exports {exporting} sites; {site.id} is {site.engine.type}",
                              code=reasons.CONFIG_USAGE, hint="for other engines, hand over the sealed backup itself")
        for recipient in recipients:
            parse_recipient(recipient)
        if not recipients:
            raise ConfigError("an export needs the client's age recipient (--recipient age1...)",
                              code=reasons.CONFIG_BAD_RECIPIENT)
        self.staging_base = Path(staging_base or os.environ.get("DRILL_EXPORT_STAGING") or DEFAULT_STAGING)
        if not self.staging_base.is_dir() or not memory_filesystem(self.staging_base):
            raise ConfigError(f"{self.staging_base} is not a memory filesystem (tmpfs): the export would write "
                              "patient data to disk", code=reasons.CONFIG_STAGING_NOT_IN_MEMORY,
                              hint="set DRILL_EXPORT_STAGING to a tmpfs mount large enough for the export")
        self.site, self.recipients, self.output_dir = site, recipients, Path(output_dir)
        self.kit_path: Path | None = None
        self.kit_sha256: str | None = None
        self.manifest: dict | None = None

    def __call__(self, runtime, container: str, socket_dir: str, drill_id: str) -> list[Finding]:
        staging = Path(tempfile.mkdtemp(prefix="restore-drill-kit-", dir=self.staging_base))
        try:
            kit = staging / "kit"
            (kit / "tables").mkdir(parents=True)
            restored = self.export_tables(socket_dir, kit / "tables")
            self.write_schema(runtime, container, kit / "schema.sql")
            self.manifest = self.kit_manifest(kit, restored, drill_id)
            (kit / "manifest.json").write_text(json.dumps(self.manifest, indent=2, ensure_ascii=False) + "\n")
            self.kit_path = self.seal(kit, drill_id)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        rows = sum(table["rows"] for table in self.manifest["tables"].values())
        return [Finding("export.kit", self.kit_path.name, PASS, expected=rows, actual=rows,
                        message=f"{len(self.manifest['tables'])} tables, {rows:,} rows, read back and equal to the "
                                f"restored database; encrypted to {len(self.recipients)} recipient(s)")]

    def export_tables(self, socket_dir: str, folder: Path) -> dict[str, dict]:
        """Every table to Parquet and CSV, read back and compared; {table: its entry}."""
        connection = connect_with("postgres")
        try:
            # the verifier's session: the fingerprints' text form
            target = postgres.verifier_target(self.site, socket_dir, self.site.engine.timeout)
            restored = database.attach_and_count(connection, target, writable=(str(folder),))
            digests = database.table_fingerprints(connection, POSTGRES, {table: EVERY_ROW for table in restored}, {})
            entries, taken = {}, set()
            for table, rows in sorted(restored.items()):
                schema, name = table.split(".", 1)
                source = f"{database.quote_identifier(schema)}.{database.quote_identifier(name)}"
                stem = file_stem(table, taken)
                parquet, csv = folder / f"{stem}.parquet", folder / f"{stem}.csv"
                connection.execute(f"COPY (SELECT * FROM {source}) TO {database.sql_literal(str(parquet))} "
                                   "(FORMAT parquet, COMPRESSION zstd)")
                connection.execute(f"COPY (SELECT * FROM {source}) TO {database.sql_literal(str(csv))} (FORMAT csv, HEADER)")
                read_back = {
                    "parquet": connection.execute(f"SELECT count(*) FROM read_parquet({database.sql_literal(str(parquet))})").fetchone()[0],
                    "csv": connection.execute(f"SELECT count(*) FROM read_csv({database.sql_literal(str(csv))}, header = true)").fetchone()[0],
                }
                if any(count != rows for count in read_back.values()):
                    raise InfrastructureError(reasons.ERROR_EXPORT,
                                              f"{table}: {rows} rows restored, the export reads back {read_back}",
                                              hint="a bug in the export: report it with this drill id")
                entries[table] = {"rows": rows, "fingerprint": {"digest": digests[table], **EVERY_ROW},
                                  "parquet": described(parquet), "csv": described(csv)}
            return entries
        except InfrastructureError:
            raise
        except Exception as error:  # DuckDB (duckdb.Error) or the staging filesystem (OSError)
            raise InfrastructureError(reasons.ERROR_EXPORT,
                                      f"the export failed: {type(error).__name__}: {redaction.error_text(error)}",
                                      hint="check the staging filesystem's free space (DRILL_EXPORT_STAGING)") from None
        finally:
            connection.close()

    def write_schema(self, runtime, container: str, path: Path) -> None:
        with open(path, "wb") as handle:
            result = runtime.run(container, ["pg_dump", "--schema-only", "--no-owner", "--no-privileges",
                                             *postgres.CONNECT, postgres.restored_database(self.site.engine)],
                                 stdout=handle, timeout=600)
        if result.exit_code != 0:
            raise InfrastructureError(reasons.ERROR_EXPORT,
                                      f"pg_dump --schema-only failed: {last_lines(result.output)}")

    def kit_manifest(self, kit: Path, tables: dict, drill_id: str) -> dict:
        return {"format": KIT_FORMAT, "site": self.site.id, "site_name": self.site.name, "drill_id": drill_id,
                "exported_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "engine": self.site.engine.type, "schema": described(kit / "schema.sql"), "tables": tables,
                "read_back": "every table's Parquet and CSV were read back with DuckDB: counts equal the restored database"}

    def seal(self, kit: Path, drill_id: str) -> Path:
        """Tar the kit straight into age, to a temporary name, then into place."""
        self.output_dir.mkdir(parents=True, exist_ok=True)
        final = self.output_dir / f"{self.site.id}-{drill_id}.kit.tar.age"
        partial = final.with_name(final.name + ".partial")
        try:
            with open(partial, "wb") as file:
                output = HashingWriter(file)
                with AgeWriter(output, self.recipients) as writer, tarfile.open(fileobj=writer, mode="w|") as archive:
                    archive.add(kit, arcname=f"{self.site.id}-kit")
            partial.replace(final)
            self.kit_sha256 = output.sha256.hexdigest()  # as written: the kit is never read again
        finally:
            partial.unlink(missing_ok=True)
        return final
