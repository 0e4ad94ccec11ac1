"""The evidence store: one write-once signed JSON report per drill, chained per site.

Layout: EVIDENCE/SITE/NNNNNN-DRILL_ID.json, read-only once written, and SITE/index.jsonl, the
summaries the dashboard reads (drills.reports.index). Each report carries its
sequence number and the sha256 of the site's previous report file, so an edit, a deletion
or a reordering breaks the chain.
"""

import json
import logging
import os
import re
from pathlib import Path

from drills.errors import ConfigError

from drills.reports import index
from drills.reports.signing import digest, sign

log = logging.getLogger("restore_drill.evidence")
DRILL_ID = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{8}")


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

    def append(self, site_id: str, report: dict, private_key) -> Path:
        """Sign and store the report as the next link of the site's chain; its path."""
        directory = self.root / site_id
        directory.mkdir(parents=True, exist_ok=True)
        while True:
            existing = self.site_reports(site_id)
            sequence = int(existing[-1].name.split("-")[0]) + 1 if existing else 1
            previous = digest(existing[-1].read_bytes()) if existing else None
            data = sign({**report, "sequence": sequence, "previous_sha256": previous}, private_key)
            path = directory / f"{sequence:06d}-{report['drill_id']}.json"
            try:
                write_once(path, data)
            except FileExistsError:
                continue  # another drill of this site took the sequence number: chain after it
            index.catch_up(directory, self.site_reports(site_id))
            self.replicate(site_id, path, data)
            return path

    def replicate(self, site_id: str, path: Path, data: bytes) -> None:
        """Copy a report to the replica; a failure is logged, never lost: `sync` catches up."""
        from drills.reports.replica import ReplicaError

        if self.replica is None:
            return
        try:
            self.replica.put(site_id, path.name, data)
        except ReplicaError as error:
            log.error("evidence replica behind: %s", error, extra={"site": site_id, "report": path.name})

    def sync(self, site_ids: list[str]) -> dict[str, int]:
        """Put every local report the replica lacks; {site: reports copied}."""
        copied = {}
        for site_id in site_ids:
            held = set(self.replica.names(site_id))
            missing = [path for path in self.site_reports(site_id) if path.name not in held]
            for path in missing:
                self.replica.put(site_id, path.name, path.read_bytes())
            copied[site_id] = len(missing)
        return copied

    def find(self, drill_id: str) -> Path:
        """The report of drill `drill_id`, whatever its site; ConfigError if there is none."""
        found = sorted(self.root.glob(f"*/[0-9]*-{drill_id}.json")) if DRILL_ID.fullmatch(drill_id) else []
        if not found:
            raise ConfigError(f"no report of drill {drill_id!r} in {self.root}", code="config.no_such_drill",
                              hint="drill ids look like 20261123T020000Z-1a2b3c4d: see `drill history SITE`")
        return found[0]

    def history(self, site_id: str) -> list[dict]:
        return [json.loads(path.read_bytes()) for path in self.site_reports(site_id)]


def write_once(path: Path, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
