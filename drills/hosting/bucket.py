"""A bucket's region, as its S3 service says it (GetBucketLocation): text from outside, made
printable and kept short before anything shows it."""

from drills.errors import DrillError
from drills.redaction import printable
from drills.s3 import s3_client

ATTEMPTS = 2  # outside the RTO and the drill's deadline: a dead endpoint must not hold the report long
MAX_REGION = 64


def read_region(location, client=None) -> tuple[str | None, str | None]:
    """(region, None), or (None, why it could not be read): the service's error code (AccessDenied,
    NoSuchBucket), `unreachable (EndpointConnectionError)`, the SDK's error (NoCredentialsError), or
    a missing credential's message."""
    from botocore.exceptions import BotoCoreError, ClientError, ConnectionError as NotConnected, ReadTimeoutError

    from drills.hosting.regions import normalised

    try:
        client = client or s3_client(location, attempts=ATTEMPTS)
        answer = client.get_bucket_location(Bucket=location.bucket)
    except ClientError as error:
        return None, printable(error.response.get("Error", {}).get("Code") or "refused", MAX_REGION)
    except (NotConnected, ReadTimeoutError) as error:
        return None, f"unreachable ({type(error).__name__})"
    except BotoCoreError as error:  # no credentials, a malformed answer...
        return None, type(error).__name__
    except DrillError as error:  # a credential's environment variable not set
        return None, error.message
    return printable(normalised(answer.get("LocationConstraint")), MAX_REGION), None
