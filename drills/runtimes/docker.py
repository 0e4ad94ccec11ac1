"""Runtime `docker`: throwaway restore containers through the Docker engine's API (the contract:
drills.runtimes.spec)."""

import select
import socket
import struct
import threading
import time
from typing import Iterator

import docker
import docker.errors
import requests.exceptions

from drills.errors import InfrastructureError
from drills.runtimes.spec import DRILL_LABEL, ContainerSpec, ExecResult, timed_out
from drills import reasons

OUTPUT_TAIL = 64 * 1024
SEND_POLL = 1.0  # seconds between checks that the command still reads
REMOVE_RETRY_DELAYS = (1, 2, 4, 8)  # seconds; the engine sometimes fails a forced removal transiently


def run_arguments(spec: ContainerSpec) -> dict:
    """The Docker SDK arguments for a spec: no network, no privileges, bounded resources."""
    return dict(
        name=spec.name, image=spec.image, command=spec.command, user=spec.user, labels=spec.labels,
        detach=True, network_mode="none", read_only=spec.read_only,
        tmpfs=spec.tmpfs, volumes={host: {"bind": inside, "mode": "rw"} for host, inside in spec.binds.items()},
        cap_drop=["ALL"], cap_add=spec.cap_add, security_opt=["no-new-privileges"],
        mem_limit=spec.memory, memswap_limit=spec.memory, pids_limit=spec.pids,
        nano_cpus=int(spec.cpus * 1e9), ipc_mode="private",
        log_config={"type": "none"},  # the server's messages quote rows: never on the host's disk
    )


class DockerRuntime:
    def __init__(self, client: docker.DockerClient | None = None):
        try:
            self.client = client or docker.from_env(timeout=120)
            self.client.ping()
        except docker.errors.DockerException as error:
            raise unreachable(error) from None

    def start(self, spec: ContainerSpec) -> str:
        try:
            return self.client.containers.run(**run_arguments(spec)).id
        except docker.errors.ImageNotFound:
            raise InfrastructureError(reasons.ERROR_RUNTIME,
                                      f"the restore image {spec.image} is not in the Docker engine",
                                      hint="build it with scripts/build-images.sh, or set engine.image") from None
        except docker.errors.DockerException as error:
            raise unreachable(error) from None

    def run(self, container_id: str, command: list[str], input: Iterator[bytes] | None = None,
            stdout=None, timeout: float = 3600) -> ExecResult:
        deadline = time.monotonic() + timeout
        try:
            exec_id = self.client.api.exec_create(container_id, command, stdin=input is not None)["Id"]
            connection = self.client.api.exec_start(exec_id, socket=True)._sock
        except docker.errors.DockerException as error:
            raise unreachable(error) from None
        output = OutputCollector(connection, stdout)
        output.start()
        try:
            if input is not None:
                send_all(connection, input, deadline, lambda: self.running(exec_id))
                connection.shutdown(socket.SHUT_WR)
            output.join(max(0.0, deadline - time.monotonic()))
            while self.running(exec_id):  # the output can end before the command does
                if time.monotonic() > deadline:
                    raise timed_out(timeout)
                time.sleep(0.05)
        finally:
            connection.close()
        return ExecResult(self.client.api.exec_inspect(exec_id)["ExitCode"], output.text())

    def running(self, exec_id: str) -> bool:
        return bool(self.client.api.exec_inspect(exec_id).get("Running"))

    def remove(self, container_id: str) -> None:
        """Forced removal, retried: a kill the engine did not see through, or a removal already
        in progress, is answered with an error that a later attempt does not get."""
        for delay in (*REMOVE_RETRY_DELAYS, None):
            try:
                self.client.api.remove_container(container_id, force=True, v=True)
                return
            except docker.errors.NotFound:
                return
            except (docker.errors.DockerException, requests.exceptions.RequestException) as error:
                if delay is None:
                    raise InfrastructureError(reasons.ERROR_RUNTIME,
                                              f"the container {container_id} could not be removed: {error}",
                                              hint="the workers' reaper retries; see the Docker engine's log") from None
                time.sleep(delay)

    def oom_killed(self, container_id: str) -> bool:
        """Whether the kernel killed a process of the container for its memory limit: its main
        process (the engine's OOMKilled), or any other, as counted by the container's own memory
        cgroup (cgroup v2 memory.events, v1 memory.oom_control)."""
        try:
            if self.client.api.inspect_container(container_id)["State"].get("OOMKilled"):
                return True
        except docker.errors.DockerException:
            return False
        counters = self.run(container_id, ["sh", "-c", "cat /sys/fs/cgroup/memory.events "
                                                       "/sys/fs/cgroup/memory/memory.oom_control 2>/dev/null"],
                            timeout=10).output
        return any(line.split()[:1] == ["oom_kill"] and line.split()[1] != "0" for line in counters.splitlines())

    def free_bytes(self, container_id: str, path: str) -> int | None:
        """Room left on the filesystem at `path` inside (statvfs: blocks available x block size);
        None if the container cannot answer (it stopped)."""
        try:
            answer = self.run(container_id, ["stat", "-f", "-c", "%a %S", path], timeout=10)
        except InfrastructureError:
            return None
        fields = answer.output.split()
        if answer.exit_code != 0 or len(fields) != 2 or not all(field.isdigit() for field in fields):
            return None
        return int(fields[0]) * int(fields[1])

    def labelled(self) -> list[str]:
        return [c.id for c in self.client.containers.list(all=True, filters={"label": DRILL_LABEL})]

    def image(self, container_id: str) -> dict:
        """The image the container runs: its id (sha256:..., its content as the engine holds it)
        and its registry digests (NAME@sha256:..., none for an image built locally)."""
        try:
            image_id = self.client.api.inspect_container(container_id)["Image"]
            digests = self.client.api.inspect_image(image_id).get("RepoDigests") or []
        except (docker.errors.DockerException, requests.exceptions.RequestException, KeyError):
            return {"id": None, "repo_digests": []}
        return {"id": image_id, "repo_digests": sorted(digests)}


