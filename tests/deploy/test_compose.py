"""The deployment, for real: the app image built from compose/Dockerfile (on a Debian base made
with debootstrap, since no registry answers here), Redis, the scheduler, a worker and the
dashboard started with Debian's docker-compose on the host network bound to loopback; a backup
sealed as a site would, a drill enqueued through the stack, its signed report checked, the
dashboard answering, the worker's and the scheduler's metrics scraped; its doors checked shut (Redis wants its password, which shows nowhere; the
dashboard holds no private key; the run directory is made right without help, at a boot too);
then everything torn down. `make test-deploy` runs it (so does CI)."""

import base64
import json
import os
import secrets
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest
import redis
import yaml

from drills.demo.seed import SourceDatabase
from tests.conftest import require
from tests.helpers import PROJECT, age_identity, drill_command

COMPOSE = PROJECT / "compose"
APP_IMAGE, REDIS_IMAGE, BASE_IMAGE = "restore-drill/app:test", "restore-drill/redis:7-bookworm", "restore-drill/python:3.11-bookworm"
SITE = "pharmacie-du-port"
PROJECT_NAME = "restore-drill-deploy-test"
RUN_DIR = Path("/dev/shm/restore-drill-deploy-test")  # its own: removed before the stack starts
KEYS = "/etc/restore-drill/keys"
EVIDENCE = f"/var/lib/restore-drill/evidence/{SITE}"


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
    """The operator's files (uid 999, secrets mode 600): the catalog and users, the keys, the
    Redis password; and a sealed backup."""
    root = tmp_path_factory.mktemp("deploy")
    config, keys, backups = root / "config", root / "keys", root / "backups"
    (backups / SITE).mkdir(parents=True)
    config.mkdir()
    recipient = age_identity(keys / "drill.agekey")
    catalog = {"evidence": "/var/lib/restore-drill/evidence", "signing_key": f"{KEYS}/signing.ed25519", "sites": [{
        "id": SITE, "name": "Pharmacie du Port", "tenant": "infogest",
        "source": {"type": "local", "path": f"/srv/backups/{SITE}", "pattern": "*.dump.age"},
        "decrypt": {"identity_file": f"{KEYS}/drill.agekey"}, "engine": {"type": "postgres", "format": "custom"},
        "checks": {"manifest": "required", "tables": {"public.patients": {"min": 1}}},
        "schedule": "0 2 * * *", "targets": {"rto": "30m", "rpo": "26h"}}]}
    (config / "catalog.yaml").write_text(json.dumps(catalog))
    assert drill_command("keys", "init", "--key", str(keys / "signing.ed25519")).returncode == 0
    password = drill_command("users", "add", "admin", "--role", "admin", "--users", str(config / "users.yaml"),
                             "--password-stdin", input="a long deployment password\n")
    assert password.returncode == 0, password.stderr
    (root / "secrets").mkdir()
    (root / "secrets" / "redis_password").write_text(secrets.token_hex(32) + "\n")
    (root / "secrets" / "redis_password").chmod(0o600)
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
    for folder in (config, keys, backups, root / "secrets"):
        for path in [folder, *folder.rglob("*")]:
            os.chown(path, 999, 999)
    return root


def redis_password(config: Path) -> str:
    return (config / "secrets" / "redis_password").read_text().strip()


