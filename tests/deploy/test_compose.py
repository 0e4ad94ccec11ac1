"""The deployment, for real: the app image built from compose/Dockerfile (on a Debian base made
with debootstrap, since no registry answers here), Redis, the scheduler, a worker and the
dashboard started with Debian's docker-compose on the host network bound to loopback; a backup
sealed as a site would, a drill enqueued through the stack, its signed report checked, the
dashboard answering; then everything torn down. `make test-deploy` runs it (so does CI)."""

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from drills.demo.seed import SourceDatabase
from tests.conftest import require
from tests.helpers import PROJECT, age_identity, drill_command

COMPOSE = PROJECT / "compose"
APP_IMAGE, REDIS_IMAGE, BASE_IMAGE = "restore-drill/app:test", "restore-drill/redis:7-bookworm", "restore-drill/python:3.11-bookworm"
SITE = "pharmacie-du-port"
PROJECT_NAME = "restore-drill-deploy-test"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run(*command, **options) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, **{"timeout": 900, **options})
    assert result.returncode == 0, f"{' '.join(map(str, command))}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def images(docker_engine):
    require(shutil.which("docker-compose") is not None, "Debian's docker-compose")
    run("bash", str(PROJECT / "scripts" / "build-images.sh"), "python", "redis")
    for authority in Path("/usr/local/share/ca-certificates").glob("*.crt"):  # this machine's TLS proxy
        shutil.copy(authority, COMPOSE / "certs" / authority.name)
    run("docker", "build", "--network", "host", "--build-arg", f"BASE={BASE_IMAGE}", "-f", str(COMPOSE / "Dockerfile"),
        "-t", APP_IMAGE, str(PROJECT), timeout=1200)
    return APP_IMAGE


@pytest.fixture(scope="module")
def config(tmp_path_factory, docker_engine):
    """The operator's files: catalog, users, keys (uid 999, mode 600), and a sealed backup."""
    root = tmp_path_factory.mktemp("deploy")
    config, backups = root / "config", root / "backups"
    (backups / SITE).mkdir(parents=True)
    config.mkdir()
    recipient = age_identity(config / "drill.agekey")
    catalog = {"evidence": "/var/lib/restore-drill/evidence", "signing_key": "keys/signing.ed25519", "sites": [{
        "id": SITE, "name": "Pharmacie du Port", "tenant": "infogest",
        "source": {"type": "local", "path": f"/srv/backups/{SITE}", "pattern": "*.dump.age"},
        "decrypt": {"identity_file": "drill.agekey"}, "engine": {"type": "postgres", "format": "custom"},
        "checks": {"manifest": "required", "tables": {"public.patients": {"min": 1}}},
        "schedule": "0 2 * * *", "targets": {"rto": "30m", "rpo": "26h"}}]}
    (config / "catalog.yaml").write_text(json.dumps(catalog))
    assert drill_command("keys", "init", "--key", str(config / "keys" / "signing.ed25519")).returncode == 0
    password = drill_command("users", "add", "admin", "--role", "admin", "--users", str(config / "users.yaml"),
                             "--password-stdin", input="a long deployment password\n")
    assert password.returncode == 0, password.stderr
    site_side = root / "site-catalog.yaml"  # what the site's job reads: the same site, its host paths
    site_catalog = json.loads(json.dumps(catalog))
    site_catalog["sites"][0]["source"]["path"] = str(backups / SITE)
    site_catalog["evidence"] = str(root / "unused")
    site_side.write_text(json.dumps(site_catalog))
    dump = root / "lgo.dump"
    try:
        with SourceDatabase(patients=100) as source:
            with open(dump, "wb") as sink:
                source.dump(sink)
            sealed = drill_command("seal", SITE, str(dump), "--dsn", source.dsn, "--recipient", recipient,
                                   "--catalog", str(site_side))
    finally:
        dump.unlink(missing_ok=True)
    assert sealed.returncode == 0, sealed.stderr
    for path in [config, backups, *config.rglob("*"), *backups.rglob("*")]:
        os.chown(path, 999, 999)
    return root


