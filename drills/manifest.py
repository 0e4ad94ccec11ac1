"""The manifest written beside a backup when it was taken: what the restore must show.

    {"format": 1, "site": "...", "taken_at": "RFC 3339", "engine": "postgres",
     "tables": {"public.patients": 1234, ...}}

A documents archive (engine `files`) lists its files instead of tables:
    "files": {"scans/2026/ordonnance-0001.pdf": {"size": 48213, "sha256": "..."}, ...}
Read, the files are never held as Python objects: the manifest is streamed from its source
(at most MAX_MANIFEST_BYTES), decrypted, spooled beside the drill's work directory (memory, never the
host's disk, never the container's), read member by member (drills.json_stream), its files kept in SQLite.

Format 2 (written by `drill seal SITE --dsn`, in the dump's own snapshot) adds each table's
content fingerprint (drills.checks.fingerprints; format 1 is still read), and the tables no
snapshot covered (MariaDB's non-transactional ones: their counts are approximate):
    "fingerprints": {"public.patients": {"digest": "16 hex digits", "one_in": 1, "key": null}, ...},
    "inexact": ["lgo.journal_myisam"]

A database's manifest (any format) may list each table's columns and their types, as the
server's catalog names them (what `drill seal` and `drill manifest --dsn|--file` write); the
restored tables must have them (verify.columns_mismatch):
    "columns": {"public.patients": [["id", "integer"], ["nom", "text"], ...], ...}

Found as `X.manifest.json`, or age-encrypted as `X.manifest.json.age`, beside backup `X`.
"""

import hashlib
import io
import json
import re
import tarfile
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from drills.crypto import age
from drills.engines import ENGINES
from drills.engines.plan import Tree
from drills.checks.findings import FAIL, Finding
from drills.errors import BackupProblem, ConfigError, DrillError
from drills.expected_files import BadEntry, DuplicatePath, ExpectedFiles, document_with_files
from drills.json_stream import TooLarge
from drills.sources.local import MANIFEST_SUFFIXES
from drills.streams import ChunkReader, Meter, decompressed, pieces
from drills import reasons

FORMAT, FINGERPRINTED = 1, 2  # a manifest with fingerprints is format 2
# How far the site's clock and the storage's may disagree: a manifest time past its backup's (or
# past now) by more than this is refused. A forged taken_at gains at most this much freshness.
MAX_CLOCK_SKEW = timedelta(minutes=15)
# A manifest of a million files is about 150 MB; the cap is against a hostile one filling its spool's
# memory filesystem. The members but `files` are decoded whole: MAX_MEMBER characters for them all.
MAX_MANIFEST_BYTES, MAX_MEMBER = 1024**3, 16 * 1024 * 1024
SPOOL, DATABASE = "manifest.json", "manifest.sqlite"


@dataclass(frozen=True)
class Manifest:
    site: str
    taken_at: datetime
    engine: str
    tables: dict[str, int]
    files: ExpectedFiles | None = None  # engine files: the listed files, in a database
    fingerprints: dict[str, dict] | None = None  # format 2: table -> {digest, one_in, key}
    inexact: tuple[str, ...] = ()  # format 2: tables no snapshot covered (their counts are approximate)
    columns: dict[str, list[tuple[str, str]]] | None = None  # table -> its columns and their types, in order


def find(backup, identities, directory: Path) -> tuple[Manifest | None, str | None]:
    """(manifest, its file name) or (None, None); BackupProblem("manifest.invalid") if unreadable or
    larger than MAX_MANIFEST_BYTES. Its plaintext is spooled into `directory`, made private (on the
    drill's memory filesystem), where its files stay in a database; the spool goes once read."""
    for suffix in MANIFEST_SUFFIXES:
        raw = backup.open_sibling(suffix)
        if raw is None:
            continue
        name, spool = backup.name + suffix, directory / SPOOL
        directory.mkdir(mode=0o700, exist_ok=True)
        try:
            with Meter(raw) as meter, open(spool, "xb") as handle:
                reader = io.BufferedReader(meter, buffer_size=1024 * 1024)
                for chunk in age.decrypt(reader, identities) if suffix.endswith(".age") else pieces(reader):
                    if meter.bytes > MAX_MANIFEST_BYTES:
                        raise invalid(f"{name} is larger than {MAX_MANIFEST_BYTES:,} bytes",
                                      hint="a manifest lists at most a few million files: check the backup job")
                    handle.write(chunk)
            with open(spool, encoding="utf-8-sig", newline="") as text:
                return parsed(text, str(directory / DATABASE)), name
        finally:
            spool.unlink(missing_ok=True)
    return None, None


