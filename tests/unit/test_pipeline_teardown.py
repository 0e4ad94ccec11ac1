"""The pipeline's own logic with a stand-in runtime: whatever goes wrong, a report is written
and teardown runs (the real engine is exercised in tests/integration)."""

import threading
from pathlib import Path

import pytest

from drills.catalog import load_catalog
from drills.errors import BackupProblem, InfrastructureError
from drills.pipeline import run_drill
from drills.reports import keys
from drills.watchdog import INTERRUPTED, Watchdog
from tests.helpers import site_entry, write_catalog

IDENTITY = "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX"


class BrokenRuntime:
    """Starts nothing: raises `failure` at start, records what teardown removes."""

    def __init__(self, failure: BaseException):
        self.failure, self.removed = failure, []

    def start(self, spec):
        self.spec = spec
        self.mounted = sorted(str(path.relative_to(host)) for host in spec.binds for path in Path(host).rglob("*"))
        raise self.failure

    def remove(self, name):
        self.removed.append(name)


class Interrupted(BaseException):
    """Stands for dramatiq's Shutdown, which is not an Exception."""


@pytest.fixture
def catalog(tmp_path, memory_dir, monkeypatch):
    monkeypatch.setenv("DRILL_RUN_DIR", str(memory_dir / "run"))
    (tmp_path / "backups").mkdir()
    (tmp_path / "backups" / "b.dump.age").write_bytes(b"age-encryption.org/v1\n")
    key = tmp_path / "drill.agekey"
    key.write_text(IDENTITY + "\n")
    key.chmod(0o600)
    keys.init(tmp_path / "keys" / "signing.ed25519")
    entry = site_entry("pharmacie", tmp_path / "backups", key, checks={"manifest": "ignore"},
                       decrypt={"identity_file": str(key)})
    return load_catalog(write_catalog(tmp_path, [entry]))


def test_an_unexpected_error_is_reported_as_internal_and_the_container_is_still_removed(catalog, memory_dir):
    runtime = BrokenRuntime(RuntimeError("boom"))
    report = run_drill(catalog, catalog.sites[0], runtime=runtime).report
    assert (report["outcome"], report["reason"]) == ("error", "error.internal")
    assert "RuntimeError: boom" in report["message"]
    assert runtime.removed == [runtime.spec.name], "a container whose start failed is removed by name"
    assert list((memory_dir / "run").iterdir()) == [], "the socket directory is removed"


def test_an_interruption_is_reported_and_torn_down_too(catalog):
    runtime = BrokenRuntime(Interrupted())
    report = run_drill(catalog, catalog.sites[0], runtime=runtime, interruptions=(Interrupted,)).report
    assert (report["outcome"], report["reason"]) == ("error", "error.interrupted")
    assert runtime.removed == [runtime.spec.name]


def test_a_container_the_engine_will_not_remove_is_a_warning_and_keeps_the_verdict(catalog, memory_dir):
    class Unremovable(BrokenRuntime):
        def remove(self, name):
            raise InfrastructureError("error.runtime", f"the container {name} could not be removed: 500 Server Error")

    runtime = Unremovable(BackupProblem("restore.failed", "pg_restore failed"))
    report = run_drill(catalog, catalog.sites[0], runtime=runtime).report
    assert (report["outcome"], report["reason"]) == ("fail", "restore.failed"), "still red for the backup's reason"
    (warning,) = [f for f in report["findings"] if f["check"] == "teardown"]
    assert warning["status"] == "warn" and warning["subject"] == runtime.spec.name
    assert list((memory_dir / "run").iterdir()) == [], "the socket directory is removed all the same"


class HangingRuntime(BrokenRuntime):
    """A start that blocks (an engine call stuck) until the container is removed, then fails as
    a cut call does."""

    def __init__(self):
        super().__init__(None)
        self.gone = threading.Event()

    def start(self, spec):
        self.spec = spec
        if not self.gone.wait(30):
            raise AssertionError("never stopped")
        raise InfrastructureError("error.runtime", "the container went away")

    def remove(self, name):
        self.removed.append(name)
        self.gone.set()


