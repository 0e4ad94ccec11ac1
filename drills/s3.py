"""S3-compatible storage clients (a source of backups, the evidence replica), with retries."""

import os

from drills.errors import ConfigError
from drills import reasons


def s3_client(location, attempts: int = 5):
    """A boto3 S3 client for `location`, credentials from the environment variables it names;
    `attempts` per request (connection errors, throttling, 5xx)."""
    import boto3
    from botocore.config import Config

    credentials = {}
    for name, variable in (("aws_access_key_id", location.access_key_env),
                           ("aws_secret_access_key", location.secret_key_env)):
        if variable:
            if not os.environ.get(variable):
                raise ConfigError(f"environment variable {variable} is not set", code=reasons.CONFIG_SECRET_UNREADABLE)
            credentials[name] = os.environ[variable]
    return boto3.client("s3", endpoint_url=location.endpoint, region_name=location.region,
                        config=Config(retries={"max_attempts": attempts, "mode": "standard"}, connect_timeout=10,
                                      read_timeout=60), **credentials)