def for_drill(backup, site, identities, now: datetime,
              directory: Path) -> tuple[Manifest | None, str | None, list[Finding]]:
    """The manifest beside `backup` as the site's checks.manifest wants it: (manifest, its file
    name, the failing finding saying why it is refused or missing, if so). Read into `directory`
    (find), its files' database there until the drill removes it."""
    policy = site.checks.manifest
    if policy == "ignore":
        return None, None, []
    manifest = name = None
    try:
        manifest, name = find(backup, identities, directory)
        if manifest:
            check_belongs(manifest, site, backup, now)
    except DrillError as error:  # unreadable, or not this backup's: named in the report, never used
        if manifest and manifest.files:
            manifest.files.close()
        return None, name, [Finding("manifest", backup.name, FAIL, message=error.message, code=error.code,
                                    hint=error.hint)]
    if manifest is None and policy == "required":
        return None, None, [Finding("manifest", backup.name, FAIL, code=reasons.MANIFEST_MISSING,
                                    message=f"no {backup.name}.manifest.json(.age) beside the backup",
                                    hint="the backup job must write the manifest (drill manifest postgres) when "
                                         "it dumps")]
    return manifest, name, []


def parse(data: bytes) -> Manifest:
    """The manifest in `data` (one read apart from a drill: its files in an in-memory database)."""
    return parsed(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline=""), ":memory:")


def parsed(text, database: str) -> Manifest:
    """The manifest in the text file `text`, its files stored in `database`; else manifest.invalid."""
    try:
        document = document_with_files(text, database, MAX_MEMBER)
    except (DuplicatePath, TooLarge, BadEntry) as error:
        raise invalid(f"the manifest {error}") from None
    except (ValueError, UnicodeDecodeError, RecursionError) as error:  # nested too deep: RecursionError
        raise invalid(f"the manifest is not JSON: {error}") from None
    try:
        return checked(document)
    except BaseException:
        if isinstance(document, dict) and isinstance(document.get("files"), ExpectedFiles):
            document["files"].close()
        raise


def checked(document) -> Manifest:
    if not isinstance(document, dict) or type(document.get("format")) is not int or \
            document["format"] not in (FORMAT, FINGERPRINTED):  # not true, not 1.0
        raise invalid(f"the manifest is not format {FORMAT} or {FINGERPRINTED}")
    fingerprints = document.get("fingerprints") if document["format"] == FINGERPRINTED else None
    if fingerprints is not None and not (isinstance(fingerprints, dict) and all(
            valid_fingerprint(entry) for entry in fingerprints.values())):
        raise invalid("the manifest's fingerprints must map table names to {digest, one_in, key}")
    inexact = document.get("inexact", []) if document["format"] == FINGERPRINTED else []
    if not (isinstance(inexact, list) and all(isinstance(table, str) for table in inexact)):
        raise invalid("the manifest's inexact must list table names")
    files = document.get("files")
    tables = document.get("tables", {} if files is not None else None)
    if not isinstance(tables, dict) or not all(
            isinstance(count, int) and not isinstance(count, bool) and count >= 0 for count in tables.values()):
        raise invalid("the manifest's tables must map table names to row counts")
    if files is not None and not isinstance(files, ExpectedFiles):
        raise invalid("the manifest's files must map paths to {size, sha256}")
    columns = document.get("columns")
    if columns is not None and not (isinstance(columns, dict) and all(valid_columns(entry) for entry in columns.values())):
        raise invalid("the manifest's columns must map table names to lists of [name, type]")
    try:
        taken_at = datetime.fromisoformat(str(document.get("taken_at")).replace("Z", "+00:00"))
    except ValueError:
        raise invalid("the manifest's taken_at is not an RFC 3339 time") from None
    if taken_at.tzinfo is None:
        raise invalid("the manifest's taken_at has no time zone")
    return Manifest(site=str(document.get("site")), taken_at=taken_at, engine=str(document.get("engine")),
                    tables=dict(tables), files=files, fingerprints=fingerprints, inexact=tuple(inexact),
                    columns={table: [tuple(column) for column in entry] for table, entry in columns.items()}
                    if columns is not None else None)


