"""One drill: fetch -> decrypt -> restore -> verify -> report, then teardown.

Fetch, decryption and restore overlap: ciphertext is read, authenticated, decrypted and
decompressed chunk by chunk, by a thread of its own, straight into the restore command inside
the container, which starts while the server inside initializes. Each phase's seconds are wall
time, adding up to the RTO: fetch and decrypt count only the time the restore waited for them
(split between them in proportion of their own time), the rest of the streaming and the
server's work is restore. The measured RTO is the wall time from fetch start to verified data;
teardown is outside it.
"""

import io
import logging
import shutil
import socket
import time
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

from drills import manifest as manifests
from drills import redaction
from drills import sources
from drills.checks import history, targets
from drills.checks.findings import FAIL, WARN, Finding, failure, verdict
from drills.crypto import age
from drills.crypto.identities import identities_from
from drills.checks import restored
from drills.engines import engine_for, executor, recovery
from drills.engines.plan import Request
from drills.errors import DrillError, InfrastructureError, ReportNotStored
from drills.hosting import check as hosting
from drills.reports import anchors, keys
from drills.reports.evidence import EvidenceStore
from drills.reports.provenance import provenance
from drills.reports.report import (NAMED, PHASES, REPORT_FORMAT, TARGET, StoredReport, backup_identity, new_drill_id,
                                   now_utc)
from drills.runtimes.docker import DockerRuntime
from drills.streams import Meter, Phases, Stopwatch, decompressed, drain, pieces, read_ahead, timed
from drills.watchdog import Watchdog, interrupted
from drills.workdir import inputs_dir, make_work_dir
from drills import reasons

log = logging.getLogger("restore_drill.pipeline")


def run_drill(catalog, site, runtime=None, clock=now_utc, progress=lambda phase: None,
              drill_id: str | None = None, interruptions: tuple = (), after_verify=None,
              watchdog: Watchdog | None = None, attempt_of: str | None = None,
              backup_name: str | None = None, target: datetime | None = None) -> StoredReport:
    """Run one drill of `site` in-process and store its signed report.

    `progress(phase)` is called as each phase starts (for a human watching); `drill_id` is
    the attempt's own (unique: a retry gets another, with `attempt_of` naming the drill first
    asked for), made up here if not given. `watchdog` (made from engine.timeout if
    not given) is the drill's one deadline; firing it from another thread (a signal, a worker
    shutting down) stops the drill wherever it is blocked. An exception of `interruptions` (a
    worker shutting down) stops the drill too. Either way teardown runs and the report says why.
    `after_verify(runtime, container, socket_dir, drill_id)`, if given, runs once the data is
    verified and before teardown (outside the RTO), e.g. an export; the findings it returns
    join the report. `backup_name` drills the backup the source lists under that name instead of
    the one the site's `pick` takes (its freshness is then not judged); `target` recovers a
    physical backup to that time instead of the latest point (the newest set taken before it).
    """
    signing_key = keys.load_private(catalog.signing_key)
    store = EvidenceStore.of(catalog)
    drill = Drill(site, runtime, clock, progress, drill_id, interruptions, after_verify, watchdog, attempt_of)
    drill.backup_name, drill.target, drill.past = backup_name, target, history.Past.read(store.root / site.id)
    drill.evidence_replica = catalog.evidence_replica  # a storage location its hosting check judges too
    report = drill.run()
    try:
        stored = store.append(site.id, report, signing_key)
    except InfrastructureError as error:
        raise ReportNotStored(error, report) from None
    anchors.anchor_logged(store, signing_key)  # the journal's head, signed as each drill ends
    return stored


