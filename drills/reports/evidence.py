"""The evidence store: one write-once signed JSON report per drill, chained per site.

Layout: EVIDENCE/SITE/NNNNNN-DRILL_ID.json, read-only once written, its detached signature
beside it (`.json.sig`, drills.reports.signing, written first), and SITE/index.jsonl, the
summaries the dashboard reads (drills.reports.index). Each report carries its sequence number
and the sha256 of the site's previous report file, so an edit, a deletion or a reordering
breaks the chain. docs/evidence-format.md specifies all of it.

A report is written whole or not at all, by one writer of the site's chain at a time (a lock
on its directory): into a draft beside it (`.NNNNNN-DRILL_ID.json.draft-RANDOM`, a name the
reports' glob never matches), synced, then linked under its final name, never over an existing
file (a taken name: the report chains after that one). A storage failure (disk full, I/O
error) raises InfrastructureError `error.storage` and leaves nothing under a report's name; a
draft a crash left behind is never read, and the next append removes it once it is older than
STRAY_DRAFT_SECONDS.

A file under a report's name that does not hold a whole JSON report (empty or cut short by an
older version, data lost by a filesystem) is *unreadable*: `read_report` gives a stand-in with
outcome `unreadable`, so the index, the history and the next append go on past it, and the
next report chains to its bytes as they are (drills.reports.chain names it report.unreadable).
"""

import fcntl
import logging
import os
import secrets
import time
from contextlib import contextmanager
from pathlib import Path

from drills.durable import sync_directory, write_all
from drills.errors import ConfigError, InfrastructureError

from drills.reports import index
from drills.reports.report import DRILL_ID, StoredReport, parse_report, read_report
from drills.reports.signing import SIGNATURE_SUFFIX, digest, document_bytes, sign, signature_path
from drills import reasons

log = logging.getLogger("restore_drill.evidence")
DRAFT = ".draft-"  # .NNNNNN-DRILL_ID.json.draft-RANDOM: a report being written
STRAY_DRAFT_SECONDS = 15 * 60  # a draft this old is no write in progress: a crash left it


class EvidenceStore:
    def __init__(self, root: Path, replica=None):
        self.root, self.replica = Path(root), replica

    @classmethod
    def of(cls, catalog) -> "EvidenceStore":
        """The catalog's store, with its S3 replica when one is configured."""
        from drills.reports.replica import replica_of

        return cls(catalog.evidence, replica_of(catalog))

    def site_reports(self, site_id: str) -> list[Path]:
        return sorted((self.root / site_id).glob("[0-9]*-*.json"))

    def append(self, site_id: str, report: dict, private_key) -> StoredReport:
        """Sign and store the report as the next link of the site's chain; the report as stored.

        InfrastructureError `error.storage` if the evidence volume refuses it (full, read-only,
        failing): nothing is then left under a report's name."""
        path, data = self.append_link(site_id, lambda sequence, previous: (
            f"{sequence:06d}-{report['drill_id']}.json", report), private_key)
        self.catch_up_index(site_id)
        self.replicate(site_id, path)
        return StoredReport(parse_report(data), path)

    def append_link(self, folder: str, link, private_key) -> tuple[Path, bytes] | None:
        """Sign and store the next link of the chain in `folder` (a site's reports, or the
        journal's anchors), one writer at a time: `link(sequence, previous file or None)` gives
        (file name, document), or None for nothing to add; the store adds `sequence`,
        `previous_sha256` and `signed_by`. (path, bytes stored), or None. error.storage as append."""
        directory = self.root / folder
        try:
            directory.mkdir(parents=True, exist_ok=True)
            with chain_lock(directory):
                remove_stray_drafts(directory)
                while True:
                    existing = self.site_reports(folder)
                    sequence = index.sequence_of(existing[-1]) + 1 if existing else 1
                    made = link(sequence, existing[-1] if existing else None)
                    if made is None:
                        return None
                    name, document = made
                    previous = digest(existing[-1].read_bytes()) if existing else None  # readable or not: as it is
                    data = document_bytes({**document, "sequence": sequence, "previous_sha256": previous}, private_key)
                    if publish_signed(directory / name, data, private_key):
                        return directory / name, data
                    # else a writer the lock did not hold back (a filesystem without flock) took the name
        except OSError as error:
            raise storage_error(Path(error.filename or directory), error) from None

    def catch_up_index(self, site_id: str) -> None:
        """Bring the site's index level with its reports; a failure is logged: the report is
        written, and the next append (or `drill index --rebuild`) catches up."""
        try:
            index.catch_up(self.root / site_id, self.site_reports(site_id))
        except OSError as error:
            log.error("evidence index behind: %s", error, extra={"site": site_id})

    def replicate(self, site_id: str, path: Path) -> None:
        """Copy a signed document and its signature to the replica (`site_id` is the folder:
        a site's, or the journal's); a failure is logged, never lost: `sync` catches up."""
        from drills.reports.replica import ReplicaError

        if self.replica is None:
            return
        try:
            for file in signed_files(path):
                self.replica.put(site_id, file.name, file.read_bytes())
        except (ReplicaError, OSError) as error:
            log.error("evidence replica behind: %s", error, extra={"site": site_id, "report": path.name})

    def sync(self, site_ids: list[str]) -> dict[str, int]:
        """Put every local report and signature the replica lacks; {site: reports copied}."""
        copied = {}
        for site_id in site_ids:
            held = set(self.replica.names(site_id))
            missing = [file for path in self.site_reports(site_id) for file in signed_files(path)
                       if file.name not in held]
            for file in missing:
                self.replica.put(site_id, file.name, file.read_bytes())
            copied[site_id] = sum(1 for file in missing if file.suffix == ".json")
        return copied

    def find(self, drill_id: str, site_id: str = "*") -> Path:
        """The report that concluded drill `drill_id`, in any site's chain (or only in `site_id`'s,
        a catalog site's id): its own, or, if that one ended in error, the last attempt of it
        (`attempt_of`) that passed or failed, else the last attempt. ConfigError if there is none."""
        found = sorted(self.root.glob(f"{site_id}/[0-9]*-{drill_id}.json")) if DRILL_ID.fullmatch(drill_id) else []
        if not found:
            raise ConfigError(f"no report of drill {drill_id!r} in {self.root}", code=reasons.CONFIG_NO_SUCH_DRILL,
                              hint="drill ids look like 20261123T020000Z-1a2b3c4d: see `drill history SITE`")
        first = found[0]
        if read_report(first).get("outcome") in ("pass", "fail"):
            return first
        later = [path for path in self.site_reports(first.parent.name) if path.name > first.name]
        attempts = [(path, report) for path in later if (report := read_report(path)).get("attempt_of") == drill_id]
        concluded = [path for path, report in attempts if report.get("outcome") in ("pass", "fail")]
        return (concluded or [path for path, _ in attempts] or [first])[-1]

    def concluding_report(self, drill_id: str, site_id: str = "*") -> dict | None:
        """The report that passed or failed drill `drill_id` (any attempt of it), if there is one."""
        try:
            report = read_report(self.find(drill_id, site_id))
        except ConfigError:
            return None
        return report if report.get("outcome") in ("pass", "fail") else None

    def history(self, site_id: str) -> list[dict]:
        """Every report of the site, oldest first; an unreadable one as read_report's stand-in."""
        return [read_report(path) for path in self.site_reports(site_id)]


