"""What an engine is, said once, as data: an `Engine` (its catalog options, its plan, what the
verifier reads, where its manifest is counted, whether the kit exports it), and the `Plan` of one
restore (its container, its ordered steps, the filters its dump streams through, how it fails).

drills.engines.executor runs any plan; drills.checks.restored verifies what any engine restored.
Nothing here needs Docker or DuckDB, so the CLI and the catalog read engines without loading them.
"""

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterator

from drills.checks.dialects import Dialect
from drills.options import Context, Duration, Option, Record, Size
from drills.redaction import tool_output
from drills.runtimes.spec import DRILL_LABEL, ContainerSpec

WORK_INSIDE = "/run/drill"  # the drill's work directory inside (drills.workdir): a socket, or the restored files
USER = "999:999"
EARLY, SETUP, RESTORE = "early", "setup", "restore"  # when a step runs: before the server is ready, once it is, after
Filter = Callable[[Iterator[bytes]], Iterator[bytes]]


@dataclass(frozen=True)
class Step:
    """One command run inside the restore container."""

    what: str  # the tool or the action, in words: "pg_restore", "SQLite's integrity check"
    command: tuple[str, ...]
    when: str = RESTORE  # EARLY: while the server starts (staging the dump); SETUP: its failure is ours
    dump: bool = False  # the dump streams into its stdin, through the plan's filters
    expect: str | None = None  # the output it must print, besides exiting 0
    timeout: float | None = None  # seconds; None: the engine's timeout
    hint: str = "the backup does not restore: check the backup job and its log"
    output: Callable[[str], str] = tool_output  # what of its output a report may keep (never rows)


@dataclass(frozen=True)
class LastError:
    """How the server's last error is read after a failed step: `command` prints its code."""

    command: tuple[str, ...]
    label: str  # "SQLSTATE"
    pattern: str  # what a code looks like (anything else is ignored)
    classes: dict[str, str]  # code prefix -> words
    full: frozenset[str]  # the codes that mean the disk is full (restore.too_large)


@dataclass(frozen=True)
class Fact:
    """A reading of the restored server once restored (a recovery's end point, amcheck), in the
    verify phase: `read(exit code, output)` gives what the report keeps and the findings."""

    name: str
    step: Step
    read: Callable[[int, str], tuple[object, list]]


@dataclass(frozen=True)
class Request:
    """What the drill asks of the restore beyond the site's settings: the backup chosen, the point
    in time to recover to (physical backups), the identities that open the backup."""

    backup: object = None
    target: datetime | None = None
    identities: tuple = ()


@dataclass(frozen=True)
class Plan:
    container: ContainerSpec
    server: str  # in words, for "did not start": "the PostgreSQL server"
    ready: tuple[str, ...]  # a probe run until it succeeds
    steps: tuple[Step, ...]
    ready_timeout: float = 30
    ready_interval: float = 0.1
    filters: tuple[Filter, ...] = ()  # the dump goes through these, in order
    receive: str | None = None  # the host writes the dump as this file in the work directory, before any step
    data_mounts: tuple[str, ...] = ()  # the tmpfs the restored data fills: found full, the restore was too large
    last_error: LastError | None = None
    version: tuple[str, ...] | None = None  # prints the server's version (the report's provenance)
    facts: tuple[Fact, ...] = ()  # read once restored, in the verify phase
    age: bool = True  # the backup is an age file; False: its bytes go in as they are (pgBackRest encrypts its own)
    explain: Callable[[object], object] = lambda problem: problem  # a failed step's BackupProblem, said better

    def steps_when(self, when: str) -> list[Step]:
        return [step for step in self.steps if step.when == when]

    def work_dir(self) -> Path:
        """The host's work directory: the one bound at WORK_INSIDE."""
        return next(Path(host) for host, inside in self.container.binds.items() if inside == WORK_INSIDE)


@dataclass(frozen=True)
class Database:
    """The verifier attaches the restored database with DuckDB, read-only."""

    dialect: Dialect
    target: Callable[[object, str, float], str]  # (site, work dir, seconds left) -> what DuckDB attaches
    set_aside: Callable[[str], list] = lambda work_dir: []  # findings on objects removed before any query


@dataclass(frozen=True)
class Tree:
    """The verifier walks the restored tree (without following links)."""

    root: str  # under the work dir
    refused: Callable[[str], list[str]]  # (work dir) -> what the restore refused to write, in words


@dataclass(frozen=True)
class Engine:
    name: str
    options: Record  # the site's `engine:` entry in the catalog
    plan: Callable[..., Plan]  # (site, drill id, work dir, Request) -> the restore's plan
    reads: Database | Tree
    manifest: str  # "live": counted on the live database (--dsn); "file": read from the backup file
    exports: bool = False  # `drill export` hands its data back (the reversibility kit)

    def settings(self, **values):
        """Its settings from `values` as the catalog spells them, defaults for the rest (tools, tests)."""
        context = Context(base_dir=Path.cwd(), lines={})
        settings = self.options.convert({"type": self.name, **values}, ("engine",), context)
        if context.problems:
            raise ValueError("; ".join(context.problems))
        return settings


def common_options(tmpfs_doc: str) -> dict[str, Option]:
    """The options every engine has: its container's bounds and the restore's."""
    return {
        "memory": Size("Memory limit of the restore container (its tmpfs counts against it).",
                       default=4 * 1024**3, example="4g"),
        "tmpfs": Size(tmpfs_doc, default=3 * 1024**3, example="3g"),
        "timeout": Duration("Longest a whole drill may take (fetch, restore, verify, export): past it the drill is "
                            "stopped wherever it is (restore.timeout, verify.timeout).", default=3600, example="1h"),
        "max_decompressed": Size("Largest decompressed backup accepted (restore.too_large above).",
                                 default=64 * 1024**3, example="64g"),
    }


def restore_container(site, drill_id: str, work_dir: str, command: list[str], tmpfs: dict[str, str]) -> ContainerSpec:
    """Every engine's container: named after its work directory (DRILL_ID.TOKEN, known before it
    starts), labelled for the reaper, uid 999, the work directory at WORK_INSIDE."""
    return ContainerSpec(
        name=f"restore-drill-{Path(work_dir).name}",
        image=site.engine.image,
        command=command,
        user=USER,
        labels={DRILL_LABEL: drill_id, "io.restore-drill.site": site.id},
        tmpfs=tmpfs,
        binds={work_dir: WORK_INSIDE},
        memory=site.engine.memory,
    )


def data_tmpfs(site) -> str:
    """A server's data directory: a tmpfs of engine.tmpfs, the server's own (uid 999)."""
    return f"size={site.engine.tmpfs},mode=0700,uid=999,gid=999"

