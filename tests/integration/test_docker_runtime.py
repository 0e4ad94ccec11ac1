"""The Docker runtime's streaming into a command, against the real engine: a command that stops
reading early, or never reads, must not block a drill."""

import time

import pytest

from drills.engines.postgres import DEFAULT_POSTGRES_IMAGE
from drills.errors import BackupProblem
from drills.runtimes.docker import DRILL_LABEL, ContainerSpec


@pytest.fixture
def container(docker_engine):
    spec = ContainerSpec(name="restore-drill-runtime-test", image=DEFAULT_POSTGRES_IMAGE, command=["sleep", "600"], user="999:999",
                         labels={DRILL_LABEL: "runtime-test"}, tmpfs={}, binds={}, memory=256 * 1024**2)
    container_id = docker_engine.start(spec)
    yield container_id
    docker_engine.remove(container_id)


def counted(chunks, seen):
    for chunk in chunks:
        seen.append(len(chunk))
        yield chunk


def test_a_command_that_exits_early_ends_the_stream_and_every_chunk_is_still_consumed(docker_engine, container):
    seen = []
    started = time.monotonic()
    result = docker_engine.run(container, ["sh", "-c", "head -c 10 >/dev/null; echo refused >&2; exit 3"],
                               input=counted((bytes(65536) for _ in range(1024)), seen), timeout=60)
    assert result.exit_code == 3 and "refused" in result.output
    assert len(seen) == 1024, "the rest of the backup is still read (authenticated and hashed)"
    assert time.monotonic() - started < 30


def test_a_command_that_never_reads_times_out_with_restore_timeout(docker_engine, container):
    with pytest.raises(BackupProblem) as raised:
        docker_engine.run(container, ["sleep", "30"], input=(bytes(65536) for _ in range(1024)), timeout=3)
    assert raised.value.code == "restore.timeout"


def test_stdout_can_be_streamed_to_a_sink_while_stderr_is_kept(docker_engine, container):
    class Sink:
        data = bytearray()

        def write(self, chunk):
            self.data += chunk

    sink = Sink()
    result = docker_engine.run(container, ["sh", "-c", "head -c 300000 /dev/zero; echo warn >&2"], stdout=sink)
    assert result.exit_code == 0 and len(sink.data) == 300000 and result.output.strip() == "warn"


def test_the_exit_code_is_read_once_the_command_ends_even_if_its_output_ended_before(docker_engine, container):
    command = ["sh", "-c", "cat >/dev/null; exec >&- 2>&-; sleep 2; exit 4"]
    result = docker_engine.run(container, command, input=iter([b"x" * 100_000]), timeout=30)
    assert result.exit_code == 4