def valid_columns(entry) -> bool:
    return isinstance(entry, list) and all(
        isinstance(column, list) and len(column) == 2 and all(isinstance(part, str) for part in column)
        for column in entry)


def valid_fingerprint(entry) -> bool:
    one_in = entry.get("one_in") if isinstance(entry, dict) else None
    key = entry.get("key") if isinstance(entry, dict) else None
    return (isinstance(entry, dict) and isinstance(entry.get("integer_key", False), bool)
            and isinstance(one_in, int) and not isinstance(one_in, bool) and 1 <= one_in <= 2**62
            and one_in & (one_in - 1) == 0 and isinstance(entry.get("digest"), str)
            and re.fullmatch(r"[0-9a-f]{16}", entry["digest"]) is not None
            and (key is None or (isinstance(key, list) and 0 < len(key) <= 32
                                 and all(isinstance(column, str) and 0 < len(column) <= 128 for column in key))))


def check_belongs(manifest: Manifest, site, backup=None, now: datetime | None = None) -> None:
    """BackupProblem if the manifest was written for another site or engine, or its time cannot
    be true: taken in the future, taken after its backup was written (a freshness forged), or
    long before it (an old manifest replayed). The tolerance is MAX_CLOCK_SKEW."""
    if manifest.site != site.id:
        raise invalid(f"the manifest is for site {manifest.site!r}, not {site.id!r}",
                      hint="a backup of another site was delivered here: check the backup job's destination")
    if manifest.engine != site.engine.type:
        raise invalid(f"the manifest is for engine {manifest.engine!r}, not {site.engine.type!r}")
    if now is not None and manifest.taken_at - now > MAX_CLOCK_SKEW:
        raise invalid(f"the manifest says it was taken at {manifest.taken_at:%Y-%m-%d %H:%M} UTC, in the future",
                      hint="the site's clock is wrong, or the manifest was forged: check the backup job's host")
    if backup is None:
        return
    if manifest.taken_at - backup.modified > MAX_CLOCK_SKEW:
        raise invalid(f"the manifest says it was taken at {manifest.taken_at:%Y-%m-%d %H:%M} UTC, after its backup "
                      f"was written ({backup.modified:%Y-%m-%d %H:%M} UTC): its freshness cannot be true",
                      hint="a manifest written for an old backup to make it look new, or a clock far off: check the "
                           "backup job")
    if (backup.modified - manifest.taken_at).total_seconds() > site.targets.rpo:
        hours = (backup.modified - manifest.taken_at).total_seconds() / 3600
        raise invalid(f"the manifest was taken {hours:.0f} h before its backup was written (more than the RPO): "
                      "an old manifest beside a new backup, replayed?",
                      hint="the backup job must write a new manifest with every backup")


def invalid(message: str, hint: str = "the backup job writes the manifest: check it on the site's side"):
    return BackupProblem(reasons.MANIFEST_INVALID, message, hint)


def of_live_database(dsn: str, site_id: str, taken_at: datetime | None = None, engine: str = "postgres") -> str:
    """The manifest of a live database (`drill manifest postgres|mariadb --dsn`): exact counts."""
    if ENGINES[engine].manifest != "live":
        raise ConfigError(f"a {engine} manifest is read from the backup file, not counted on a live database",
                          code=reasons.CONFIG_USAGE, hint="give --file")
    counts, columns = counted(ENGINES[engine].reads.dialect, dsn)
    return render(site_id, engine, taken_at or datetime.now(timezone.utc), tables=counts, columns=columns)


