"""The evidence store: one write-once signed JSON report per drill, chained per site.

Layout: EVIDENCE/SITE/NNNNNN-DRILL_ID.json, read-only once written, and SITE/index.jsonl, the
summaries the dashboard reads (drills.reports.index). Each report carries its
sequence number and the sha256 of the site's previous report file, so an edit, a deletion
or a reordering breaks the chain.
"""

import json
import os
import re
from pathlib import Path

from drills.errors import ConfigError

from drills.reports import index
from drills.reports.signing import digest, sign

DRILL_ID = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{8}")


class EvidenceStore:
    def __init__(self, root: Path):
        self.root = Path(root)

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
            return path

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
