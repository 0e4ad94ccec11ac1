"""A live PostgreSQL 15 archiving its WAL as a site with pg_basebackup does: archive_command copies
each segment into a tmpfs inside the cluster's container (plaintext WAL never rests on the host's
disk), and `ship()` encrypts each one with the real age CLI on its way out into the site's WAL
folder, as the site's job would. The base backup is `pg_basebackup -D - -Ft -X fetch` piped
through a compressor and age into the site's folder."""

import subprocess
import time
from pathlib import Path

from tests.integration.live_cluster import LiveCluster


class BaseBackupCluster(LiveCluster):
    ARCHIVE_COMMAND = "cp %p /archive/%f"
    MOUNTS = ("--tmpfs", "/archive:uid=999,gid=999,mode=0700")

    def __init__(self, directory: Path, site: Path, recipient: str):
        self.site, self.recipient, self.shipped = site, recipient, set()
        (site / "wal").mkdir(parents=True)
        super().__init__(directory)

    def prepare_archive(self) -> None:
        pass

    def pipe(self, command: str, target: Path, compressor: str | None = None) -> None:
        """`docker exec` of `command` in the cluster, its stdout compressed on the host if asked, then
        encrypted by age into `target`."""
        script = f"docker exec {self.name} {command} | {compressor or 'cat'} | age -r {self.recipient} -o {target}"
        done = subprocess.run(["bash", "-o", "pipefail", "-c", script], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-2000:]

    def base_backup(self, name: str, compressor: str = "zstd -q") -> Path:
        """The base backup, compressed and encrypted on its way: the site's file `name`."""
        self.pipe("pg_basebackup -D - -Ft -X fetch -c fast -h /run/live -U postgres", self.site / name, compressor)
        return self.site / name

    def switch(self) -> str:
        """The current segment closed and archived; its name."""
        closed = self.sql("SELECT pg_walfile_name(pg_switch_wal())")
        deadline = time.monotonic() + 30
        while self.sql("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver") < closed:
            assert time.monotonic() < deadline, f"{closed} was not archived"
            time.sleep(0.1)
        return closed

    def ship(self) -> list[str]:
        """Every archived file not shipped yet, encrypted into the site's wal/ (every other segment
        compressed with zstd first, as `.zst.age`); the names shipped."""
        names = sorted(set(self.sh("ls /archive").split()) - self.shipped)
        for index, name in enumerate(names):
            compressed = index % 2 and not name.endswith((".backup", ".history"))
            self.pipe(f"cat /archive/{name}", self.site / "wal" / f"{name}{'.zst' if compressed else ''}.age",
                      "zstd -q" if compressed else None)
        self.shipped |= set(names)
        return names
