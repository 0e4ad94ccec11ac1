"""Source `sftp`: a directory on an SSH server; the newest file matching the pattern.

Host keys are checked against the site's `known_hosts` file only: an unknown or changed host
key is refused (`error.source_host_key`), never accepted with a warning, because a changed
key is exactly what a man in the middle looks like. Authentication is by key file (mode 600);
no agent, no password. Each use opens its own connection: listing, reading the backup (streamed
with read-ahead) and reading a manifest.
"""

import fnmatch
import io
import secrets
import stat
from contextlib import contextmanager
from datetime import datetime, timezone

import paramiko

from drills.crypto.identities import read_secret_file
from drills.errors import BackupProblem, InfrastructureError
from drills.sources.backup import Backup
from drills.sources.local import MANIFEST_SUFFIXES
from drills import reasons

TIMEOUT = 15


def where(settings) -> str:
    return f"sftp://{settings.user}@{settings.host}:{settings.port}{settings.path}"


def connect(settings):
    """(SSH client, SFTP session) to the site's server; InfrastructureError if it cannot be had."""
    read_secret_file(settings.key_file)  # refused if missing or readable by others
    client = paramiko.SSHClient()
    try:
        client.load_host_keys(str(settings.known_hosts))
    except OSError as error:
        raise InfrastructureError(reasons.ERROR_SOURCE,
                                  f"cannot read known_hosts {settings.known_hosts}: {error.strerror}",
                                  hint="add the server's host key with ssh-keyscan, checked out of band") from None
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    try:
        client.connect(settings.host, port=settings.port, username=settings.user,
                       pkey=paramiko.PKey.from_path(str(settings.key_file)), look_for_keys=False, allow_agent=False,
                       timeout=TIMEOUT, banner_timeout=TIMEOUT, auth_timeout=TIMEOUT)
        return client, client.open_sftp()
    except paramiko.BadHostKeyException:
        client.close()
        raise InfrastructureError(reasons.ERROR_SOURCE_HOST_KEY, f"{where(settings)}: the server's host key CHANGED",
                                  hint="possible man in the middle: verify the new key with the host out of band "
                                       "before updating known_hosts") from None
    except paramiko.SSHException as error:
        client.close()
        if "not found in known_hosts" in str(error):
            raise InfrastructureError(reasons.ERROR_SOURCE_HOST_KEY,
                                      f"{where(settings)}: the server's host key is unknown",
                                      hint="add it to the site's known_hosts, checked out of band") from None
        raise unreachable(settings, error) from None
    except OSError as error:
        client.close()
        raise unreachable(settings, error) from None


def unreachable(settings, error) -> InfrastructureError:
    return InfrastructureError(reasons.ERROR_SOURCE, f"{where(settings)}: {error}",
                               hint="check the host, the port, the user and its key, and the network")


@contextmanager
def session(settings):
    client, sftp = connect(settings)
    try:
        yield sftp
    except OSError as error:
        raise unreachable(settings, error) from None
    finally:
        client.close()


def backups(settings) -> list[Backup]:
    """Every matching file, newest first (modification time, then name)."""
    with session(settings) as sftp:
        entries = sftp.listdir_attr(str(settings.path))
    files = [entry for entry in entries if stat.S_ISREG(entry.st_mode or 0)
             and fnmatch.fnmatch(entry.filename, settings.pattern) and not entry.filename.endswith(MANIFEST_SUFFIXES)]
    if not files:
        raise BackupProblem(reasons.BACKUP_MISSING, f"no file matches {settings.pattern!r} in {where(settings)}",
                            hint="the backup job did not deliver: check its upload on the site's side")
    files.sort(key=lambda entry: (entry.st_mtime, entry.filename), reverse=True)
    return [describe(settings, entry) for entry in files]


def describe(settings, entry) -> Backup:
    path = f"{settings.path}/{entry.filename}"
    return Backup(name=entry.filename, size=entry.st_size,
                  modified=datetime.fromtimestamp(entry.st_mtime, timezone.utc),
                  open=lambda: SftpReader(settings, path),
                  open_sibling=lambda suffix: open_sibling(settings, path + suffix))


def open_sibling(settings, path: str):
    """A sibling file as a raw stream (read ahead, as the backup's), None if absent."""
    with session(settings) as sftp:
        try:
            sftp.stat(path)
        except FileNotFoundError:
            return None
    return SftpReader(settings, path)


class SftpReader(io.RawIOBase):
    """The remote file as a raw stream, read ahead; its connection closes with it."""

    def __init__(self, settings, path: str):
        self.settings = settings
        self.client, sftp = connect(settings)
        try:
            self.file = sftp.open(path, "rb")
            self.file.prefetch()
        except OSError as error:
            self.client.close()
            raise unreachable(settings, error) from None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        try:
            data = self.file.read(len(buffer))
        except (OSError, EOFError, paramiko.SSHException) as error:
            raise unreachable(self.settings, error) from None
        memoryview(buffer)[:len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self.client.close()
        super().close()


@contextmanager
def writer(settings, name: str):
    draft, final = f"{settings.path}/.{name}.{secrets.token_hex(4)}.partial", f"{settings.path}/{name}"
    with session(settings) as sftp:
        try:
            with sftp.open(draft, "wb") as handle:
                handle.set_pipelined(True)
                yield handle
            sftp.posix_rename(draft, final)
        except BaseException:
            try:
                sftp.remove(draft)
            except OSError:
                pass
            raise
