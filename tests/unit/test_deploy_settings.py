"""The deployment's doors, without servers: the Redis password read from its file and shown
nowhere, TLS settings checked, the run directory prepared, and the compose file giving each
service only the secrets it uses (tests/deploy runs the stack for real)."""

import os
import re
import stat
from pathlib import Path

import pytest
import redis
import yaml

from drills import workdir
from drills.errors import ConfigError, InfrastructureError
from tests.helpers import PROJECT, drill_command
from workers import broker
from workers.commands import wait_for_run_dir
from workers.settings import Settings

PASSWORD = "5f0c1d9e8b7a6f5e4d3c2b1a0f9e8d7c"
COMPOSE = yaml.safe_load((PROJECT / "compose" / "docker-compose.yml").read_text())
APP_SERVICES = ("scheduler", "worker", "dashboard")


def volumes(service: str) -> dict[str, str]:
    """A service's volumes by their path in the container, with the defaults of .env in place."""
    listed = [re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", volume) for volume in COMPOSE["services"][service]["volumes"]]
    return {volume.split(":")[1]: volume for volume in listed}


def settings(monkeypatch, **environment) -> Settings:
    for name in ("DRILL_REDIS_URL", "DRILL_REDIS_PASSWORD_FILE", "DRILL_REDIS_CA_FILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return Settings.from_environment()


def password_file(tmp_path: Path, text: str = PASSWORD + "\n", mode: int = 0o600) -> Path:
    path = tmp_path / "redis_password"
    path.write_text(text)
    path.chmod(mode)
    return path


def test_the_broker_and_the_client_connect_with_the_password_read_from_its_file(monkeypatch, tmp_path):
    configured = settings(monkeypatch, DRILL_REDIS_PASSWORD_FILE=str(password_file(tmp_path)))
    client = broker.connect(configured, socket_timeout=10)
    assert client.connection_pool.connection_kwargs["password"] == PASSWORD
    assert PASSWORD not in repr(configured) + repr(client) + repr(client.connection_pool)


def test_without_a_password_file_no_password_is_sent(monkeypatch):
    assert broker.connect(settings(monkeypatch)).connection_pool.connection_kwargs.get("password") is None


@pytest.mark.parametrize("text, mode, code", [
    (PASSWORD, 0o644, "config.secret_exposed"),
    ("\n", 0o600, "config.secret_unreadable"),
    (None, None, "config.secret_unreadable"),
])
def test_a_bad_password_file_is_refused_by_name_without_showing_its_contents(monkeypatch, tmp_path, text, mode, code):
    path = password_file(tmp_path, text, mode) if text is not None else tmp_path / "missing"
    with pytest.raises(ConfigError) as refused:
        broker.connect(settings(monkeypatch, DRILL_REDIS_PASSWORD_FILE=str(path)))
    assert refused.value.code == code and str(path) in str(refused.value) and PASSWORD not in str(refused.value)


def test_a_password_written_in_the_url_is_refused_without_repeating_it(monkeypatch):
    with pytest.raises(ConfigError) as refused:
        settings(monkeypatch, DRILL_REDIS_URL=f"redis://:{PASSWORD}@redis.example:6379/0")
    assert refused.value.code == "config.secret_exposed" and "DRILL_REDIS_PASSWORD_FILE" in refused.value.hint
    assert PASSWORD not in str(refused.value)


def test_a_connection_error_does_not_carry_the_password(monkeypatch, tmp_path):
    configured = settings(monkeypatch, DRILL_REDIS_URL="redis://127.0.0.1:1/0",
                          DRILL_REDIS_PASSWORD_FILE=str(password_file(tmp_path)))
    with pytest.raises(redis.ConnectionError) as failed:
        broker.connect(configured, socket_connect_timeout=2).ping()
    assert PASSWORD not in str(failed.value) + repr(failed.value)


def test_tls_checks_the_server_with_the_certificate_authority_given(monkeypatch, tmp_path):
    configured = settings(monkeypatch, DRILL_REDIS_URL="rediss://redis.example:6380/0",
                          DRILL_REDIS_CA_FILE=str(tmp_path / "ca.crt"))
    pool = broker.connect(configured).connection_pool
    assert pool.connection_class is redis.SSLConnection
    assert pool.connection_kwargs["ssl_ca_certs"] == str(tmp_path / "ca.crt")
    assert pool.connection_kwargs["ssl_check_hostname"] is True


def test_a_certificate_authority_without_tls_is_refused(monkeypatch, tmp_path):
    with pytest.raises(ConfigError, match="rediss://"):
        settings(monkeypatch, DRILL_REDIS_URL="redis://redis.example:6379/0",
                 DRILL_REDIS_CA_FILE=str(tmp_path / "ca.crt"))


def test_preparing_the_run_directory_makes_it_private_to_its_owner(monkeypatch, tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir(mode=0o755)  # as Docker makes a missing bind-mount source
    monkeypatch.setenv("DRILL_RUN_DIR", str(run_dir))
    assert workdir.prepare_run_dir(owner=os.getuid()) == run_dir
    made = run_dir.stat()
    assert (made.st_uid, stat.S_IMODE(made.st_mode)) == (os.getuid(), 0o700)
    assert workdir.run_dir_usable()


def test_prepare_host_says_why_it_cannot_prepare_the_run_directory(tmp_path):
    (tmp_path / "a-file").write_text("")
    refused = drill_command("prepare-host", env={"DRILL_RUN_DIR": str(tmp_path / "a-file" / "run")})
    assert refused.returncode == 3 and "cannot prepare the run directory" in refused.stderr


def test_a_worker_that_cannot_write_in_the_run_directory_stops_after_waiting(monkeypatch, tmp_path):
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("DRILL_RUN_DIR", str(tmp_path / "a-file" / "run"))
    assert not workdir.run_dir_usable()
    with pytest.raises(InfrastructureError) as stopped:
        wait_for_run_dir(timeout_seconds=0)
    assert stopped.value.code == "error.run_dir" and "prepare-host" in stopped.value.hint


def test_every_service_reaching_redis_reads_the_password_from_the_secret():
    for name in (*APP_SERVICES, "redis"):
        assert COMPOSE["services"][name]["secrets"] == ["redis_password"], name
    for name in APP_SERVICES:
        environment = {**COMPOSE["x-app"]["environment"], **COMPOSE["services"][name].get("environment", {})}
        assert environment["DRILL_REDIS_PASSWORD_FILE"] == "/run/secrets/redis_password"
    entry = (PROJECT / "compose" / "redis-entry.sh").read_text()
    assert "protected-mode yes" in entry and "requirepass" in entry
    assert not any("requirepass" in str(part) or "protected-mode" in str(part)
                   for part in COMPOSE["services"]["redis"]["command"])  # nothing to override the file


def test_only_the_workers_mount_the_private_keys_and_the_dashboard_reads_the_evidence_read_only():
    assert "/etc/restore-drill/keys" in volumes("worker")
    for service in ("scheduler", "dashboard"):
        assert "/etc/restore-drill/keys" not in volumes(service)
        assert volumes(service)["/etc/restore-drill/keys/public"].endswith(":ro")
    assert volumes("dashboard")["/var/lib/restore-drill/evidence"].endswith(":ro")
    assert "/var/lib/restore-drill/evidence/.audit" in volumes("dashboard")


def test_the_run_directory_is_prepared_by_root_with_two_capabilities_before_the_workers_use_it():
    init, worker = COMPOSE["services"]["init"], COMPOSE["services"]["worker"]
    assert (init["user"], init["cap_drop"], init["cap_add"]) == ("0:0", ["ALL"], ["CHOWN", "FOWNER"])
    assert "drill prepare-host" in " ".join(init["entrypoint"])
    assert volumes("init") == {"/dev/shm/restore-drill": "/dev/shm/restore-drill:/dev/shm/restore-drill"}
    assert volumes("worker")["/dev/shm/restore-drill"] == volumes("init")["/dev/shm/restore-drill"]
    assert "init" in worker["depends_on"] and init["restart"] == worker["restart"] == "unless-stopped"



@pytest.mark.parametrize("service", APP_SERVICES)
def test_an_app_service_runs_under_an_init_so_docker_stop_does_not_wait_out_its_grace_period(service):
    assert COMPOSE["services"][service].get("init") is True
