"""What produced a report: Restore Drill's version, the restore image, the engine's server, the
verifier's DuckDB and its extensions, the host (docs/evidence-format.md, "provenance")."""

import socket
from functools import cache
from importlib import metadata

DISTRIBUTION = "restore-drill"


def provenance(image_name: str, image: dict | None, server_version: str | None) -> dict:
    """The report's `provenance`: `image` what the runtime says of the image the container ran
    ({id, repo_digests}), `server_version` what the engine's server (or tool) printed; None
    when unknown."""
    image = image or {"id": None, "repo_digests": []}
    return {"restore_drill": installed(DISTRIBUTION) or "unknown", "host": socket.gethostname(),
            "image": {"name": image_name, "id": image["id"], "repo_digests": image["repo_digests"]},
            "server_version": server_version, **verifier_versions()}


@cache
def verifier_versions() -> dict:
    """DuckDB's version and each of its extension packages installed (by extension name)."""
    from drills.checks.duckdb_connection import EXTENSION_PACKAGES  # loads DuckDB: only when a report is made

    extensions = {name: version for package, name in EXTENSION_PACKAGES.values()
                  if (version := installed(package.replace("_", "-")))}
    return {"duckdb": installed("duckdb") or "unknown", "duckdb_extensions": extensions}


def installed(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None