@pytest.fixture(scope="module")
def stack(images, config):
    """The stack up, on loopback ports of its own; torn down (volumes too) at the end."""
    redis_port, dashboard_port = free_port(), free_port()
    run_dir = Path("/dev/shm/restore-drill")
    run_dir.mkdir(exist_ok=True)
    os.chown(run_dir, 999, 999)
    env = {**os.environ, "DRILL_IMAGE": APP_IMAGE, "REDIS_IMAGE": REDIS_IMAGE, "DRILL_CONFIG_DIR": str(config / "config"),
           "DRILL_BACKUPS_DIR": str(config / "backups"), "DRILL_RUN_DIR": str(run_dir),
           "DOCKER_GID": str(os.stat("/var/run/docker.sock").st_gid), "REDIS_BIND": "127.0.0.1",
           "REDIS_PORT": str(redis_port), "DRILL_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
           "DASHBOARD_ADDRESS": "127.0.0.1", "DASHBOARD_PORT": str(dashboard_port)}
    run("docker-compose", "-f", str(COMPOSE / "docker-compose.yml"), "config", "-q", env=env)
    compose = ["docker-compose", "-p", PROJECT_NAME, "--project-directory", str(COMPOSE),
               "-f", str(on_loopback(COMPOSE / "docker-compose.yml", config / "docker-compose.loopback.yml"))]
    try:
        run(*compose, "up", "-d", "--no-build", env=env, timeout=300)
        yield compose, env, dashboard_port
    finally:
        logs = subprocess.run([*compose, "logs", "--no-color", "--tail", "50"], capture_output=True, text=True, env=env)
        (config / "stack.log").write_text(logs.stdout + logs.stderr)
        subprocess.run([*compose, "down", "-v", "--remove-orphans"], capture_output=True, env=env, timeout=300)


def on_loopback(shipped: Path, target: Path) -> Path:
    """The shipped compose file on this machine, where containers may only use the host's
    network: every service on it (bound to 127.0.0.1 by the environment), nothing published."""
    document = yaml.safe_load(shipped.read_text())
    for service in document["services"].values():
        service["network_mode"] = "host"
        service.pop("ports", None)
    target.write_text(yaml.safe_dump(document, sort_keys=False))
    return target


def wait_for(condition, timeout: float, what: str, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = condition()
        except (OSError, subprocess.SubprocessError, ValueError):
            value = None
        if value:
            return value
        time.sleep(1)
    pytest.fail(f"timed out waiting for {what}")


def test_a_drill_enqueued_through_the_stack_ends_with_a_signed_green_report(stack, config):
    compose, env, _ = stack
    run(*compose, "exec", "-T", "scheduler", "drill", "enqueue", SITE, env=env)

    def newest_report():
        listing = subprocess.run([*compose, "exec", "-T", "worker", "sh", "-c",
                                  f"cat /var/lib/restore-drill/evidence/{SITE}/0*.json"],
                                 capture_output=True, text=True, env=env, timeout=60)
        return listing.stdout if listing.returncode == 0 and listing.stdout.strip() else None

    report_text = wait_for(newest_report, 300, "the worker's report")
    report = json.loads(report_text)
    assert (report["outcome"], report["reason"]) == ("pass", None), report["findings"]
    (config / "report.json").write_text(report_text)
    checked = drill_command("verify-report", str(config / "report.json"), "--public-key",
                            str(config / "config" / "keys" / "signing.ed25519.pub"))
    assert checked.returncode == 0, checked.stdout


def test_the_dashboard_answers_on_loopback(stack):
    _, _, port = stack
    assert wait_for(lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=5).read() == b"ok",
                    120, "the dashboard")


def test_the_app_image_runs_as_a_non_root_user_and_holds_no_secret(images):
    inspected = json.loads(run("docker", "image", "inspect", APP_IMAGE).stdout)[0]["Config"]
    assert inspected["User"] == "999:999"
    assert not any(word in variable for variable in inspected["Env"] for word in ("SECRET", "PASSWORD", "KEY="))
    found = run("docker", "run", "--rm", "--network", "none", "--entrypoint", "sh", APP_IMAGE, "-c",
                "find / -xdev \\( -name '*.agekey' -o -name 'signing.ed25519*' -o -name users.yaml "
                "-o -name 'catalog.yaml' \\) 2>/dev/null; id -u").stdout.split()
    assert found == ["999"], f"files that belong outside the image: {found[:-1]}"
