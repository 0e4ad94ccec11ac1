"""The manifest written beside a backup when it was taken: what the restore must show.

    {"format": 1, "site": "...", "taken_at": "RFC 3339", "engine": "postgres",
     "tables": {"public.patients": 1234, ...}}

Found as `X.manifest.json`, or age-encrypted as `X.manifest.json.age`, beside backup `X`.
"""

import io
import json
from dataclasses import dataclass
from datetime import datetime, timezone

from drills.checks import database
from drills.checks.duckdb_connection import connect_with
from drills.crypto import age
from drills.errors import BackupProblem

FORMAT = 1


@dataclass(frozen=True)
class Manifest:
    site: str
    taken_at: datetime
    engine: str
    tables: dict[str, int]


def find(backup, identities) -> tuple[Manifest | None, str | None]:
    """(manifest, its file name) or (None, None); BackupProblem("manifest.invalid") if unreadable."""
    for suffix in (".manifest.json", ".manifest.json.age"):
        data = backup.read_sibling(suffix)
        if data is None:
            continue
        if suffix.endswith(".age"):
            data = b"".join(age.decrypt(io.BufferedReader(io.BytesIO(data)), identities))
        return parse(data), backup.name + suffix
    return None, None


def parse(data: bytes) -> Manifest:
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        raise invalid(f"the manifest is not JSON: {error}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise invalid(f"the manifest is not format {FORMAT}")
    tables = document.get("tables")
    if not isinstance(tables, dict) or not all(
            isinstance(count, int) and not isinstance(count, bool) and count >= 0 for count in tables.values()):
        raise invalid("the manifest's tables must map table names to row counts")
    try:
        taken_at = datetime.fromisoformat(str(document.get("taken_at")).replace("Z", "+00:00"))
    except ValueError:
        raise invalid("the manifest's taken_at is not an RFC 3339 time") from None
    if taken_at.tzinfo is None:
        raise invalid("the manifest's taken_at has no time zone")
    return Manifest(site=str(document.get("site")), taken_at=taken_at, engine=str(document.get("engine")),
                    tables=dict(tables))


def check_belongs(manifest: Manifest, site) -> None:
    """BackupProblem if the manifest was written for another site or engine."""
    if manifest.site != site.id:
        raise invalid(f"the manifest is for site {manifest.site!r}, not {site.id!r}",
                      hint="a backup of another site was delivered here: check the backup job's destination")
    if manifest.engine != site.engine.type:
        raise invalid(f"the manifest is for engine {manifest.engine!r}, not {site.engine.type!r}")


def invalid(message: str, hint: str = "the backup job writes the manifest: check it on the site's side"):
    return BackupProblem("manifest.invalid", message, hint)


def of_live_database(dsn: str, site_id: str, taken_at: datetime | None = None) -> str:
    """The manifest of a live PostgreSQL database (`drill manifest postgres`): exact counts."""
    connection = connect_with("postgres")
    try:
        counts = database.attach_and_count(connection, dsn)
    finally:
        connection.close()
    return render(site_id, "postgres", taken_at or datetime.now(timezone.utc), counts)


def render(site_id: str, engine: str, taken_at: datetime, tables: dict[str, int]) -> str:
    return json.dumps({"format": FORMAT, "site": site_id, "taken_at": taken_at.isoformat(timespec="seconds"),
                       "engine": engine, "tables": dict(sorted(tables.items()))}, indent=2)
