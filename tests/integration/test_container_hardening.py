"""The restore container as the Docker engine really runs it: inspected, not just planned."""

from types import SimpleNamespace

import pytest

from drills.catalog.schema import DEFAULT_POSTGRES_IMAGE
from drills.engines import postgres
from drills.workdir import make_work_dir
from drills.runtimes.docker import DRILL_LABEL


@pytest.fixture
def running(docker_engine):
    """A restore container started from the engine's real spec, ready, then removed."""
    import shutil

    engine = SimpleNamespace(image=DEFAULT_POSTGRES_IMAGE, tmpfs=512 * 1024**2, memory=1024**3)
    socket_dir = make_work_dir("hardening-test")
    spec = postgres.container_spec(SimpleNamespace(id="pharmacie", engine=engine), "hardening-test", str(socket_dir))
    docker_engine.start(spec)
    try:
        postgres.wait_ready(docker_engine, spec.name)
        yield docker_engine.client.containers.get(spec.name)
    finally:
        docker_engine.remove(spec.name)
        shutil.rmtree(socket_dir, ignore_errors=True)


def test_the_running_restore_container_is_isolated_unprivileged_and_bounded(running, docker_engine):
    host = running.attrs["HostConfig"]
    assert host["NetworkMode"] == "none"
    assert set(running.attrs["NetworkSettings"]["Networks"]) <= {"none"}
    assert host["CapDrop"] == ["ALL"] and not host["CapAdd"]
    assert "no-new-privileges" in host["SecurityOpt"]
    assert not any("seccomp=unconfined" in option for option in host["SecurityOpt"]), "default seccomp profile"
    assert host["Privileged"] is False and host["ReadonlyRootfs"] is True
    assert host["Memory"] == 1024**3 and host["PidsLimit"] > 0 and host["NanoCpus"] > 0
    assert "size=536870912" in host["Tmpfs"]["/var/lib/postgresql/data"]
    assert running.attrs["Config"]["User"] == "999:999"
    assert running.labels[DRILL_LABEL] == "hardening-test"
    processes = docker_engine.run(running.id, ["sh", "-c", "id -u; cat /proc/1/status | grep CapEff"]).output
    assert processes.splitlines()[0] == "999", "the server runs as a non-root user"
    assert "CapEff:\t0000000000000000" in processes, "no capability at all inside"


def test_nothing_inside_can_reach_a_network(running, docker_engine):
    interfaces = docker_engine.run(running.id, ["cat", "/proc/net/dev"]).output
    names = {line.split(":")[0].strip() for line in interfaces.splitlines()[2:]}
    assert names == {"lo"}, f"interfaces inside: {names}"
