"""What every PostgreSQL restore container shares, dump or physical: where its data lives, where
its server logs (in the container's memory: its messages quote rows), and how its last error
code is read from that log."""

from drills.engines.plan import LastError

DATA_DIR = "/var/lib/postgresql/data"
SERVER_LOG = "/tmp/server.log"
# SQLSTATE classes (https://www.postgresql.org/docs/current/errcodes-appendix.html), in words.
SQLSTATE_CLASSES = {
    "08": "connection exception", "0A": "feature not supported", "22": "data exception",
    "23": "integrity constraint violation", "25": "invalid transaction state", "28": "invalid authorization",
    "2B": "dependent privilege descriptors still exist", "3F": "invalid schema name", "40": "transaction rollback",
    "42": "syntax error or access rule violation", "53": "insufficient resources", "54": "program limit exceeded",
    "55": "object not in prerequisite state", "57": "operator intervention", "58": "system error",
    "P0": "PL/pgSQL error", "XX": "internal error",
}
# The last ERROR is what stopped the restore; a FATAL only when there is none: a parallel pg_restore
# stopping on an error disconnects its other workers, and the server's FATAL 08006 for them may come last.
LAST_ERROR = LastError(command=("sh", "-c", f"(grep -oE '^[0-9A-Z]{{5}} ERROR' {SERVER_LOG} || "
                                            f"grep -oE '^[0-9A-Z]{{5}} (FATAL|PANIC)' {SERVER_LOG}) "
                                            "| tail -n 1 | cut -c1-5"),
                       label="SQLSTATE", pattern=r"^([0-9A-Z]{5})$", classes=SQLSTATE_CLASSES,
                       full=frozenset({"53100"}))  # disk_full
