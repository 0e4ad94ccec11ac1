"""The runtime contract (drills.runtimes.spec), held against the Docker runtime and the stub the
unit tests stand on: what the executor relies on is true of both. The stub is scripted to answer
the commands below as the real ones do; what is checked is the contract around them."""

import re
import uuid

import pytest

from drills.engines.tools import DEFAULT_TOOLS_IMAGE
from drills.errors import BackupProblem, InfrastructureError
from drills.runtimes.spec import DRILL_LABEL, ContainerSpec, ExecResult
from drills.runtimes.stub import HANGS, StubRuntime

TMPFS = 8 * 1024**2


def count_and_exit_3(command, data):
    return ExecResult(3, f"{len(data)}\n")


@pytest.fixture(params=["docker", "stub"])
def runtime(request):
    if request.param == "docker":
        return request.getfixturevalue("docker_engine")
    return StubRuntime({"sh": count_and_exit_3, "sleep": HANGS}, free={"/tmp": TMPFS - 4096})


@pytest.fixture
def container(runtime):
    name = f"restore-drill-conformance-{uuid.uuid4().hex[:8]}"
    spec = ContainerSpec(name=name, image=DEFAULT_TOOLS_IMAGE, command=["sleep", "infinity"], user="999:999",
                         labels={DRILL_LABEL: "conformance"}, tmpfs={"/tmp": f"size={TMPFS},mode=1777"}, binds={},
                         memory=256 * 1024**2)
    container_id = runtime.start(spec)
    yield container_id
    runtime.remove(name)


def counted(chunks, seen: list):
    for chunk in chunks:
        seen.append(len(chunk))
        yield chunk


def test_a_started_container_is_labelled_and_gone_once_removed_twice(runtime, container):
    assert container in runtime.labelled()
    runtime.remove(container)
    runtime.remove(container)  # a missing container is fine
    assert container not in runtime.labelled()
    with pytest.raises(InfrastructureError) as raised:
        runtime.run(container, ["true"], timeout=10)
    assert raised.value.code == "error.runtime"


def test_the_image_a_container_runs_is_named_by_its_content_id(runtime, container):
    image = runtime.image(container)
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", image["id"]) and isinstance(image["repo_digests"], list)
    assert image == runtime.image(container), "the same answer each time"


def test_the_input_reaches_stdin_and_the_exit_code_and_output_come_back(runtime, container):
    result = runtime.run(container, ["sh", "-c", "wc -c; exit 3"], input=iter([b"abc", b"defg"]), timeout=30)
    assert result.exit_code == 3 and result.output.strip() == "7"


def test_every_chunk_is_consumed_even_when_the_command_reads_nothing(runtime, container):
    seen = []
    result = runtime.run(container, ["true"], input=counted((bytes(65536) for _ in range(256)), seen), timeout=60)
    assert result.exit_code == 0 and len(seen) == 256


def test_a_command_past_its_timeout_is_restore_timeout(runtime, container):
    with pytest.raises(BackupProblem) as raised:
        runtime.run(container, ["sleep", "30"], timeout=2)
    assert raised.value.code == "restore.timeout"


def test_a_healthy_container_was_not_oom_killed_and_its_tmpfs_room_is_measured(runtime, container):
    assert runtime.oom_killed(container) is False
    free = runtime.free_bytes(container, "/tmp")
    assert free is not None and 0 < free <= TMPFS
    assert runtime.free_bytes(container, "/no/such/mount") is None