@pytest.fixture(scope="module")
def stack(images, config):
    """The stack up, on loopback ports of its own, on a host where its run directory does not
    exist yet; torn down (volumes too) at the end."""
    redis_port, dashboard_port = free_port(), free_port()
    shutil.rmtree(RUN_DIR, ignore_errors=True)
    engine = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock").removeprefix("unix://")  # the test's own
    env = {**os.environ, "DRILL_IMAGE": APP_IMAGE, "REDIS_IMAGE": REDIS_IMAGE, "DRILL_CONFIG_DIR": str(config / "config"),
           "DRILL_KEYS_DIR": str(config / "keys"), "REDIS_PASSWORD_FILE": str(config / "secrets" / "redis_password"),
           "DRILL_BACKUPS_DIR": str(config / "backups"), "DRILL_RUN_DIR": str(RUN_DIR),
           "DOCKER_SOCKET": engine, "DOCKER_GID": str(os.stat(engine).st_gid), "REDIS_BIND": "127.0.0.1",
           "REDIS_PORT": str(redis_port), "DRILL_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
           "DASHBOARD_ADDRESS": "127.0.0.1", "DASHBOARD_PORT": str(dashboard_port),
           "API_ADDRESS": "127.0.0.1", "API_PORT": str(free_port()),
           "WORKER_METRICS_PORT": str(free_port()), "SCHEDULER_METRICS_PORT": str(free_port())}
    run("docker-compose", "-f", str(COMPOSE / "docker-compose.yml"), "config", "-q", env=env)
    compose = ["docker-compose", "-p", PROJECT_NAME, "--project-directory", str(COMPOSE),
               "-f", str(on_loopback(COMPOSE / "docker-compose.yml", config / "docker-compose.loopback.yml"))]
    try:
        run(*compose, "up", "-d", "--no-build", env=env, timeout=300)
        yield compose, env, redis_port, dashboard_port
    finally:
        logs = subprocess.run([*compose, "logs", "--no-color", "--tail", "50"], capture_output=True, text=True, env=env)
        (config / "stack.log").write_text(logs.stdout + logs.stderr)
        subprocess.run([*compose, "down", "-v", "--remove-orphans"], capture_output=True, env=env, timeout=300)
        shutil.rmtree(RUN_DIR, ignore_errors=True)


def on_loopback(shipped: Path, target: Path) -> Path:
    """The shipped compose file on this machine, where containers may only use the host's
    network: every service on it (bound to 127.0.0.1 by the environment), nothing published."""
    document = yaml.safe_load(shipped.read_text())
    for service in document["services"].values():
        if service.get("network_mode") != "none":
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


def container(stack, service: str) -> str:
    compose, env, *_ = stack
    return run(*compose, "ps", "-q", service, env=env).stdout.strip()


def exec_in(stack, service: str, *command, check=True) -> subprocess.CompletedProcess:
    compose, env, *_ = stack
    result = subprocess.run([*compose, "exec", "-T", service, *command], capture_output=True, text=True, env=env,
                            timeout=120)
    assert result.returncode == 0 or not check, \
        f"{service}: {' '.join(command)}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def reports(stack) -> list[str]:
    listing = exec_in(stack, "worker", "sh", "-c", f"ls {EVIDENCE}/0*.json 2>/dev/null", check=False)
    return sorted(listing.stdout.split())


def drill_through_the_stack(stack, config: Path) -> dict:
    """Enqueue a drill of the site, wait for its report; the report, its signature checked."""
    before = reports(stack)
    exec_in(stack, "scheduler", "drill", "enqueue", SITE)
    newest = wait_for(lambda: [name for name in reports(stack) if name not in before], 300, "the worker's report")[-1]
    for name in (newest, newest + ".sig"):  # the exact bytes, and the detached signature beside them
        copied = config / ("report.json" + name[len(newest):])
        copied.write_bytes(base64.b64decode(exec_in(stack, "worker", "base64", "-w0", name).stdout))
    checked = drill_command("verify-report", str(config / "report.json"), "--public-key",
                            str(config / "keys" / "signing.ed25519.pub"))
    assert checked.returncode == 0, checked.stdout
    return json.loads((config / "report.json").read_bytes())


def test_a_drill_enqueued_through_a_fresh_stack_ends_with_a_signed_green_report(stack, config):
    report = drill_through_the_stack(stack, config)
    assert (report["outcome"], report["reason"]) == ("pass", None), report["findings"]
    assert report["provenance"]["image"]["id"].startswith("sha256:"), "the restore image, as the engine ran it"
    made = RUN_DIR.stat()  # by the stack itself: it did not exist before `up`
    assert (made.st_uid, made.st_gid, made.st_mode & 0o7777) == (999, 999, 0o700)


