"""A pgBackRest repository as the source of a site's backups (engine postgres, format pgbackrest).

The repository stays where the site's backups are: a posix directory (source `local`, its path)
or an S3 bucket (source `s3`, its prefix). Its backup sets are listed from backup.info, decrypted
here with the repository's passphrase (labels, times and WAL ranges: never a row). A drill of a
set hands its restore container exactly what `pgbackrest restore` and the recovery read, as one
tar stream onto the container's tmpfs, hashed like any backup: backup.info and archive.info (and
their copies), the set and the sets it references, and the archived WAL from the set's start on.
The container never reaches the repository: it has no network. pgBackRest decrypts inside.

Everything read here is the backup's, so hostile: labels, archive ids and segment names are
matched against what pgBackRest writes, and anything else is refused before it names a path.
"""

import hashlib
import json
import re
from dataclasses import dataclass, replace
from datetime import datetime, timezone

from cryptography.hazmat.primitives import padding as pkcs7
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from drills.errors import BackupProblem
from drills.redaction import printable
from drills.sources import wal
from drills.sources.backup import Backup
from drills.tarstream import StreamReader, stream_size, tar_stream
from drills.sources.tree import tree_of
from drills import reasons

LABEL = re.compile(r"^\d{8}-\d{6}F(_\d{8}-\d{6}[DI])?$")
ARCHIVE_ID = re.compile(r"^\d{1,3}(\.\d{1,3})?-\d{1,9}$")
STANZA = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
MAX_INFO_BYTES = 16 * 1024 * 1024
SALTED = b"Salted__"
STAGED = "repo/"  # where the repository's files land in the container's staging directory
NOT_A_REPOSITORY = "the path holds no pgBackRest repository for that stanza (backup.info is missing)"


@dataclass(frozen=True)
class BackupSet:
    label: str
    kind: str  # full, diff, incr
    references: tuple[str, ...]  # the earlier sets whose files it uses
    archive_id: str  # the archive's folder: "15-1"
    archive_start: str  # the first WAL segment its restore needs
    lsn_start: str
    lsn_stop: str
    started: datetime
    stopped: datetime
    encrypted: bool  # the repository's files are (repo1-cipher-type)
    stored_until: datetime | None = None  # when the storage received the newest file handed on


def decrypt(data: bytes, passphrase: bytes) -> bytes:
    """A file as `openssl enc -aes-256-cbc -md sha1` wrote it (pgBackRest's cipher), or `data` if
    it is not encrypted. decrypt.wrong_key if the passphrase does not open it."""
    if not data.startswith(SALTED):
        return data
    salt, body = data[8:16], data[16:]
    derived, block = b"", b""
    while len(derived) < 48:  # EVP_BytesToKey, SHA-1, one round: key (32) and IV (16)
        block = hashlib.sha1(block + passphrase + salt).digest()
        derived += block
    try:
        decryptor = Cipher(algorithms.AES(derived[:32]), modes.CBC(derived[32:48])).decryptor()
        unpadder = pkcs7.PKCS7(128).unpadder()
        return unpadder.update(decryptor.update(body) + decryptor.finalize()) + unpadder.finalize()
    except ValueError:
        raise wrong_passphrase() from None


def wrong_passphrase() -> BackupProblem:
    return BackupProblem(reasons.DECRYPT_WRONG_KEY, "the repository's passphrase does not open its backup.info",
                         hint="the site's decrypt.passphrase_* must hold the repository's repo1-cipher-pass")


def sections(text: str) -> dict[str, dict[str, str]]:
    """pgBackRest's info file: [section] then key=value lines (values are JSON)."""
    found: dict[str, dict[str, str]] = {}
    current = found.setdefault("", {})
    for line in text.splitlines():
        if line.startswith("[") and line.endswith("]"):
            current = found.setdefault(line[1:-1], {})
        elif "=" in line:
            key, value = line.split("=", 1)
            current[key] = value
    return found


def backup_sets(info: bytes, passphrase: bytes) -> list[BackupSet]:
    """The sets backup.info lists, newest first; decrypt.wrong_key or restore.failed if it cannot be read."""
    text = decrypt(info, passphrase).decode("utf-8", "replace")
    if not text.startswith("[backrest]"):
        raise wrong_passphrase() if info.startswith(SALTED) else damaged("backup.info is not pgBackRest's")
    parsed = sections(text)
    try:
        versions = {key: json.loads(value)["db-version"] for key, value in parsed.get("db:history", {}).items()}
        sets = [backup_set(label, json.loads(value), versions, info.startswith(SALTED))
                for label, value in parsed["backup:current"].items()]
    except (KeyError, ValueError, TypeError, OverflowError, OSError) as error:
        raise damaged(f"backup.info cannot be read ({type(error).__name__}: {printable(str(error), 80)})") from None
    return sorted(sets, key=lambda found: (found.stopped, found.label), reverse=True)


