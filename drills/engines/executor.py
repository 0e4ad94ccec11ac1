"""Runs any engine's plan (drills.engines.plan) in its started container.

Order: the dump written into the work directory if the plan receives it there (drills.engines.
receiving), the EARLY steps (staging a dump while the server starts), then the server is waited
for once, the SETUP steps run (their failure is ours: error.runtime), then the RESTORE steps. The
dump goes through the plan's filters, into that file or the one step that takes it. A failed step is
restore.failed, said in the tool's own structured words (never rows: each step says what of its
output may be kept), with the server's last error code where the plan can read it.

A failure that was a resource limit is said so from signals, not from the words of a message:
the runtime's out-of-memory record (restore.out_of_memory), a data mount the runtime finds full or
the server's own disk-full code (restore.too_large). The runtime itself raises restore.timeout.
"""

import re
import time

from drills.engines.plan import EARLY, RESTORE, SETUP, Plan, Step
from drills.engines.receiving import receive
from drills.errors import BackupProblem, InfrastructureError
from drills import reasons

FULL = 1024 * 1024  # bytes: a data mount with less room left than this is full
SETUP_TIMEOUT = 30  # seconds, for a step without its own
VERSION_CHARS = 200


def restore(plan: Plan, runtime, container_id: str, settings, plaintext) -> None:
    """Restore the dump (an iterator of plaintext chunks) by the plan; BackupProblem if it does not restore."""
    dump = plaintext
    for keep in plan.filters:
        dump = keep(dump)
    if plan.receive:
        receive(plan.work_dir(), plan.receive, dump, settings.tmpfs, settings.timeout)
    for step in plan.steps_when(EARLY):
        run_step(plan, runtime, container_id, step, settings, dump)
    serve(plan, runtime, container_id)
    for step in plan.steps_when(RESTORE):
        run_step(plan, runtime, container_id, step, settings, dump)


def gather(plan: Plan, runtime, container_id: str, settings) -> tuple[dict, list]:
    """The plan's facts, read from the restored server: ({name: value}, findings)."""
    facts, findings = {}, []
    for fact in plan.facts:
        result = runtime.run(container_id, list(fact.step.command), timeout=fact.step.timeout or settings.timeout)
        facts[fact.name], found = fact.read(result.exit_code, result.output)
        findings += found
    return facts, findings


def server_version(plan: Plan, runtime, container_id: str) -> str | None:
    """The first line the plan's version command prints (the image's own binary: the root
    filesystem is read-only), printable ASCII only, at most VERSION_CHARS; None if the plan has
    none or the container cannot answer (provenance never fails a drill)."""
    if plan.version is None:
        return None
    try:
        result = runtime.run(container_id, list(plan.version), timeout=10)
    except Exception:  # a stopped container, an engine error: the version is unknown
        return None
    lines = result.output.strip().splitlines() if result.exit_code == 0 else []
    printable = "".join(char for char in lines[0] if " " <= char <= "~")[:VERSION_CHARS] if lines else ""
    return printable.strip() or None


def serve(plan: Plan, runtime, container_id: str) -> None:
    """Wait until the server answers the plan's probe, then run its SETUP steps. error.runtime if it
    does not start within the plan's ready_timeout."""
    deadline = time.monotonic() + plan.ready_timeout
    while runtime.run(container_id, list(plan.ready), timeout=10).exit_code != 0:
        if time.monotonic() > deadline:
            raise InfrastructureError(reasons.ERROR_RUNTIME,
                                      f"{plan.server} did not start within {plan.ready_timeout:g} s",
                                      hint="check the restore image (engine.image) and the container logs")
        time.sleep(plan.ready_interval)
    for step in plan.steps_when(SETUP):
        run_step(plan, runtime, container_id, step, None, None)


def run_step(plan: Plan, runtime, container_id: str, step: Step, settings, dump) -> str:
    """Run one step; its output if it succeeds."""
    timeout = step.timeout or (settings.timeout if settings else SETUP_TIMEOUT)
    try:
        result = runtime.run(container_id, list(step.command), input=dump if step.dump else None, timeout=timeout)
    except BackupProblem as problem:  # a filter refused the dump, or the step ran out of time
        raise limit_reached(problem, plan, runtime, container_id, settings) from None
    if result.exit_code == 0 and (step.expect is None or result.output.strip() == step.expect):
        return result.output
    exit_code = f" (exit {result.exit_code})" if result.exit_code else ""
    message = f"{step.what} failed{exit_code}: {step.output(result.output)}"
    if step.when == SETUP:
        raise InfrastructureError(reasons.ERROR_RUNTIME, message, hint="check the restore image (engine.image)")
    code = last_error_code(plan, runtime, container_id, result.output)
    problem = BackupProblem(reasons.RESTORE_FAILED, message + described(plan, code), hint=step.hint)
    raise plan.explain(limit_reached(problem, plan, runtime, container_id, settings, code))


def last_error_code(plan: Plan, runtime, container_id: str, output: str) -> str | None:
    """The server's last error code (a SQLSTATE, a MariaDB error number), read as the plan says:
    by its command inside, or from the failed step's output; None if there is none."""
    last = plan.last_error
    if last is None:
        return None
    if last.command:
        try:
            output = runtime.run(container_id, list(last.command), timeout=10).output
        except (BackupProblem, InfrastructureError):
            return None
    codes = re.findall(last.pattern, output, re.MULTILINE)
    return codes[-1] if codes else None


def described(plan: Plan, code: str | None) -> str:
    """` (SQLSTATE 22P02: data exception)`, or '' without a code."""
    if code is None or not plan.last_error.label:
        return ""
    words = next((words for prefix, words in plan.last_error.classes.items() if code.startswith(prefix)), "error")
    return f" ({plan.last_error.label} {code}: {words})"


def limit_reached(problem: BackupProblem, plan: Plan, runtime, container_id: str, settings,
                  code: str | None = None) -> BackupProblem:
    """A failed restore that was the container's memory limit or a full data mount, said so."""
    if problem.code != reasons.RESTORE_FAILED or settings is None:
        return problem
    if runtime.oom_killed(container_id):
        return BackupProblem(reasons.RESTORE_OUT_OF_MEMORY, f"the restore was killed by the container's memory limit "
                                                            f"({settings.memory:,} bytes): {problem.message}",
                             hint="raise engine.memory if the site's data really needs it")
    if (plan.last_error and code in plan.last_error.full) or any(
            full(runtime, container_id, mount) for mount in plan.data_mounts):
        return BackupProblem(reasons.RESTORE_TOO_LARGE, f"the restored data outgrew engine.tmpfs "
                                                        f"({settings.tmpfs:,} bytes): {problem.message}",
                             hint="raise engine.tmpfs if the site's data is that big")
    return problem


def full(runtime, container_id: str, mount: str) -> bool:
    free = runtime.free_bytes(container_id, mount)
    return free is not None and free < FULL