def scrape(port: str) -> dict:
    """The samples served on 127.0.0.1:port/metrics (the stack is on the host's network here; the
    shipped file keeps the ports inside its private network: compose/monitoring/README.md)."""
    from prometheus_client.parser import text_string_to_metric_families

    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def test_prometheus_scrapes_a_workers_drills_and_the_schedulers_fleet_metrics_once(stack, config):
    _, env, *_ = stack
    report = drill_through_the_stack(stack, config)
    worker = wait_for(lambda: scrape(env["WORKER_METRICS_PORT"]), 60, "the worker's metrics")
    assert worker[("restore_drill_drills_total", (("outcome", "pass"), ("reason", "")))] >= 1
    assert not [key for key in worker if key[0] == "restore_drill_queue_depth"], "served once, by the scheduler"
    fleet = wait_for(lambda: scrape(env["SCHEDULER_METRICS_PORT"]), 60, "the scheduler's metrics")
    started = datetime.fromisoformat(report["started_at"]).timestamp()
    assert fleet[("restore_drill_last_success_timestamp_seconds", (("site", SITE),))] == started
    assert fleet[("restore_drill_last_drill_timestamp_seconds", (("site", SITE),))] == started
    assert fleet[("restore_drill_queue_depth", (("queue", "drills"),))] == 0


def test_the_dashboard_answers_on_loopback(stack):
    *_, port = stack
    assert wait_for(lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=5).read() == b"ok",
                    120, "the dashboard")


def test_the_api_answers_on_loopback_and_refuses_a_call_without_a_token(stack):
    _, env, *_ = stack
    base = f"http://127.0.0.1:{env['API_PORT']}"
    document = wait_for(lambda: json.loads(urllib.request.urlopen(f"{base}/openapi.json", timeout=5).read()),
                        120, "the API")
    assert "/v1/sites" in document["paths"]
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{base}/v1/sites", timeout=5)
    assert refused.value.code == 401


def test_every_service_with_a_health_check_turns_healthy(stack):
    """The health checks reach Redis with the password, as the services do."""
    compose, env, *_ = stack

    def unhealthy():
        health = "{{.Name}} {{if .State.Health}}{{.State.Health.Status}}{{end}}"
        states = [run("docker", "inspect", "--format", health, container_id).stdout.split()
                  for container_id in run(*compose, "ps", "-q", env=env).stdout.split()]
        return [state for state in states if state[1:] not in ([], ["healthy"])]

    deadline = time.monotonic() + 120
    while (waiting := unhealthy()) and time.monotonic() < deadline:
        time.sleep(2)
    assert waiting == []


def test_redis_refuses_whoever_lacks_its_password_and_keeps_protected_mode_on(stack, config):
    _, _, redis_port, _ = stack
    with socket.create_connection(("127.0.0.1", redis_port), timeout=10) as anonymous:
        anonymous.sendall(b"SET restore-drill:alert:x silenced\r\n")
        assert anonymous.recv(200).startswith(b"-NOAUTH")
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(host="127.0.0.1", port=redis_port, password="guessed").ping()
    client = redis.Redis(host="127.0.0.1", port=redis_port, password=redis_password(config))
    assert client.config_get("protected-mode") == {"protected-mode": "yes"}


def test_the_redis_password_shows_in_no_inspect_no_process_list_and_no_log(stack, config):
    compose, env, *_ = stack
    password = redis_password(config)
    containers = run(*compose, "ps", "-q", env=env).stdout.split()
    services = yaml.safe_load((COMPOSE / "docker-compose.yml").read_text())["services"]
    assert len(containers) == len(services)  # every service, the one-shot init included
    for container_id in containers:
        assert password not in run("docker", "inspect", container_id).stdout
        assert password not in run("docker", "top", container_id, "-o", "pid,args").stdout
    logs = run(*compose, "logs", "--no-color", env=env)
    assert password not in logs.stdout + logs.stderr
    assert "NOAUTH" not in logs.stdout  # every service authenticates
    assert exec_in(stack, "dashboard", "python3", "-c",  # "drill now" reaches Redis from the dashboard
                   "from workers.broker import redis_client; print(redis_client().ping())").stdout.strip() == "True"


