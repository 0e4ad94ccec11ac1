"""The evidence replica: every signed report also written, once, to S3-compatible storage under
Object Lock, so that the evidence survives whoever controls the evidence directory.

Contract of a replica (S3Replica here; the tests use the same against a real S3 server):
- `put(site_id, name, data)` writes the report if that key is absent (never overwrites) and
  locks it until now + retention; an existing identical copy is fine (a retried write);
  ReplicaError if the storage cannot be reached or refuses.
- `get(site_id, name)` returns the bytes, or None if the key does not exist.
- `names(site_id)` lists the report names it holds for the site.
Keys: PREFIX + SITE/NNNNNN-DRILL_ID.json, the same layout as the directory.
"""

import hashlib
import logging
from base64 import b64encode
from datetime import datetime, timedelta, timezone

from drills.errors import InfrastructureError
from drills.s3 import s3_client

log = logging.getLogger("restore_drill.evidence")


class ReplicaError(InfrastructureError):
    """Raised when the evidence replica cannot be reached, or refuses a write."""

    def __init__(self, message: str, hint: str = "the local report stands; `drill evidence sync` catches up"):
        super().__init__("evidence_replica", message, hint)


class S3Replica:
    def __init__(self, settings, client=None):
        self.settings, self.location = settings, settings.location
        self.client = client or s3_client(settings.location)

    def key(self, site_id: str, name: str) -> str:
        return f"{self.location.prefix}{site_id}/{name}"

    def put(self, site_id: str, name: str, data: bytes) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        lock = {}
        if self.settings.object_lock != "none":
            lock = {"ObjectLockMode": self.settings.object_lock.upper(),
                    "ObjectLockRetainUntilDate": datetime.now(timezone.utc) + timedelta(seconds=self.settings.retention)}
        try:
            self.client.put_object(Bucket=self.location.bucket, Key=self.key(site_id, name), Body=data,
                                   ContentType="application/json", IfNoneMatch="*",
                                   ContentMD5=b64encode(hashlib.md5(data).digest()).decode(), **lock)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in ("PreconditionFailed", "ConditionalRequestConflict") and self.get(site_id, name) == data:
                return  # written before (a retried put): the same bytes are there
            raise ReplicaError(f"s3://{self.location.bucket}/{self.key(site_id, name)}: {code or error}") from None
        except BotoCoreError as error:
            raise ReplicaError(f"cannot reach the evidence replica: {error}") from None

    def get(self, site_id: str, name: str) -> bytes | None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            answer = self.client.get_object(Bucket=self.location.bucket, Key=self.key(site_id, name))
            return answer["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise ReplicaError(f"cannot read {self.key(site_id, name)}: {error}") from None
        except BotoCoreError as error:
            raise ReplicaError(f"cannot reach the evidence replica: {error}") from None

    def names(self, site_id: str) -> list[str]:
        from botocore.exceptions import BotoCoreError, ClientError

        prefix = self.key(site_id, "")
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.location.bucket, Prefix=prefix)
            return sorted(item["Key"][len(prefix):] for page in pages for item in page.get("Contents", []))
        except (BotoCoreError, ClientError) as error:
            raise ReplicaError(f"cannot list the evidence replica: {error}") from None


def replica_of(catalog):
    """The catalog's evidence replica, or None when none is configured."""
    return S3Replica(catalog.evidence_replica) if catalog.evidence_replica else None