class Drill:
    def __init__(self, site, runtime, clock, progress=lambda phase: None, drill_id=None, interruptions=(),
                 after_verify=None, watchdog: Watchdog | None = None, attempt_of: str | None = None):
        self.site, self.runtime, self.clock, self.on_progress = site, runtime, clock, progress
        self.interruptions, self.after_verify = interruptions, after_verify
        self.watchdog = watchdog or Watchdog(site.engine.timeout)
        self.engine = engine_for(site)
        self.started_at = clock()
        self.drill_id = drill_id or new_drill_id(self.started_at)
        self.attempt_of = attempt_of
        self.phases, self.findings = Phases(dict.fromkeys(PHASES, 0.0)), []
        self.phase = "fetch"
        self.backup = self.manifest = self.manifest_name = self.meter = self.tables = self.backup_name = None
        self.target = self.recovery = None  # a physical backup's time to recover to, and where it did
        self.past = history.Past(None, [])  # what the site's earlier drills proved (drills.checks.history)
        self.error: DrillError | None = None
        self.rto_seconds: float | None = None
        self.data_freshness: Finding | None = None
        self.plan = self.image = self.server_version = None  # the image and version: provenance, read at teardown
        self.evidence_replica = self.hosting = None  # drills.hosting: where the data lives, checked after the RTO

    def progress(self, phase: str) -> None:
        self.phase = phase
        self.on_progress(phase)

    def run(self) -> dict:
        container = work_dir = None
        started = time.perf_counter()
        with self.watchdog, ExitStack() as guards:
            try:
                self.progress("fetch")
                with self.phases.measure("fetch"):  # every second of the RTO is in a phase
                    self.backup = sources.choose(self.site.source, self.started_at, name=self.backup_name,
                                                 site=self.site, before=self.target)
                    identities = identities_from(self.site.decrypt)
                    work_dir = make_work_dir(self.drill_id)
                    self.manifest, self.manifest_name, refused = manifests.for_drill(
                        self.backup, self.site, identities, self.started_at, inputs_dir(work_dir))
                    self.findings += refused
                self.progress("restore")
                with self.phases.measure("restore"):
                    self.runtime = self.runtime or DockerRuntime()
                    plan = self.plan = self.engine.plan(self.site, self.drill_id, str(work_dir),
                                                        Request(self.backup, self.target, tuple(identities)))
                    container = plan.container.name
                    guards.enter_context(self.watchdog.guarding(lambda: self.runtime.remove(container)))
                    self.runtime.start(plan.container)
                self.stream_and_restore(plan, identities)
                self.progress("verify")
                with self.phases.measure("verify"):
                    facts, found = executor.gather(plan, self.runtime, container, self.site.engine)
                    self.recovery = recovery.described(facts, self.backup, self.target)
                    findings, freshness, self.tables = restored.verify(self.engine, str(work_dir), self.site,
                                                                       self.manifest, self.started_at, self.watchdog,
                                                                       found)
                self.stopped_by_watchdog()  # what an interrupted verifier saw proves nothing
                self.findings += findings
                self.data_freshness = freshness
                self.rto_seconds = time.perf_counter() - started
                if self.after_verify and not any(finding.status == FAIL for finding in self.findings):
                    self.progress("export")
                    self.findings += self.after_verify(self.runtime, container, str(work_dir), self.drill_id)
                    self.stopped_by_watchdog()
            except DrillError as error:
                self.conclude(self.watchdog_error() or error)
            except self.interruptions as interruption:
                self.conclude(self.watchdog_error() or interrupted(type(interruption).__name__))
            except Exception as unexpected:  # a bug of ours: reported, never blamed on the site
                if not self.watchdog.reason:  # a call cut by the watchdog fails in its own way: not a bug
                    log.exception("unexpected error in drill %s", self.drill_id)
                self.conclude(self.watchdog_error() or InfrastructureError(
                    reasons.ERROR_INTERNAL,
                    f"unexpected {type(unexpected).__name__}: {redaction.error_text(unexpected)}",
                    hint="a bug in Restore Drill: report it with this drill id"))
            finally:
                with self.phases.measure("teardown"):
                    self.tear_down(container, work_dir)
        self.check_targets()
        self.hosting, found = hosting.inspect(self.site, self.evidence_replica, self.started_at.date())
        self.findings += found
        return self.report()

    def conclude(self, error: DrillError) -> None:  # the error that stopped the drill: its finding (outcome, if ours)
        self.findings.append(failure(error))
        self.error = error if error.outcome == "error" else None

    def stopped_by_watchdog(self) -> None:
        error = self.watchdog_error()
        if error:
            raise error

    def watchdog_error(self) -> DrillError | None:
        """Why the drill stopped, if its watchdog fired: whatever a cut call raised is only a
        consequence of that."""
        return self.watchdog.error(self.phase)

    def tear_down(self, container: str | None, work_dir: Path | None) -> None:
        """Remove the container and its work directory. A container the engine will not remove
        does not change what the drill proved of the backup: it is a warning in the report and in
        the log, and the workers' reaper removes it later."""
        if self.manifest and self.manifest.files:
            self.manifest.files.close()
        if work_dir:
            shutil.rmtree(work_dir, ignore_errors=True)
            shutil.rmtree(inputs_dir(work_dir), ignore_errors=True)
        if not container:
            return
        if not self.watchdog.reason:  # a drill stopped by its deadline does not wait for the engine
            self.read_provenance(container)
        try:
            self.runtime.remove(container)
        except InfrastructureError as error:
            log.error("restore container left behind: %s", error.message, extra={"drill_id": self.drill_id})
            self.findings.append(Finding(check="teardown", subject=container, status=WARN, message=error.message,
                                         hint=error.hint))

    def read_provenance(self, container: str) -> None:
        """The restore image and the server's version, read from the container before it goes
        (outside the RTO); unknown if it cannot answer: provenance never fails a drill."""
        try:
            self.image = self.runtime.image(container)
            self.server_version = executor.server_version(self.plan, self.runtime, container)
        except Exception as error:  # a container that never started, an engine gone
            log.warning("provenance unknown: %s", redaction.error_text(error), extra={"drill_id": self.drill_id})

    def stream_and_restore(self, plan, identities) -> None:
        self.meter = Meter(self.backup.open(), hash_aside=True)
        ciphertext = io.BufferedReader(self.meter, buffer_size=1024 * 1024)
        producing, waiting = Stopwatch(), Stopwatch()
        opened = age.decrypt(ciphertext, identities) if plan.age else pieces(ciphertext)
        plaintext = read_ahead(timed(decompressed(opened, self.site.engine.max_decompressed), producing),
                               stop=self.watchdog.fired)
        started = time.perf_counter()
        try:
            executor.restore(plan, self.runtime, plan.container.name, self.site.engine, timed(plaintext, waiting))
        finally:
            plaintext.close()  # the reading thread stops here
            fetched = self.meter.seconds  # read while producing: the drain below is no part of it
            try:
                drain(ciphertext)  # a failed restore still records the hash of the whole file
            finally:
                ciphertext.close()  # the meter's hashing thread goes with it
            streaming = time.perf_counter() - started
            produced = producing.seconds
            waited = min(waiting.seconds, produced)
            share = waited / produced if produced else 0.0
            self.phases.seconds["fetch"] += fetched * share
            self.phases.seconds["decrypt"] += (produced - fetched) * share
            self.phases.seconds["restore"] += streaming - waited

    def backup_time(self) -> datetime | None:  # a physical backup's: where its recovery ended
        return targets.backup_time(self.manifest.taken_at if self.manifest else None,
                                   recovery.data_time(self.recovery, self.backup))

    def check_targets(self) -> None:
        """Target findings come last: the backup's age, then its newest record's (the canary) (the
        newest backup's only), the restore's time, then the comparison with earlier drills."""
        taken = self.backup_time()
        if taken is not None and self.pick() == "newest":
            self.findings.append(targets.freshness(self.backup.name, taken, self.started_at, self.site.targets.rpo))
            if self.data_freshness:
                self.findings.append(self.data_freshness)
        late = targets.restore_time(self.site.id, self.rto_seconds, self.site.targets.rto) \
            if self.rto_seconds is not None else None
        if late:
            self.findings.append(late)
        if self.rto_seconds is not None and not any(finding.status == FAIL for finding in self.findings):
            self.compare_with_history(taken)

    def compare_with_history(self, taken: datetime | None) -> None:
        """The history findings (drills.checks.history); a bug there never costs the drill its report."""
        try:
            self.findings += history.findings(self.site.checks.history, self.past, self.tables, taken,
                                              self.rto_seconds if self.pick() != NAMED else None)
        except Exception as error:
            log.exception("history not compared", extra={"drill_id": self.drill_id})
            self.findings.append(Finding("history", self.site.id, WARN, message="not compared with the site's "
                                         f"history: {type(error).__name__}", hint="drill index --rebuild"))

    def pick(self) -> str:
        return NAMED if self.backup_name is not None else TARGET if self.target else self.site.source.pick

    def report(self) -> dict:
        outcome, reason = verdict(self.findings, self.error)
        first_failure = next((f for f in self.findings if f.status == FAIL and f.code == reason), None)
        taken = self.backup_time()
        return {
            "format": REPORT_FORMAT,
            "drill_id": self.drill_id,
            "attempt_of": self.attempt_of,
            "site": self.site.id,
            "site_name": self.site.name,
            "tenant": self.site.tenant,
            "outcome": outcome,
            "reason": reason,
            "message": first_failure.message if first_failure else "",
            "hint": first_failure.hint if first_failure else "",
            "started_at": self.started_at.isoformat(timespec="milliseconds"),
            "finished_at": self.clock().isoformat(timespec="milliseconds"),
            "phases": {phase: round(seconds, 3) for phase, seconds in self.phases.seconds.items()},
            "rto_seconds": round(self.rto_seconds, 3) if self.rto_seconds is not None else None,
            "targets": {"rto_seconds": self.site.targets.rto, "rpo_seconds": self.site.targets.rpo},
            "backup": backup_identity(self.backup, self.meter, taken, self.started_at, self.manifest_name, self.pick()),
            "requested_backup": self.backup_name,
            "recovery": self.recovery,
            "engine": {"type": self.site.engine.type, "format": self.site.engine.format,
                       "image": self.site.engine.image},
            "contents_verified": self.contents_verified(),
            "tables": self.tables,
            "findings": [finding.as_dict() for finding in self.findings],
            "host": socket.gethostname(),
            "provenance": provenance(self.site.engine.image, self.image, self.server_version),
            "hosting": self.hosting,
        }

    def contents_verified(self) -> bool:
        """Whether the restored contents were checked against something the site declared (the manifest's
        counts or files, table bounds): a pass without it is "restored, contents not verified"."""
        return self.manifest is not None or bool(self.site.checks.tables)
