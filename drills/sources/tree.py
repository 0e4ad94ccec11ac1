"""A tree of files at a source, listed and read without trusting its names: a pgBackRest
repository, a folder of archived WAL (a posix directory, or an S3 prefix).

Only regular files are listed, never through a link: a link planted in a repository cannot make
the worker read its own files into a restore container. Keys are relative, '/'-separated, and a
key naming `..`, `.`, an empty or an unprintable part is refused (backup.missing would hide it:
restore.failed names it).
"""

import os
import stat
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from drills.errors import BackupProblem, ConfigError, InfrastructureError
from drills.redaction import printable
from drills import reasons


@dataclass(frozen=True)
class Entry:
    key: str  # relative to the tree's root
    size: int
    modified: datetime
    etag: str | None = None  # S3: a read is pinned to it


def checked_key(key: str) -> str:
    parts = key.split("/")
    if any(part in ("", ".", "..") or not part.isprintable() for part in parts):
        raise BackupProblem(reasons.RESTORE_FAILED, f"the source holds a file named {printable(key)!r}",
                            hint="a repository or a WAL archive is written by its backup tool only: check who "
                                 "else writes to it")
    return key


class LocalTree:
    def __init__(self, root: Path):
        self.root = Path(root)

    def list(self, prefix: str) -> list[Entry]:
        """Every regular file under root/prefix (never through a link); [] if it does not exist."""
        top = self.root / prefix
        try:
            if not stat.S_ISDIR(os.lstat(top).st_mode):
                return []
        except FileNotFoundError:
            return []
        except OSError as error:
            raise unreadable(top, error) from None
        def stop(error: OSError):
            raise unreadable(top, error)

        found = []
        for directory, _, names in os.walk(top, onerror=stop):
            for name in names:
                status = os.lstat(os.path.join(directory, name))
                if stat.S_ISREG(status.st_mode):
                    key = os.path.relpath(os.path.join(directory, name), self.root).replace(os.sep, "/")
                    found.append(Entry(checked_key(key), status.st_size,
                                       datetime.fromtimestamp(status.st_mtime, timezone.utc)))
        return sorted(found, key=lambda entry: entry.key)

    def open(self, entry: Entry):
        """The file's bytes (a link put in its place since the listing is refused by O_NOFOLLOW)."""
        path = self.root / entry.key
        try:
            return os.fdopen(os.open(path, os.O_RDONLY | os.O_NOFOLLOW), "rb", buffering=0)
        except OSError as error:
            raise unreadable(path, error) from None


class S3Tree:
    def __init__(self, client, location, extra: dict):
        self.client, self.location, self.extra = client, location, extra

    def list(self, prefix: str) -> list[Entry]:
        from botocore.exceptions import BotoCoreError, ClientError
        from drills.sources.s3 import unreachable

        full = self.location.prefix + prefix
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.location.bucket, Prefix=full)
            items = [item for page in pages for item in page.get("Contents", [])]
        except (BotoCoreError, ClientError) as error:
            raise unreachable(self.location, error) from None
        return sorted((Entry(checked_key(item["Key"][len(self.location.prefix):]), item["Size"],
                             item["LastModified"], item["ETag"]) for item in items if not item["Key"].endswith("/")),
                      key=lambda entry: entry.key)

    def open(self, entry: Entry):
        from drills.sources.s3 import ResumingReader

        return ResumingReader(self.client, self.location, self.location.prefix + entry.key, entry.etag, self.extra)


def tree_of(settings):
    """The tree a site's source points at: source.path (local) or the bucket's prefix (s3)."""
    if settings.type == "local":
        return LocalTree(Path(settings.path))
    if settings.type == "s3":
        from drills.s3 import s3_client
        from drills.sources.s3 import customer_key

        return S3Tree(s3_client(settings.location), settings.location, customer_key(settings))
    raise ConfigError(f"a pgBackRest repository or a WAL archive is read from a local path or S3, not {settings.type}",
                      hint="copy the site's backups to a local folder or a bucket, or use a dump format")


def unreadable(path, error: OSError) -> InfrastructureError:
    return InfrastructureError(reasons.ERROR_SOURCE, f"cannot read {path}: {error.strerror}",
                               hint="check the mount (NFS, SMB) or the site's source.path")
