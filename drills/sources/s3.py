"""Source `s3`: S3-compatible object storage (the certified host's bucket); the newest object
whose name under the prefix matches the pattern, by last-modified time, ties by key.

Downloads stream (never a temporary file): a read cut by the network resumes where it stopped
with a ranged GET pinned to the object's ETag, so a backup replaced in the meantime is an
error rather than a spliced file. Server-side encryption with a customer key (SSE-C) is read
with the key named by `sse_customer_key_env`; SSE-S3 and SSE-KMS need nothing to read, and
`server_side_encryption` asks for them when `drill seal` uploads (a multipart upload, completed
only when the whole object is written, aborted otherwise).
"""

import base64
import fnmatch
import hashlib
import io
import os
from contextlib import contextmanager

from drills.errors import BackupProblem, ConfigError, InfrastructureError
from drills.s3 import s3_client
from drills.sources.backup import Backup
from drills.sources.local import MANIFEST_SUFFIXES
from drills import reasons

RESUME_ATTEMPTS = 5
PART_SIZE = 8 * 1024 * 1024


def unreachable(location, error) -> InfrastructureError:
    return InfrastructureError(reasons.ERROR_SOURCE, f"s3://{location.bucket}/{location.prefix}: {error}",
                               hint="check the endpoint, the bucket, the credentials and the network")


def customer_key(settings) -> dict:
    """The SSE-C request parameters, if the site's objects are encrypted with a customer key."""
    if not settings.sse_customer_key_env:
        return {}
    encoded = os.environ.get(settings.sse_customer_key_env, "")
    try:
        key = base64.b64decode(encoded, validate=True)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise ConfigError(f"{settings.sse_customer_key_env} must hold a base64 256-bit key",
                          code=reasons.CONFIG_SECRET_UNREADABLE)
    return {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": encoded,
            "SSECustomerKeyMD5": base64.b64encode(hashlib.md5(key).digest()).decode()}


def backups(settings, client=None) -> list[Backup]:
    """Every matching object, newest first (last-modified, then key)."""
    from botocore.exceptions import BotoCoreError, ClientError

    location = settings.location
    client = client or s3_client(location)
    try:
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=location.bucket, Prefix=location.prefix)
        objects = [item for page in pages for item in page.get("Contents", [])]
    except (BotoCoreError, ClientError) as error:
        raise unreachable(location, error) from None
    matching = [item for item in objects
                if fnmatch.fnmatch(item["Key"][len(location.prefix):], settings.pattern)
                and not item["Key"].endswith(MANIFEST_SUFFIXES)]
    if not matching:
        raise BackupProblem(reasons.BACKUP_MISSING, f"no object matches {settings.pattern!r} in "
                                                    f"s3://{location.bucket}/{location.prefix}",
                            hint="the backup job did not deliver: check its upload on the site's side")
    matching.sort(key=lambda item: (item["LastModified"], item["Key"]), reverse=True)
    return [describe(client, settings, item) for item in matching]


def describe(client, settings, item: dict) -> Backup:
    location, key = settings.location, item["Key"]
    return Backup(
        name=key.rsplit("/", 1)[-1],
        size=item["Size"],
        modified=item["LastModified"],
        open=lambda: ResumingReader(client, location, key, item["ETag"], customer_key(settings)),
        open_sibling=lambda suffix: open_sibling(client, settings, key + suffix),
    )


def open_sibling(client, settings, key: str):
    """A sibling object as a raw stream (resuming, as the backup's), None if absent."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        answer = client.head_object(Bucket=settings.location.bucket, Key=key, **customer_key(settings))
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            return None
        raise unreachable(settings.location, error) from None
    except BotoCoreError as error:
        raise unreachable(settings.location, error) from None
    return ResumingReader(client, settings.location, key, answer["ETag"], customer_key(settings))


class ResumingReader(io.RawIOBase):
    """The object's bytes as a raw stream; a connection lost mid-way resumes at the offset."""

    def __init__(self, client, location, key: str, etag: str, extra: dict):
        self.client, self.location, self.key, self.etag, self.extra = client, location, key, etag, extra
        self.position, self.body, self.failures = 0, None, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        from botocore.exceptions import BotoCoreError, ClientError
        from urllib3.exceptions import HTTPError

        while True:
            try:
                if self.body is None:
                    self.body = self.request()
                data = self.body.read(len(buffer))
                break
            except ClientError as error:
                raise unreachable(self.location, error) from None  # changed or gone: never splice
            except (BotoCoreError, HTTPError, OSError) as error:
                self.body, self.failures = None, self.failures + 1
                if self.failures > RESUME_ATTEMPTS:
                    raise unreachable(self.location, f"download of {self.key} failed {self.failures} times: "
                                                     f"{error}") from None
        memoryview(buffer)[:len(data)] = data
        self.position += len(data)
        return len(data)

    def request(self):
        ranged = {"Range": f"bytes={self.position}-"} if self.position else {}
        return self.client.get_object(Bucket=self.location.bucket, Key=self.key, IfMatch=self.etag,
                                      **ranged, **self.extra)["Body"]

    def close(self) -> None:
        if self.body is not None:
            self.body.close()
        super().close()


def server_side(settings) -> dict:
    if not settings.server_side_encryption:
        return {}
    chosen = {"ServerSideEncryption": settings.server_side_encryption}
    return {**chosen, "SSEKMSKeyId": settings.sse_kms_key_id} if settings.sse_kms_key_id else chosen


@contextmanager
def writer(settings, name: str):
    upload = MultipartWriter(s3_client(settings.location), settings, f"{settings.location.prefix}{name}")
    try:
        yield upload
        upload.complete()
    except BaseException:
        upload.abort()
        raise


class MultipartWriter:
    """A writable file uploading PART_SIZE parts as they fill; the object exists once complete()."""

    def __init__(self, client, settings, key: str):
        self.client, self.settings, self.key = client, settings, key
        self.bucket, self.sse_c = settings.location.bucket, customer_key(settings)
        self.pending, self.parts, self.upload_id = bytearray(), [], None

    def write(self, data: bytes) -> int:
        self.pending += data
        while len(self.pending) >= PART_SIZE:
            self.send(bytes(self.pending[:PART_SIZE]))
            del self.pending[:PART_SIZE]
        return len(data)

    def send(self, part: bytes) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            if self.upload_id is None:
                self.upload_id = self.client.create_multipart_upload(
                    Bucket=self.bucket, Key=self.key, **self.sse_c, **server_side(self.settings))["UploadId"]
            answer = self.client.upload_part(Bucket=self.bucket, Key=self.key, UploadId=self.upload_id, Body=part,
                                             PartNumber=len(self.parts) + 1, **self.sse_c)
        except (BotoCoreError, ClientError) as error:
            raise unreachable(self.settings.location, error) from None
        self.parts.append({"PartNumber": len(self.parts) + 1, "ETag": answer["ETag"]})

    def complete(self) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        self.send(bytes(self.pending))
        self.pending.clear()
        try:
            self.client.complete_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self.upload_id,
                                                  MultipartUpload={"Parts": self.parts})
        except (BotoCoreError, ClientError) as error:
            raise unreachable(self.settings.location, error) from None

    def abort(self) -> None:
        if self.upload_id is not None:
            try:
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self.upload_id)
            except Exception:  # already failing: the bucket's lifecycle rule removes what is left
                pass
