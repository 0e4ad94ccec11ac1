"""What the file engines (sqlite, files) share: their settings, and a plan whose container is an
idle one of the tools image, receiving the plaintext into the work directory, where the engine's
own checker runs.

The work directory lies on a memory filesystem (drills.workdir); what is written there is
capped at engine.tmpfs (a file the host receives, by drills.engines.receiving; a stream into a
step, by the plan's first filter), so a restore can neither fill the host's memory nor its disk.
"""

from dataclasses import dataclass
from functools import partial

from drills.engines.plan import Plan, Step, common_options, restore_container
from drills.errors import BackupProblem
from drills.options import Choice, Record, Text
from drills import reasons

DEFAULT_TOOLS_IMAGE = "restore-drill/tools:bookworm"


@dataclass(frozen=True)
class FileSettings:
    type: str
    image: str
    memory: int
    tmpfs: int
    timeout: int
    max_decompressed: int
    format: str = "file"


def file_options(engine_type: str, doc: str, format_name: str) -> Record:
    return Record(doc, {
        "type": Choice("Engine plug-in.", (engine_type,), required=True, example=engine_type),
        "image": Text("Image holding the checking tools (sqlite3, tar), without network.",
                      default=DEFAULT_TOOLS_IMAGE, example=DEFAULT_TOOLS_IMAGE),
        **common_options("Most bytes the restored file or tree may take (in memory, never on disk)."),
    }, build=lambda **fields: FileSettings(**fields, format=format_name))


def file_plan(site, drill_id: str, work_dir: str, steps: tuple[Step, ...], filters: tuple = (),
              version: tuple[str, ...] | None = None, receive: str | None = None) -> Plan:
    """An idle container (no network, read-only root) that the steps run in, the dump capped;
    `version` prints the restoring tool's version; `receive` names the file the host writes the dump into."""
    container = restore_container(site, drill_id, work_dir, ["sleep", "infinity"], {"/tmp": "size=64m,mode=1777"})
    cap = () if receive else (partial(capped, limit=site.engine.tmpfs),)  # receiving caps its own
    return Plan(container=container, server="the restore container", ready=("true",), steps=steps,
                filters=(*cap, *filters), version=version, receive=receive)


def capped(chunks, limit: int):
    """The chunks, refused with restore.too_large past `limit` bytes in all."""
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > limit:
            raise BackupProblem(reasons.RESTORE_TOO_LARGE, f"the restored data exceeds engine.tmpfs ({limit:,} bytes)",
                                hint="a decompression bomb, or a real backup larger than engine.tmpfs: raise it "
                                     "if the site's data is that big")
        yield chunk


def last_lines(output: str, count: int = 5) -> str:
    lines = [line for line in output.strip().splitlines() if line.strip()]
    return " | ".join(lines[-count:]) or "no output"
