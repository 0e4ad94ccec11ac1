"""DuckDB connections that never download anything: extensions come from PyPI packages."""

import importlib
from pathlib import Path

import duckdb

from drills.errors import InfrastructureError

EXTENSION_PACKAGES = {"postgres": ("duckdb_extension_postgres_scanner", "postgres_scanner"),
                      "mysql": ("duckdb_extension_mysql_scanner", "mysql_scanner"),
                      "sqlite": ("duckdb_extension_sqlite_scanner", "sqlite_scanner")}


def connect_with(extension: str) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with `extension` loaded from its pip package; autoinstall off."""
    connection = duckdb.connect(config={"autoinstall_known_extensions": False,
                                        "autoload_known_extensions": False})
    package_name, file_stem = EXTENSION_PACKAGES[extension]
    try:
        package = importlib.import_module(package_name)
        path = Path(package.__file__).parent / "extensions" / f"v{duckdb.__version__}" / f"{file_stem}.duckdb_extension"
        connection.execute(f"LOAD '{path}'")
    except (ImportError, duckdb.Error) as error:
        connection.close()
        raise InfrastructureError("verifier", f"cannot load DuckDB's {extension} extension: {error}",
                                  hint=f"pip install {package_name.replace('_', '-')}=={duckdb.__version__}") from None
    return connection
