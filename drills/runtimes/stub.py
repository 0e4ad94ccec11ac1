"""Runtime `stub`: the runtime contract (drills.runtimes.spec) without containers, for unit
tests of what runs restores. Commands are not executed: each answers as scripted, by its
first word, and every command run is recorded with the bytes it was given.

    runtime = StubRuntime({"pg_restore": ExecResult(1, "pg_restore: error: ..."), "sleep": HANGS})
    runtime.ran  ->  [(["pg_isready", ...], 0), (["pg_restore", ...], 6), ...]

Unscripted commands succeed with no output. Like a real runtime, it consumes every chunk of
the input (a filter raising at the end of the stream raises here too), times out a command
scripted as HANGS with restore.timeout, and refuses commands in a container it does not hold.
"""

import hashlib
from typing import Callable, Iterator

from drills.errors import InfrastructureError
from drills.runtimes.spec import DRILL_LABEL, ContainerSpec, ExecResult, timed_out
from drills import reasons

HANGS = "hangs"
Answer = ExecResult | str | Callable[[list[str], bytes], ExecResult]


class StubRuntime:
    def __init__(self, answers: dict[str, Answer] | None = None, oom_killed: bool = False,
                 free: dict[str, int] | None = None):
        self.answers, self.killed, self.free = dict(answers or {}), oom_killed, dict(free or {})
        self.containers: dict[str, ContainerSpec] = {}
        self.ran: list[tuple[list[str], int]] = []

    def start(self, spec: ContainerSpec) -> str:
        if spec.name in self.containers:
            raise InfrastructureError(reasons.ERROR_RUNTIME, f"a container named {spec.name} already exists")
        self.containers[spec.name] = spec
        return spec.name

    def run(self, container_id: str, command: list[str], input: Iterator[bytes] | None = None,
            stdout=None, timeout: float = 3600) -> ExecResult:
        self.held(container_id)
        received = b"".join(input) if input is not None else b""
        self.ran.append((list(command), len(received)))
        answer = self.answers.get(command[0], ExecResult(0, ""))
        if answer == HANGS:
            raise timed_out(timeout)
        result = answer(list(command), received) if callable(answer) else answer
        if stdout is not None:
            stdout.write(result.output.encode())
            return ExecResult(result.exit_code, "")
        return result

    def oom_killed(self, container_id: str) -> bool:
        self.held(container_id)
        return self.killed

    def free_bytes(self, container_id: str, path: str) -> int | None:
        self.held(container_id)
        return self.free.get(path)

    def remove(self, container_id: str) -> None:
        self.containers.pop(container_id, None)

    def labelled(self) -> list[str]:
        return [name for name, spec in self.containers.items() if DRILL_LABEL in spec.labels]

    def image(self, container_id: str) -> dict:
        self.held(container_id)
        return {"id": "sha256:" + hashlib.sha256(self.containers[container_id].image.encode()).hexdigest(),
                "repo_digests": []}

    def held(self, container_id: str) -> None:
        if container_id not in self.containers:
            raise InfrastructureError(reasons.ERROR_RUNTIME, f"no container {container_id}")

    def commands(self) -> list[str]:
        """The first word of every command run, in order (sh -c scripts by their script's first word)."""
        return [command[2].split()[0] if command[:2] == ["sh", "-c"] else command[0] for command, _ in self.ran]