def test_a_drill_stuck_past_its_deadline_is_stopped_and_reports_the_timeout(catalog):
    runtime = HangingRuntime()
    report = run_drill(catalog, catalog.sites[0], runtime=runtime, watchdog=Watchdog(0.3)).report
    assert (report["outcome"], report["reason"]) == ("fail", "restore.timeout")
    assert "stopped during restore" in report["message"] and runtime.spec.name in runtime.removed


def test_a_stop_asked_from_another_thread_ends_a_stuck_drill_as_interrupted(catalog):
    runtime, watchdog = HangingRuntime(), Watchdog(3600)
    threading.Timer(0.3, watchdog.fire, args=(INTERRUPTED,)).start()
    report = run_drill(catalog, catalog.sites[0], runtime=runtime, watchdog=watchdog).report
    assert (report["outcome"], report["reason"]) == ("error", "error.interrupted")
    assert [f["code"] for f in report["findings"] if f["status"] == "fail"] == ["error.interrupted"], \
        "the cut call's own error is not reported as a second cause"


def test_a_report_that_cannot_be_stored_is_our_error_and_still_carries_the_verdict(catalog, monkeypatch):
    from drills.errors import ReportNotStored
    from drills.reports.evidence import EvidenceStore

    def full_disk(*_):
        raise InfrastructureError("error.storage", "the report could not be stored: No space left on device")

    monkeypatch.setattr(EvidenceStore, "append", full_disk)
    with pytest.raises(ReportNotStored) as failed:
        run_drill(catalog, catalog.sites[0], runtime=BrokenRuntime(BackupProblem("restore.failed", "no")))
    assert failed.value.code == "error.storage" and failed.value.outcome == "error"
    assert failed.value.report["reason"] == "restore.failed" and "FAIL restore.failed" in failed.value.message


@pytest.mark.parametrize("site_id", ["pharmacie", "another-site"])
def test_a_manifest_read_into_the_work_directory_goes_with_it_whatever_the_drill_became(tmp_path, memory_dir,
                                                                                         monkeypatch, site_id):
    """The manifest is spooled and its files stored beside the work directory before the restore starts,
    never where the container is given (its user may share the worker's uid): read (then the start
    fails) or refused (another site's), nothing of it stays in the run directory."""
    from datetime import datetime, timezone

    from drills import manifest

    monkeypatch.setenv("DRILL_RUN_DIR", str(memory_dir / "run"))
    (tmp_path / "backups").mkdir()
    (tmp_path / "backups" / "b.tar.age").write_bytes(b"age-encryption.org/v1\n")
    (tmp_path / "backups" / "b.tar.age.manifest.json").write_text(manifest.render(
        site_id, "files", datetime.now(timezone.utc), files={"a.pdf": {"size": 1, "sha256": "0" * 64}}))
    key = tmp_path / "drill.agekey"
    key.write_text(IDENTITY + "\n")
    key.chmod(0o600)
    keys.init(tmp_path / "keys" / "signing.ed25519")
    entry = {**site_entry("pharmacie", tmp_path / "backups", key), "engine": {"type": "files"},
             "checks": {"manifest": "required"}}
    catalog = load_catalog(write_catalog(tmp_path, [entry]))
    runtime = BrokenRuntime(RuntimeError("boom"))
    report = run_drill(catalog, catalog.sites[0], runtime=runtime).report
    refused = [f["code"] for f in report["findings"] if f["check"] == "manifest"]
    assert refused == ([] if site_id == "pharmacie" else ["manifest.invalid"])
    assert report["backup"]["manifest"] == "b.tar.age.manifest.json"
    assert list((memory_dir / "run").iterdir()) == [], "the manifest's spool and database are removed"
    assert runtime.mounted == [], "the container's work directory holds nothing of the manifest"
