"""The restore plan as plain data: container hardening and the exact commands, without an engine."""

from dataclasses import replace
from types import SimpleNamespace

import docker.errors
import pytest

from drills.engines import executor, postgres
from drills.errors import InfrastructureError
from drills.runtimes.docker import REMOVE_RETRY_DELAYS, DockerRuntime, run_arguments
from drills.runtimes.spec import DRILL_LABEL, ContainerSpec
from drills.runtimes.stub import StubRuntime


def engine(**overrides):
    values = dict(image="postgres:15", jobs=1, memory=2 * 1024**3, tmpfs=1024**3, timeout=600,
                  max_decompressed=10 * 1024**3)
    return replace(postgres.ENGINE.settings(), **{**values, **overrides})


def test_the_restore_container_has_no_network_no_privileges_and_bounded_resources():
    spec = postgres.container_spec(SimpleNamespace(id="pharmacie", engine=engine()), "drill-1", "/run/x/drill-1")
    arguments = run_arguments(spec)
    assert arguments["network_mode"] == "none"
    assert arguments["cap_drop"] == ["ALL"] and arguments["cap_add"] == []
    assert arguments["security_opt"] == ["no-new-privileges"]
    assert arguments["read_only"] is True and arguments["user"] == "999:999"
    assert arguments["mem_limit"] == arguments["memswap_limit"] == 2 * 1024**3
    assert arguments["pids_limit"] > 0 and arguments["nano_cpus"] > 0
    assert arguments["labels"][DRILL_LABEL] == "drill-1" and arguments["name"] == "restore-drill-drill-1"
    assert arguments["volumes"] == {"/run/x/drill-1": {"bind": "/run/drill", "mode": "rw"}}
    assert "size=1073741824" in arguments["tmpfs"]["/var/lib/postgresql/data"], \
        "the data directory itself is a tmpfs (the official image makes it a VOLUME otherwise)"


def test_the_server_listens_on_the_unix_socket_only():
    spec = postgres.container_spec(SimpleNamespace(id="p", engine=engine()), "d", "/s")
    command = spec.command[-1]
    assert "-c listen_addresses=''" in command and "-c unix_socket_directories=/run/drill" in command


def test_a_custom_dump_is_piped_into_pg_restore_that_stops_at_the_first_error():
    command = postgres.restore_command(engine())
    assert command[0] == "pg_restore" and "--exit-on-error" in command
    assert command[-2:] == ["-d", "restore"], "reads the dump on stdin"


def test_parallel_jobs_restore_from_the_dump_received_in_the_work_directory():
    command = postgres.restore_command(engine(jobs=4))
    assert "--jobs=4" in command and command[-1] == postgres.STAGED_DUMP == "/run/drill/backup.dump"


@pytest.mark.parametrize("jobs, expected", [
    (2, ["pg_isready", "psql", ("pg_restore", 0)]),  # written into the work directory before the server is waited for
    (1, ["pg_isready", "psql", ("pg_restore", 6)]),  # streamed: the server must be up first
])
def test_the_dump_is_received_before_waiting_for_the_server_and_restored_after(memory_dir, jobs, expected):
    site = SimpleNamespace(id="p", engine=engine(jobs=jobs))
    plan = postgres.plan(site, "d", str(memory_dir))
    runtime = StubRuntime()
    runtime.start(plan.container)
    executor.restore(plan, runtime, plan.container.name, site.engine, iter([b"PG", b"DUMP"]))
    steps = [(command[0], size) for command, size in runtime.ran]
    assert [step if step[1] or step[0] == "pg_restore" else step[0] for step in steps] == expected
    received = memory_dir / "backup.dump"
    assert (received.read_bytes() if jobs > 1 else b"") == (b"PGDUMP" if jobs > 1 else b"")


def test_a_plain_dump_is_piped_into_psql_as_an_unprivileged_role_that_stops_at_the_first_error():
    command = postgres.restore_command(engine(format="plain"))
    assert command[:2] == ["psql", "-X"] and "ON_ERROR_STOP=1" in command
    assert command[command.index("-U") + 1] == postgres.RESTORE_ROLE != "postgres"
    assert "NOSUPERUSER" in postgres.CREATE_DATABASE[0]


def test_a_spec_is_plain_immutable_data():
    spec = ContainerSpec(name="n", image="i", command=["c"], user="1", labels={}, tmpfs={}, binds={}, memory=1)
    assert run_arguments(spec)["image"] == "i"


class FlakyEngine:
    """Stands for the engine's API: fails the first `failures` forced removals with a 500."""

    def __init__(self, failures: int):
        self.failures, self.calls = failures, 0
        self.api = self

    def ping(self):
        return True

    def remove_container(self, container_id, force, v):
        self.calls += 1
        if self.calls <= self.failures:
            raise docker.errors.APIError("cannot remove: tried to kill container, but did not receive an exit event")


@pytest.fixture
def no_waiting(monkeypatch):
    monkeypatch.setattr("drills.runtimes.docker.time.sleep", lambda seconds: None)


def test_a_removal_the_engine_fails_transiently_is_retried(no_waiting):
    engine = FlakyEngine(failures=len(REMOVE_RETRY_DELAYS))
    DockerRuntime(engine).remove("drill-1")
    assert engine.calls == len(REMOVE_RETRY_DELAYS) + 1


def test_a_container_that_stays_is_an_infrastructure_error_naming_it(no_waiting):
    with pytest.raises(InfrastructureError) as raised:
        DockerRuntime(FlakyEngine(failures=100)).remove("drill-1")
    assert raised.value.code == "error.runtime" and "drill-1" in raised.value.message
