"""A live PostgreSQL 15 cluster archiving its WAL with pgBackRest, as a site's backup host runs it:
in a container of the restore image (PostgreSQL and pgBackRest from Debian), no network, its
socket and its repository in folders of the test. The repository is encrypted (repo1-cipher-pass),
so nothing of the cluster's rows rests on the host's disk in the clear."""

import os
import subprocess
import time
import uuid
from datetime import datetime
from pathlib import Path

from drills.engines.postgres import DEFAULT_POSTGRES_IMAGE
from drills.pipeline import run_drill

DATA = "/var/lib/postgresql/data"
STANZA = "officine"
PASSPHRASE = "une-phrase-de-passe-du-depot-0123456789"


class LiveCluster:
    ARCHIVE_COMMAND = f"pgbackrest --config=/conf/pgbackrest.conf --stanza={STANZA} archive-push %p"
    MOUNTS: tuple[str, ...] = ()  # more `docker run` options (a subclass's archive)

    def __init__(self, directory: Path):
        self.socket, self.repo, self.config = directory / "socket", directory / "repo", directory / "conf"
        for folder in (self.socket, self.repo, self.config):
            folder.mkdir(parents=True)
            os.chown(folder, 999, 999)
        (self.config / "pgbackrest.conf").write_text("\n".join([
            "[global]", "repo1-path=/repo", "repo1-cipher-type=aes-256-cbc", f"repo1-cipher-pass={PASSPHRASE}",
            "repo1-retention-full=9", "log-level-console=warn", "log-level-stderr=warn", "log-level-file=off",
            "lock-path=/tmp/pgbackrest", "start-fast=y", "compress-type=gz",
            f"[{STANZA}]", f"pg1-path={DATA}", "pg1-socket-path=/run/live", ""]))
        self.name = f"live-cluster-{uuid.uuid4().hex[:8]}"
        subprocess.run(["docker", "run", "-d", "--name", self.name, "--network", "none", "--user", "999:999",
                        "-v", f"{self.socket}:/run/live", "-v", f"{self.repo}:/repo", "-v", f"{self.config}:/conf:ro",
                        "--tmpfs", f"{DATA}:uid=999,gid=999,mode=0700", "--tmpfs", "/tmp:mode=1777",
                        *self.MOUNTS, DEFAULT_POSTGRES_IMAGE, "sleep", "infinity"], check=True, capture_output=True)
        self.sh(f"initdb -D {DATA} -U postgres --auth=trust >/dev/null")
        self.start()
        self.prepare_archive()
        self.sql("CREATE DATABASE officine")

    def prepare_archive(self) -> None:
        self.pgbackrest("stanza-create")

    def start(self) -> None:
        options = (f"-c listen_addresses= -c unix_socket_directories=/run/live -c archive_mode=on "
                   f"-c archive_command='{self.ARCHIVE_COMMAND}' -c wal_level=replica")
        self.sh(f'pg_ctl -D {DATA} -w -l /tmp/live.log -o "{options}" start >/dev/null')

    def stop(self) -> None:
        self.sh(f"pg_ctl -D {DATA} -w -m fast stop >/dev/null")

    def sh(self, script: str) -> str:
        done = subprocess.run(["docker", "exec", self.name, "sh", "-c", script], capture_output=True, text=True)
        assert done.returncode == 0, f"{script}: {done.stderr[-2000:]}"
        return done.stdout

    def sql(self, statement: str, database: str = "postgres") -> str:
        return self.sh(f"psql -XAtq -v ON_ERROR_STOP=1 -h /run/live -U postgres -d {database} -c \"{statement}\"").strip()

    def pgbackrest(self, *arguments: str) -> str:
        return self.sh(" ".join(["pgbackrest", "--config=/conf/pgbackrest.conf", f"--stanza={STANZA}", *arguments]))

    def backup(self, kind: str) -> str:
        """A backup of `kind` (full, diff); its label."""
        self.pgbackrest(f"--type={kind}", "backup")
        return sorted(path.name for path in (self.repo / "backup" / STANZA).iterdir() if path.name[:1].isdigit())[-1]

    def pgbench(self, *arguments: str) -> None:
        self.sh(" ".join(["pgbench", "-h", "/run/live", "-U", "postgres", "-q" if "-i" in arguments else "-n",
                          *arguments, "officine", ">/dev/null 2>&1"]))

    def canary(self) -> datetime:
        """A new row in the canary table; its time, as the server wrote it (UTC)."""
        self.sql("CREATE TABLE IF NOT EXISTS canary (written_at timestamptz NOT NULL)", "officine")
        written = self.sql("INSERT INTO canary VALUES (clock_timestamp()) RETURNING written_at AT TIME ZONE 'UTC'",
                           "officine")
        return datetime.fromisoformat(written.splitlines()[0] + "+00:00")

    def archived(self) -> None:
        """The current WAL segment switched and archived (what `pgbackrest check` waits for)."""
        self.pgbackrest("check")

    def remove(self) -> None:
        subprocess.run(["docker", "rm", "-f", self.name], capture_output=True)


def pause() -> None:
    time.sleep(1.1)  # times a second apart: a recovery target between two rows is unambiguous


def drilled(catalog, runtime, **options):
    """The report, and the restored canary's newest row read inside the restore container."""
    seen = {}

    def read_canary(runtime, container, socket_dir, drill_id):
        answer = runtime.run(container, ["psql", "-XAtq", "-h", "/run/drill", "-U", "postgres", "-d", "officine", "-c",
                                         "SELECT max(written_at) AT TIME ZONE 'UTC' FROM canary"], timeout=30)
        seen["canary"] = datetime.fromisoformat(answer.output.strip() + "+00:00")
        return []

    report = run_drill(catalog, catalog.sites[0], runtime=runtime, after_verify=read_canary, **options).report
    return report, seen.get("canary")


def end_time(report) -> datetime:
    return datetime.fromisoformat(report["recovery"]["end_time"].replace("Z", "+00:00"))