def backup_set(label: str, fields: dict, versions: dict, encrypted: bool) -> BackupSet:
    references = tuple(fields.get("backup-reference") or ())
    archive_id = f"{versions[str(fields['db-id'])]}-{fields['db-id']}"
    if not all(LABEL.match(name) for name in (label, *references)) or not ARCHIVE_ID.match(archive_id) \
            or wal.parse(fields["backup-archive-start"]) is None:
        raise ValueError(f"a set is named {label!r}, or its references or WAL are not pgBackRest's")
    return BackupSet(label=label, kind=str(fields["backup-type"]), references=references, archive_id=archive_id,
                     archive_start=fields["backup-archive-start"], lsn_start=str(fields["backup-lsn-start"]),
                     lsn_stop=str(fields["backup-lsn-stop"]),
                     started=datetime.fromtimestamp(int(fields["backup-timestamp-start"]), timezone.utc),
                     stopped=datetime.fromtimestamp(int(fields["backup-timestamp-stop"]), timezone.utc),
                     encrypted=encrypted)


def damaged(what: str) -> BackupProblem:
    return BackupProblem(reasons.RESTORE_FAILED, f"the repository is damaged: {what}",
                         hint="run `pgbackrest info` and `pgbackrest check` on the backup host")


class Repository:
    """One stanza of a repository at a site's source."""

    def __init__(self, source, stanza: str, passphrase: bytes):
        if not STANZA.match(stanza):
            raise BackupProblem(reasons.CONFIG_INVALID, f"engine.stanza {printable(stanza)!r} is not a stanza name")
        self.tree, self.stanza, self.passphrase = tree_of(source), stanza, passphrase
        self.listings: dict[str, list] = {}  # one listing of a folder per use, however many sets read it

    def listed(self, prefix: str) -> list:
        if prefix not in self.listings:
            self.listings[prefix] = self.tree.list(prefix)
        return self.listings[prefix]

    def info(self) -> bytes:
        """backup.info, or its copy when the first is missing (pgBackRest writes both)."""
        listed = {entry.key: entry for entry in self.listed(f"backup/{self.stanza}/")}
        for name in ("backup.info", "backup.info.copy"):
            entry = listed.get(f"backup/{self.stanza}/{name}")
            if entry and entry.size <= MAX_INFO_BYTES:
                with self.tree.open(entry) as handle:
                    return handle.read(MAX_INFO_BYTES)
        raise BackupProblem(reasons.BACKUP_MISSING, NOT_A_REPOSITORY,
                            hint="check source.path (or the S3 prefix) and engine.stanza")

    def backups(self) -> list[Backup]:
        sets = backup_sets(self.info(), self.passphrase)
        if not sets:
            raise BackupProblem(reasons.BACKUP_MISSING, f"the repository holds no backup set of stanza {self.stanza}",
                                hint="the backup job did not run: `pgbackrest info` on the backup host")
        return [self.describe(found) for found in sets]

    def members(self, chosen: BackupSet) -> list:
        """What the set's restore and recovery read: (entry) of the info files, of the set and the
        sets it references, of the archived WAL from its start on (and every timeline's history)."""
        start = wal.parse(chosen.archive_start)[1]
        wanted = {f"backup/{self.stanza}/{label}/" for label in (*chosen.references, chosen.label)}
        members = []
        for entry in self.listed(f"backup/{self.stanza}/"):
            rest = entry.key[len(f"backup/{self.stanza}/"):]
            if rest in ("backup.info", "backup.info.copy") or any(entry.key.startswith(folder) for folder in wanted):
                members.append(entry)
        for entry in self.listed(f"archive/{self.stanza}/"):
            name = entry.key.rsplit("/", 1)[-1]
            parsed = wal.parse(name)
            if entry.key.count("/") == 2 and name.startswith("archive.info") or \
                    entry.key.startswith(f"archive/{self.stanza}/{chosen.archive_id}/") and (
                        name.endswith(".history") or parsed is not None and parsed[1] >= start):
                members.append(entry)
        return members

    def wal_gap(self, chosen: BackupSet) -> str | None:
        folder = f"archive/{self.stanza}/{chosen.archive_id}/"  # read from the listing members() made
        names = [entry.key.rsplit("/", 1)[-1] for entry in self.listed(f"archive/{self.stanza}/")
                 if entry.key.startswith(folder)]
        return wal.first_gap(names, chosen.archive_start)

    def describe(self, chosen: BackupSet) -> Backup:
        members = None

        def listed():
            nonlocal members
            members = members if members is not None else self.members(chosen)
            return members

        def opened():
            return StreamReader(tar_stream([(STAGED + entry.key, entry.size, lambda entry=entry: self.tree.open(entry))
                                            for entry in listed()]))

        # backup.info's times are the backup's word: never newer than the storage's record of its files
        manifest = [e.modified for e in listed() if e.key == f"backup/{self.stanza}/{chosen.label}/backup.manifest"]
        stored = replace(chosen, stored_until=max((e.modified for e in listed()), default=None))
        return PhysicalBackup(name=chosen.label, size=stream_size([(STAGED + e.key, e.size) for e in listed()]),
                              modified=min([chosen.stopped, *manifest]), open=opened, open_sibling=lambda suffix: None,
                              physical=stored, wal_gap=lambda: self.wal_gap(chosen))


@dataclass(frozen=True)
class PhysicalBackup(Backup):
    physical: BackupSet | None = None
    wal_gap: object = None  # () -> the first missing WAL segment after the set's start, or None
