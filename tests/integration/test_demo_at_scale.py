"""The demo pharmacy made by the server itself (benchmark scale): the same tables and row counts
as the Python generator, keys that hold, varied data, and activity ending at `as_of`."""

import json
from datetime import datetime, timedelta, timezone

from drills.checks import database
from drills.checks.dialects import POSTGRES
from drills.checks.duckdb_connection import connect_with
from drills.demo.generator import table_sizes
from drills.demo.seed import SourceDatabase


def test_the_server_made_pharmacy_has_the_generators_shape(docker_engine):
    as_of = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
    with SourceDatabase(patients=3000, runtime=docker_engine, as_of=as_of, at_scale=True) as source:
        manifest = json.loads(source.manifest("pharmacie-test"))  # the foreign keys were added: they hold
        connection = connect_with("postgres")
        database.attach(connection, POSTGRES, source.dsn)
        (names, towns, cip, newest) = database.run(connection, POSTGRES, """
            SELECT (SELECT count(DISTINCT nom) FROM patients) AS names,
                   (SELECT count(DISTINCT ville) FROM patients) AS towns,
                   (SELECT cip13 FROM produits WHERE id = 1) AS cip, (SELECT max(vendu_le)::text FROM ventes) AS newest
            """)[0]
        connection.close()
    assert manifest["tables"] == {f"public.{table}": rows for table, rows in table_sizes(3000).items()}
    assert names > 40 and towns == 8 and cip == "3400930000007"
    assert datetime.fromisoformat(newest) == as_of - timedelta(minutes=5)