@contextmanager
def chain_lock(directory: Path):
    """The site's chain for one writer at a time, so that two drills of a site (a worker's and a
    `drill run`) never take the same number: an advisory lock on its directory, which the
    system releases if the process dies."""
    descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def write_once(path: Path, data: bytes) -> None:
    """Publish `data` as `path`, whole or not at all: written and synced in a draft beside it,
    linked to `path` (FileExistsError if the name is taken), mode 444, the draft removed, the
    directory synced. InfrastructureError `error.storage` on any other OSError; whatever
    happens, `path` never holds part of `data`."""
    draft = path.with_name(f".{path.name}{DRAFT}{secrets.token_hex(4)}")
    try:
        try:
            descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
            try:
                write_all(descriptor, data)
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
            os.link(draft, path)
        finally:
            remove_quietly(draft)
        sync_directory(path.parent)
    except FileExistsError:
        raise
    except OSError as error:
        raise storage_error(path, error) from None


def publish_signed(path: Path, data: bytes, private_key) -> bool:
    """Publish `data` as `path` with its detached signature: the signature first, then the
    document (its name is the publication: a document is never there unsigned). False if the
    name is taken; error.storage as write_once, nothing then left under either name. Called
    under the chain's lock: a signature without its document is an orphan a crash left."""
    if path.exists():
        return False
    signature = signature_path(path)
    signature.unlink(missing_ok=True)
    try:
        write_once(signature, sign(data, private_key))
        write_once(path, data)
        return True
    except BaseException as error:
        if not path.exists():
            remove_quietly(signature)
        if isinstance(error, FileExistsError):
            return False
        raise


def signed_files(path: Path) -> list[Path]:
    """A stored document and, when it has one, its detached signature."""
    signature = signature_path(path)
    return [path, signature] if signature.exists() else [path]


def remove_quietly(draft: Path) -> None:
    try:
        draft.unlink(missing_ok=True)
    except OSError:
        pass  # the volume is failing: a stray draft, never read, removed by a later append


def remove_stray_drafts(directory: Path) -> None:
    """Remove the drafts and the signatures without a report a crash left (older than
    STRAY_DRAFT_SECONDS: no write in progress)."""
    cutoff = time.time() - STRAY_DRAFT_SECONDS
    reports = {path.name for path in directory.glob("[0-9]*-*.json")}
    orphans = [signature for signature in directory.glob(f"[0-9]*-*.json{SIGNATURE_SUFFIX}")
               if signature.name.removesuffix(SIGNATURE_SUFFIX) not in reports]  # a crash between the two writes
    for draft in [*directory.glob(f".[0-9]*-*.json*{DRAFT}*"), *orphans]:  # reports' drafts and signatures'
        try:
            if draft.lstat().st_mtime < cutoff:
                draft.unlink()
        except FileNotFoundError:
            pass  # removed meanwhile


def storage_error(path: Path, error: OSError) -> InfrastructureError:
    words = os.strerror(error.errno) if error.errno else str(error)
    return InfrastructureError(reasons.ERROR_STORAGE, f"the report could not be stored: {path}: {words}",
                               hint="free space on the evidence volume, or check it (mounted, writable, healthy), "
                                    "then drill again")
