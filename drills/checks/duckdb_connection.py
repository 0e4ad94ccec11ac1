"""DuckDB connections for the verifier: nothing downloaded, nothing spilled, nothing reachable.

Extensions come from PyPI packages (autoinstall off). A restored database is hostile input: a
view of a restored SQLite file is DuckDB SQL run in this process, so once the database is
attached, `lock_down` turns external access off (no file, no URL: `read_text('/etc/...')`
fails) and locks the configuration, so no later statement can turn it back on. Memory is
capped and nothing is ever spilled to disk (DuckDB's default spills an in-memory database's
intermediates, rows included, into `./.tmp`).
"""

import importlib
from pathlib import Path

import duckdb

from drills.errors import InfrastructureError
from drills import reasons

EXTENSION_PACKAGES = {"postgres": ("duckdb_extension_postgres_scanner", "postgres_scanner"),
                      "mysql": ("duckdb_extension_mysql_scanner", "mysql_scanner"),
                      "sqlite": ("duckdb_extension_sqlite_scanner", "sqlite_scanner")}
MEMORY_LIMIT = "1GB"  # counts are pushed down; a verifier needing more is being attacked
THREADS = 2


def connect_with(extension: str) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with `extension` loaded from its pip package; autoinstall off,
    memory capped, no spilling to disk."""
    connection = duckdb.connect(config={"autoinstall_known_extensions": False,
                                        "autoload_known_extensions": False,
                                        "memory_limit": MEMORY_LIMIT, "threads": THREADS, "temp_directory": ""})
    package_name, file_stem = EXTENSION_PACKAGES[extension]
    try:
        package = importlib.import_module(package_name)
        path = Path(package.__file__).parent / "extensions" / f"v{duckdb.__version__}" / f"{file_stem}.duckdb_extension"
        connection.execute(f"LOAD '{path}'")
    except (ImportError, duckdb.Error) as error:
        connection.close()
        raise InfrastructureError(reasons.ERROR_VERIFIER, f"cannot load DuckDB's {extension} extension: {error}",
                                  hint=f"pip install {package_name.replace('_', '-')}=={duckdb.__version__}") from None
    return connection


def lock_down(connection: duckdb.DuckDBPyConnection, writable: tuple[str, ...] = ()) -> None:
    """From now on the connection reaches no file and no URL (but the `writable` directories:
    an export's staging area), and its configuration cannot be changed again."""
    if writable:
        folders = ", ".join("'" + str(Path(folder)).replace("'", "''") + "/'" for folder in writable)
        connection.execute(f"SET allowed_directories = [{folders}]")
    connection.execute("SET enable_external_access = false")
    connection.execute("SET lock_configuration = true")