def test_the_dashboard_holds_public_keys_only_and_reads_the_evidence_read_only(stack, config):
    mounts = json.loads(run("docker", "inspect", container(stack, "dashboard")).stdout)[0]["Mounts"]
    by_destination = {mount["Destination"]: mount for mount in mounts}
    assert not [mount for mount in mounts if mount["Source"].endswith((".agekey", "signing.ed25519"))
                or mount["Source"].rstrip("/") == str(config / "keys")]
    assert by_destination[f"{KEYS}/public"]["RW"] is False
    assert by_destination["/var/lib/restore-drill/evidence"]["RW"] is False
    assert by_destination["/var/lib/restore-drill/evidence/.audit"]["RW"] is True
    found = exec_in(stack, "dashboard", "sh", "-c", "find /etc/restore-drill /var/lib/restore-drill /run "
                    "\\( -name '*.agekey' -o -name 'signing.ed25519' \\) 2>/dev/null; true").stdout.split()
    assert found == []
    newest = reports(stack)[-1]
    verified = exec_in(stack, "dashboard", "drill", "verify-report", newest)  # with the catalog's keyring
    assert "VALID" in verified.stdout
    refused = exec_in(stack, "dashboard", "touch", f"{EVIDENCE}/forged.json", check=False)
    assert refused.returncode != 0 and "Read-only file system" in refused.stderr
    exec_in(stack, "dashboard", "python3", "-c", "from drills.audit import AuditJournal; "
            "AuditJournal('/var/lib/restore-drill/evidence').record('deploy.checked', None)")
    journal = exec_in(stack, "scheduler", "cat", "/var/lib/restore-drill/evidence/.audit/journal.jsonl").stdout
    assert "deploy.checked" in journal  # one journal, whichever service writes


def test_after_a_boot_the_worker_waits_for_its_run_directory_and_drills(stack, config):
    """What Docker does at a boot: the run directory (on tmpfs) is gone, the containers are
    started again by their restart policy, without compose, in no set order."""
    worker, init = container(stack, "worker"), container(stack, "init")
    run("docker", "stop", worker, init)
    shutil.rmtree(RUN_DIR)
    since = str(int(time.time()))
    run("docker", "start", worker)  # Docker makes the missing directory: root, 0755
    wait_for(lambda: "waiting for the run directory" in run("docker", "logs", "--since", since, worker).stderr,
             60, "the worker to wait for it")
    run("docker", "start", init)
    report = drill_through_the_stack(stack, config)
    assert (report["outcome"], report["reason"]) == ("pass", None), report["findings"]
    assert RUN_DIR.stat().st_uid == 999


def test_docker_stop_ends_the_dashboard_and_the_api_on_sigterm_not_after_the_grace_period(stack):
    """Each service stops on SIGTERM itself: a process that ignored it would be killed by SIGKILL
    when the grace period ends (exit 137), and the Streamlit server could outlive drill. `drill
    dashboard` exits 0; uvicorn shuts down gracefully, then re-raises the signal (143)."""
    for service, stopped in (("dashboard", 0), ("api", 128 + 15)):
        service_container = container(stack, service)
        run("docker", "stop", "--time", "60", service_container)
        state = json.loads(run("docker", "inspect", service_container).stdout)[0]["State"]
        assert (state["ExitCode"], state["OOMKilled"]) == (stopped, False), (service, state)
        run("docker", "start", service_container)


def test_the_app_image_runs_as_a_non_root_user_and_holds_no_secret(images):
    inspected = json.loads(run("docker", "image", "inspect", APP_IMAGE).stdout)[0]["Config"]
    assert inspected["User"] == "999:999"
    assert not any(word in variable for variable in inspected["Env"] for word in ("SECRET", "PASSWORD", "KEY="))
    found = run("docker", "run", "--rm", "--network", "none", "--entrypoint", "sh", APP_IMAGE, "-c",
                "find / -xdev \\( -name '*.agekey' -o -name 'signing.ed25519*' -o -name users.yaml "
                "-o -name 'catalog.yaml' \\) 2>/dev/null; id -u").stdout.split()
    assert found == ["999"], f"files that belong outside the image: {found[:-1]}"
