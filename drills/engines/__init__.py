"""The engines: how each kind of backup is restored and read, one module each.

An engine module declares `ENGINE = Engine(...)` (drills.engines.plan): its catalog options, the
plan of a restore (container, ordered steps, dump filters, how it fails), what the verifier reads
(a database through a DuckDB dialect, or a tree of files), where its manifest is counted, and
whether the kit exports it. drills.engines.executor runs any plan, drills.checks.restored
verifies any engine's result. Registering an engine is its line below; `postgres` is the model.
"""

from drills.engines import files, mariadb, postgres, sqlite
from drills.engines.plan import Engine

ENGINES: dict[str, Engine] = {engine.name: engine for engine in (
    postgres.ENGINE,
    mariadb.ENGINE,
    sqlite.ENGINE,
    files.ENGINE,
)}


def engine_for(site) -> Engine:
    return ENGINES[site.engine.type]
