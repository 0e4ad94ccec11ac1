"""Engine `mariadb`: mysqldump SQL (plain, gzip or zstd), for MariaDB and MySQL sites.

The server runs in the container as uid 999 with networking off (`--skip-networking`),
listening only on a unix socket in the work directory; its data lives on a size-limited tmpfs.
The dump is streamed into the `mariadb` client inside the container. Client commands that
mysqldump never writes (`system`/`\\!`, `pager`, `tee`, `source`, `edit`...) are refused before
they reach it. Tables are named `database.table`: dump with `--databases NAME` so the names
match the site's; a dump naming no database is restored into `engine.database`.
"""

import re
from dataclasses import dataclass

from drills.checks.dialects import MYSQL
from drills.engines.plan import (
    SETUP, WORK_INSIDE, Database, Engine, LastError, Plan, Step, common_options, data_tmpfs, restore_container,
)
from drills.errors import BackupProblem
from drills.options import Choice, Record, Text
from drills.runtimes.spec import ContainerSpec
from drills.streams import whole_line_blocks
from drills import reasons

DEFAULT_MARIADB_IMAGE = "restore-drill/mariadb:10.11-bookworm"
SOCKET = f"{WORK_INSIDE}/mysqld.sock"
DATA_DIR = "/var/lib/mysql"
SERVER_OPTIONS = (  # a throwaway server: durability is worthless here, restore speed is everything
    "--skip-networking", f"--socket={SOCKET}", f"--datadir={DATA_DIR}", "--pid-file=/tmp/mysqld.pid",
    "--log-error=/tmp/mysqld.err", "--skip-log-bin", "--innodb-flush-log-at-trx-commit=0",
    "--innodb-doublewrite=0", "--innodb-buffer-pool-size=256M", "--skip-name-resolve",
    "--local-infile=0", "--secure-file-priv=/run/mysqld",  # a dump's INTO OUTFILE / LOAD_FILE reach 1 MB of tmpfs
)
CLIENT = ["--no-defaults", f"--socket={SOCKET}", "--user=root"]
READY_TIMEOUT = 60
# Client commands (at the start of a line) that run programs or read files: never in a mysqldump.
COMMAND = rb"[^\S\n]*(\\[!PTe.]|(system|pager|tee|source|edit)(\s|$))"
CLIENT_COMMANDS = re.compile(COMMAND, re.IGNORECASE | re.MULTILINE)  # at the start of the first line
LATER_CLIENT_COMMANDS = re.compile(rb"\n" + COMMAND, re.IGNORECASE | re.MULTILINE)  # at the start of any other


def container_spec(site, drill_id: str, work_dir: str) -> ContainerSpec:
    start = (f"mariadb-install-db --no-defaults --datadir={DATA_DIR} --auth-root-authentication-method=normal "
             f"--skip-test-db >/tmp/install.log 2>&1 && exec mariadbd --no-defaults {' '.join(SERVER_OPTIONS)}")
    return restore_container(site, drill_id, work_dir, ["sh", "-c", start], {
        DATA_DIR: data_tmpfs(site), "/tmp": "size=256m,mode=1777",
        "/run/mysqld": "size=1m,uid=999,gid=999"})


def without_client_commands(chunks):
    """The dump, refused at the first line that is a client command mysqldump never writes.
    Judged a block of whole lines at a time by one regular expression (mariadb-dump writes a row
    a line: about 20 million lines a GB, too many to judge one by one in Python)."""
    for block in whole_line_blocks(chunks):
        found = CLIENT_COMMANDS.match(block) or LATER_CLIENT_COMMANDS.search(block)
        if found:
            command = block[found.start(1):found.start(1) + 40].split(b"\n")[0]
            raise BackupProblem(reasons.RESTORE_FAILED,
                                "the SQL dump holds a mariadb client command mysqldump never writes "
                                f"({command.strip().decode('utf-8', 'replace')!r}): refused",
                                hint="a hostile or hand-edited dump: check the backup job and who can write it")
        yield block


# The client's own error numbers (ERROR 1114 (HY000) at line 5: ...): 1114 a table is full, 1021 the disk is.
LAST_ERROR = LastError(command=(), label="", pattern=r"^ERROR (\d+) \(", classes={}, full=frozenset({"1114", "1021"}))


def plan(site, drill_id: str, work_dir: str, request=None) -> Plan:
    database = site.engine.database
    create = Step("creating the restore database",
                  ("mariadb", *CLIENT, "-e", f"CREATE DATABASE IF NOT EXISTS `{database}`"), when=SETUP, timeout=30)
    restoring = Step("mariadb", ("mariadb", *CLIENT, "--binary-mode", database), dump=True,
                     hint="the dump does not restore: check the backup job's mysqldump and its log")
    return Plan(container=container_spec(site, drill_id, work_dir), server="the MariaDB server",
                ready=("mariadb-admin", *CLIENT, "ping"), ready_timeout=READY_TIMEOUT, ready_interval=0.2,
                steps=(create, restoring), filters=(without_client_commands,), data_mounts=(DATA_DIR,),
                last_error=LAST_ERROR, version=("sh", "-c", "mariadbd --version 2>/dev/null"))


def attach_dsn(work_dir: str) -> str:
    return f"host=localhost user=root socket={work_dir}/mysqld.sock database=mysql"


@dataclass(frozen=True)
class Settings:
    type: str
    image: str
    database: str
    memory: int
    tmpfs: int
    timeout: int
    max_decompressed: int
    format: str = "sql"


OPTIONS = Record(
    "MariaDB or MySQL: mysqldump SQL (plain, gzip, zstd), restored in a throwaway container with no network.",
    {
        "type": Choice("Engine plug-in.", ("mariadb",), required=True, example="mariadb"),
        "image": Text("Restore image; the official mariadb image in real deployments.",
                      default=DEFAULT_MARIADB_IMAGE, example="mariadb:10.11"),
        "database": Text("Database a dump naming none is restored into (dump with --databases NAME so that "
                         "table names, database.table, match the site's).", pattern=r"[A-Za-z0-9_]{1,64}",
                         default="restore", example="lgo"),
        **common_options("Size of the tmpfs holding the restored database."),
    },
    build=Settings,
)

ENGINE = Engine("mariadb", OPTIONS, plan, Database(MYSQL, lambda site, work_dir, seconds_left: attach_dsn(work_dir)),
                manifest="live")
