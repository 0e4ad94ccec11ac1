"""Fixtures shared by every tier. A fixture needing a real part skips on a developer's
machine without it, and fails under CI (CI=true), where everything must be there."""

import os
import shutil
import subprocess

import pytest

IN_CI = os.environ.get("CI") == "true"


def require(condition: bool, what: str) -> None:
    if not condition:
        if IN_CI:
            pytest.fail(f"{what} is required in CI (run `make setup`)")
        pytest.skip(f"{what} is not available here (run `make setup`)")


def docker_ready() -> bool:
    return shutil.which("docker") is not None and subprocess.run(
        ["docker", "info"], capture_output=True).returncode == 0


@pytest.fixture(scope="session")
def age_cli():
    require(shutil.which("age") is not None and shutil.which("age-keygen") is not None, "the age CLI")
    return shutil.which("age")


@pytest.fixture(scope="session")
def docker_engine():
    require(docker_ready(), "a running Docker engine")
    from drills.catalog.schema import DEFAULT_POSTGRES_IMAGE

    image = subprocess.run(["docker", "image", "inspect", DEFAULT_POSTGRES_IMAGE], capture_output=True)
    require(image.returncode == 0, f"the restore image {DEFAULT_POSTGRES_IMAGE}")
    from drills.runtimes.docker import DockerRuntime

    return DockerRuntime()