def send_all(connection: socket.socket, chunks: Iterator[bytes], deadline: float, running) -> None:
    """Send every chunk, unless the command stops reading (it exited: its exit code says
    why). Sends never block (select, then MSG_DONTWAIT: the socket's own mode is left alone,
    as the output collector reads it at the same time), so neither a finished command
    (dockerd keeps our side open) nor a hung one holds us past the deadline. The chunks are
    consumed to the end in every case, so every byte of the backup is authenticated and hashed."""
    for chunk in chunks:
        if not send_chunk(connection, memoryview(chunk), deadline, running):
            break
    for _ in chunks:
        pass


def send_chunk(connection: socket.socket, data: memoryview, deadline: float, running) -> bool:
    """True once `data` is sent; False if the command stopped reading."""
    while data:
        if time.monotonic() > deadline:
            raise timed_out(None)
        if not select.select([], [connection], [], SEND_POLL)[1]:
            if not running():
                return False
            continue
        try:
            data = data[connection.send(data, socket.MSG_DONTWAIT):]
        except BlockingIOError:
            continue
        except (BrokenPipeError, ConnectionResetError):
            return False
    return True


def unreachable(error: Exception) -> InfrastructureError:
    return InfrastructureError(reasons.ERROR_RUNTIME, f"the Docker engine failed or cannot be reached: {error}",
                               hint="check that dockerd runs and DOCKER_HOST points at it")


class OutputCollector(threading.Thread):
    """Drains an exec's stdout/stderr so the command never blocks on a full pipe.

    Docker multiplexes both streams in frames (an 8-byte header: stream, 0, 0, 0, size); a
    payload is taken as it arrives, never gathered whole (a frame may announce 4 GB), and only
    the last OUTPUT_TAIL bytes are kept, unless a `stdout` sink takes the standard output's.
    """

    def __init__(self, connection: socket.socket, stdout=None):
        super().__init__(daemon=True)
        self.connection, self.stdout = connection, stdout
        self.header, self.payload = bytearray(), bytearray()
        self.stream, self.remaining = 0, 0

    def run(self) -> None:
        try:
            while data := self.connection.recv(65536):
                self.take(memoryview(data))
        except OSError:
            pass

    def take(self, data: memoryview) -> None:
        while data:
            if not self.remaining:
                needed = 8 - len(self.header)
                self.header += data[:needed]
                data = data[needed:]
                if len(self.header) == 8:
                    self.stream, (self.remaining,) = self.header[0], struct.unpack(">I", self.header[4:8])
                    self.header.clear()
                continue
            piece, data = data[:self.remaining], data[self.remaining:]
            self.remaining -= len(piece)
            if self.stdout is not None and self.stream == 1:
                self.stdout.write(bytes(piece))
            else:
                self.payload += piece
                del self.payload[:-OUTPUT_TAIL]

    def text(self) -> str:
        return self.payload.decode("utf-8", "replace")
