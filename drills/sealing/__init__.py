"""`drill seal SITE --dsn DSN`: the dump and its manifest from one snapshot of the live database,
made on the site's side by the database's own tools (drills.sealing.postgres, .mariadb).

A snapshot is opened (`Snapshot(dsn, dump_format)`: its `taken_at` by the server's clock), every
table counted and fingerprinted in it (`counted(choice, cap)`: counts, fingerprints; `inexact`:
the tables no snapshot covers; `columns()`: each table's columns and types), then dumped (`dump()`: the dump's chunks, streamed into age and
the upload, no plaintext file on the site's disk), and `close()`d.
"""

from drills.sealing import mariadb, postgres

SNAPSHOTS = {"postgres": postgres.Snapshot, "mariadb": mariadb.Snapshot}
