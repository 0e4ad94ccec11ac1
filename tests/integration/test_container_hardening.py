"""The restore containers as the Docker engine really runs them, for every engine: inspected,
not just planned. No engine needs a capability: the servers run as uid 999 on tmpfs they own,
and the tools only read and write the work directory (owned by 999), so CapAdd stays empty."""

import shutil
from types import SimpleNamespace

import pytest

from drills.engines import ENGINES, executor
from drills.runtimes.docker import DRILL_LABEL
from drills.workdir import make_work_dir

DATA_TMPFS = {"postgres": "/var/lib/postgresql/data", "mariadb": "/var/lib/mysql"}


@pytest.fixture(params=sorted(ENGINES))
def running(request, docker_engine):
    """A restore container started from the engine's real plan, ready, then removed."""
    engine_type = request.param
    engine = ENGINES[engine_type].settings(tmpfs="512m", memory="1g")
    work_dir = make_work_dir("hardening-test")
    plan = ENGINES[engine_type].plan(SimpleNamespace(id="pharmacie", engine=engine), "hardening-test", str(work_dir))
    spec = plan.container
    docker_engine.start(spec)
    try:
        executor.serve(plan, docker_engine, spec.name)
        yield engine_type, docker_engine.client.containers.get(spec.name)
    finally:
        docker_engine.remove(spec.name)
        shutil.rmtree(work_dir, ignore_errors=True)


def test_the_running_restore_container_is_isolated_unprivileged_and_bounded(running, docker_engine):
    engine_type, container = running
    host = container.attrs["HostConfig"]
    assert host["NetworkMode"] == "none"
    assert set(container.attrs["NetworkSettings"]["Networks"]) <= {"none"}
    assert host["CapDrop"] == ["ALL"] and not host["CapAdd"]
    assert "no-new-privileges" in host["SecurityOpt"]
    assert not any("seccomp=unconfined" in option for option in host["SecurityOpt"]), "default seccomp profile"
    assert host["Privileged"] is False and host["ReadonlyRootfs"] is True
    assert host["LogConfig"]["Type"] == "none", "the server's messages (rows included) never reach the host's disk"
    assert host["Memory"] == 1024**3 and host["PidsLimit"] > 0 and host["NanoCpus"] > 0
    if engine_type in DATA_TMPFS:
        assert "size=536870912" in host["Tmpfs"][DATA_TMPFS[engine_type]]
    assert container.attrs["Config"]["User"] == "999:999"
    assert container.labels[DRILL_LABEL] == "hardening-test"
    processes = docker_engine.run(container.id, ["sh", "-c", "id -u; grep CapEff /proc/1/status"]).output
    assert processes.splitlines()[0] == "999", "the restore runs as a non-root user"
    assert "CapEff:\t0000000000000000" in processes, "no capability at all inside"


def test_nothing_inside_can_reach_a_network(running, docker_engine):
    _, container = running
    interfaces = docker_engine.run(container.id, ["cat", "/proc/net/dev"]).output
    names = {line.split(":")[0].strip() for line in interfaces.splitlines()[2:]}
    assert names == {"lo"}, f"interfaces inside: {names}"