def counted(dialect, target: str) -> tuple[dict[str, int], dict[str, list[tuple[str, str]]]]:
    """Every table's exact count, and its columns (as the verifier reads them of a restore), by DuckDB."""
    try:  # here: a site-side install seals dumps and archives without DuckDB (extra `sqlite` to count)
        from drills.checks import database
        from drills.checks.duckdb_connection import connect_with
    except ModuleNotFoundError as missing:
        raise ConfigError(f"counting the tables needs DuckDB, not installed here ({missing.name})",
                          code=reasons.CONFIG_USAGE,
                          hint="pip install 'restore-drill[sqlite]', or give the manifest the backup job wrote "
                               "(--manifest), or let drill seal dump the database (--dsn)") from None
    connection = connect_with(dialect.extension)
    try:
        counts = database.attach_and_count(connection, target, dialect)
        columns = database.table_columns(connection, dialect)
        return counts, {table: columns.get(table, []) for table in counts}
    finally:
        connection.close()


def of_archive(path: Path, site_id: str, taken_at: datetime | None = None) -> str:
    """The manifest of a tar archive (plain, gzip or zstd; `drill manifest files`): every regular
    file with its size and sha256, read as a stream."""
    def chunks():
        with open(path, "rb") as handle:
            while chunk := handle.read(1024 * 1024):
                yield chunk

    files = {}
    try:
        reader = io.BufferedReader(ChunkReader(b"", decompressed(chunks(), 2**63)), buffer_size=1024 * 1024)
        with tarfile.open(fileobj=reader, mode="r|") as archive:
            for member in archive:
                if member.isfile():
                    digest, content = hashlib.sha256(), archive.extractfile(member)
                    while block := content.read(1024 * 1024):
                        digest.update(block)
                    files[member.name.removeprefix("./")] = {"size": member.size, "sha256": digest.hexdigest()}
    except tarfile.TarError as error:
        raise ConfigError(f"{path} is not a readable tar archive: {error}", code=reasons.CONFIG_USAGE) from None
    return render(site_id, "files", taken_at or datetime.now(timezone.utc), files=files)


def of_backup_file(engine: str, path: Path, site_id: str, taken_at: datetime | None = None) -> str:
    """The manifest an engine computes from the backup file itself (sqlite: its counts; files:
    every file of the archive)."""
    reads = ENGINES[engine].reads
    if ENGINES[engine].manifest != "file":
        raise ConfigError(f"a {engine} manifest is counted on the live database, not read from the dump",
                          code=reasons.CONFIG_USAGE, hint="give --dsn, or the backup job's own manifest")
    if not Path(path).is_file():
        raise ConfigError(f"no file at {path}", code=reasons.CONFIG_USAGE)
    if isinstance(reads, Tree):
        return of_archive(Path(path), site_id, taken_at)
    counts, columns = counted(reads.dialect, str(path))
    return render(site_id, engine, taken_at or datetime.now(timezone.utc), tables=counts, columns=columns)


def render(site_id: str, engine: str, taken_at: datetime, tables: dict[str, int] | None = None,
           files: dict[str, dict] | None = None, fingerprints: dict[str, dict] | None = None,
           inexact: list[str] = (), columns: dict[str, list[tuple[str, str]]] | None = None) -> str:
    document = {"format": FINGERPRINTED if fingerprints is not None else FORMAT, "site": site_id,
                "taken_at": taken_at.isoformat(timespec="seconds"), "engine": engine}
    if fingerprints is not None:
        document["fingerprints"] = dict(sorted(fingerprints.items()))
        document["inexact"] = sorted(inexact)
    if files is not None:
        document["files"] = dict(sorted(files.items()))
    else:
        document["tables"] = dict(sorted((tables or {}).items()))
    if columns is not None:
        document["columns"] = {table: [list(column) for column in entry] for table, entry in sorted(columns.items())}
    return json.dumps(document, indent=2)
