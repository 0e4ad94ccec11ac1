"""Engine `mariadb`: mysqldump SQL (plain, gzip or zstd), for MariaDB and MySQL sites.

The server runs in the container as uid 999 with networking off (`--skip-networking`),
listening only on a unix socket in the work directory; its data lives on a size-limited tmpfs.
The dump is streamed into the `mariadb` client inside the container. Client commands that
mysqldump never writes (`system`/`\\!`, `pager`, `tee`, `source`, `edit`...) are refused before
they reach it. Tables are named `database.table`: dump with `--databases NAME` so the names
match the site's; a dump naming no database is restored into `engine.database`.
"""

import re

from drills import redaction
from drills.checks import database
from drills.engines import tools
from drills.engines.tools import WORK_INSIDE, restore_container
from drills.errors import BackupProblem, InfrastructureError
from drills.runtimes.docker import ContainerSpec
from drills.streams import whole_lines
from drills import reasons

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
CLIENT_COMMANDS = re.compile(rb"\s*(\\[!PTe.]|(system|pager|tee|source|edit)(\s|$))", re.IGNORECASE)


def container_spec(site, drill_id: str, work_dir: str) -> ContainerSpec:
    start = (f"mariadb-install-db --no-defaults --datadir={DATA_DIR} --auth-root-authentication-method=normal "
             f"--skip-test-db >/tmp/install.log 2>&1 && exec mariadbd --no-defaults {' '.join(SERVER_OPTIONS)}")
    return restore_container(site, drill_id, work_dir, ["sh", "-c", start], {
        DATA_DIR: f"size={site.engine.tmpfs},mode=0700,uid=999,gid=999", "/tmp": "size=256m,mode=1777",
        "/run/mysqld": "size=1m,uid=999,gid=999"})


def wait_ready(runtime, container_id: str) -> None:
    tools.wait_until_ready(runtime, container_id, ["mariadb-admin", *CLIENT, "ping"], "the MariaDB server",
                           "check the restore image (engine.image) and the container logs", timeout=READY_TIMEOUT,
                           interval=0.2)


def without_client_commands(chunks):
    """The dump, refused at the first line that is a client command mysqldump never writes."""
    for lines, terminated in whole_lines(chunks):
        for line in lines:
            refuse_client_command(line)
        yield b"\n".join(lines) + (b"\n" if terminated else b"")


def refuse_client_command(line: bytes) -> None:
    if CLIENT_COMMANDS.match(line):
        raise BackupProblem(reasons.RESTORE_FAILED,
                            "the SQL dump holds a mariadb client command mysqldump never writes "
                            f"({line.strip()[:40].decode('utf-8', 'replace')!r}): refused",
                            hint="a hostile or hand-edited dump: check the backup job and who can write it")


def restore(runtime, container_id: str, engine, plaintext, ready=lambda: None) -> None:
    ready()
    created = runtime.run(container_id, ["mariadb", *CLIENT, "-e", f"CREATE DATABASE IF NOT EXISTS `{engine.database}`"],
                          timeout=30)
    if created.exit_code != 0:
        raise InfrastructureError(reasons.ERROR_RUNTIME,
                                  f"cannot create the restore database: {created.output.strip()}")
    result = runtime.run(container_id, ["mariadb", *CLIENT, "--binary-mode", engine.database],
                         input=without_client_commands(plaintext), timeout=engine.timeout)
    if result.exit_code != 0:
        raise BackupProblem(reasons.RESTORE_FAILED, f"mariadb failed (exit {result.exit_code}): "
                                                    f"{redaction.tool_output(result.output)}",
                            hint="the dump does not restore: check the backup job's mysqldump and its log")


def attach_dsn(work_dir: str) -> str:
    return f"host=localhost user=root socket={work_dir}/mysqld.sock database=mysql"


def verify(work_dir: str, site, manifest, started_at, watchdog):
    return database.verify_database(database.MYSQL, attach_dsn(work_dir), site, manifest, started_at, watchdog)
