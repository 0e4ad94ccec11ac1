"""Disaster-day answers against real backups (real pg_dump, age, Docker, DuckDB): drilling a
backup by name, the recovery-point finder, and the history checks that catch data destroyed at
the source between two backups."""

import json
import os
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from drills.catalog import load_catalog
from drills.demo.catalog import flip_byte
from drills.demo.seed import SourceDatabase, seal
from drills.fleet import AMBER, Fleet
from drills.pipeline import run_drill
from drills.reports import index, keys
from tests.helpers import drill_command, site_entry, write_catalog
from tests.integration.conftest import SITE

HOUR = 3600


def place(source: Path, folder: Path, name: str, taken_at: datetime) -> str:
    """Copy a backup and its manifest into `folder` as `name`, written (mtime) at `taken_at`, its
    manifest saying it was taken a minute before: a nightly backup of that night."""
    folder.mkdir(exist_ok=True)
    shutil.copy(source, folder / name)
    manifest = json.loads(source.with_name(source.name + ".manifest.json").read_text())
    manifest["taken_at"] = (taken_at - timedelta(minutes=1)).isoformat(timespec="seconds")
    (folder / f"{name}.manifest.json").write_text(json.dumps(manifest))
    for file in (folder / name, folder / f"{name}.manifest.json"):
        os.utime(file, (taken_at.timestamp(), taken_at.timestamp()))
    return name


@pytest.fixture
def five_nights(tmp_path, backups, keys_dir, docker_engine):
    """A site with five nightly backups, the newest two damaged: tonight's corrupted in transit
    (one byte changed), yesterday's dump missing a table. The catalog, and the backups' names and
    times, newest first."""
    folder, now = tmp_path / "source", datetime.now(timezone.utc)
    nights = [now - timedelta(days=day, minutes=10) for day in range(5)]
    names = [place(backups["healthy"], folder, "night-5.dump.age", nights[0]),
             place(backups["missing-table"], folder, "night-4.dump.age", nights[1])]
    names += [place(backups["healthy"], folder, f"night-{3 - day}.dump.age", nights[2 + day]) for day in range(3)]
    flip_byte(folder / names[0], (folder / names[0]).stat().st_size // 2)
    path = write_catalog(tmp_path, [site_entry(SITE, folder, keys_dir["dir"] / "drill.agekey")])
    assert drill_command("keys", "init", "--catalog", str(path)).returncode == 0
    return path, list(zip(names, nights))


def restorable(catalog: Path, *options) -> tuple[int, dict]:
    done = drill_command("restorable", SITE, "--json", "--catalog", str(catalog), *options)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def site_reports(catalog: Path) -> list[Path]:
    return sorted((catalog.parent / "evidence" / SITE).glob("[0-9]*-*.json"))


def test_the_finder_names_the_newest_restorable_backup_and_the_data_lost(five_nights):
    catalog, nights = five_nights
    code, answer = restorable(catalog)
    assert code == 0
    tried = [(t["backup"], t["outcome"], t["reason"], t["reused"]) for t in answer["tried"]]
    assert tried == [("night-5.dump.age", "fail", "decrypt.corrupt", False),
                     ("night-4.dump.age", "fail", "verify.table_missing", False),
                     ("night-3.dump.age", "pass", None, False)]
    found, (_, written) = answer["found"], nights[2]
    taken = written - timedelta(minutes=1)  # its manifest's time, older than the file's
    assert found["backup"] == "night-3.dump.age" and found["taken_at"] == taken.isoformat(timespec="seconds")
    at = datetime.fromisoformat(answer["at"])
    assert found["data_loss_seconds"] == pytest.approx((at - datetime.fromisoformat(found["taken_at"])).total_seconds(),
                                                       abs=1)
    assert 2 * 86400 < found["data_loss_seconds"] < 2 * 86400 + HOUR
    reports = site_reports(catalog)
    assert [json.loads(path.read_bytes())["backup"]["pick"] for path in reports] == ["named"] * 3
    for attempt, path in zip(answer["tried"], reports):  # each verdict linked to its signed report
        assert attempt["report"] == f"{SITE}/{path.name}"
        assert attempt["report_sha256"] == subprocess.run(["sha256sum", str(path)], capture_output=True,
                                                          text=True).stdout.split()[0]
    stored = Path(answer["file"])
    assert stored.parent == catalog.parent / "evidence" / ".recovery-points" / SITE
    assert json.loads(stored.read_bytes())["found"] == found
    public = keys.public_path(catalog.parent / "keys" / "signing.ed25519")
    assert subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(public), "-rawin",
                           "-in", str(stored), "-sigfile", f"{stored}.sig"], capture_output=True).returncode == 0
    chain = drill_command("verify-chain", SITE, "--catalog", str(catalog))
    assert chain.returncode == 0 and f".recovery-points/{SITE}: 1 report(s), chain intact" in chain.stdout


def test_a_backup_already_judged_is_not_drilled_again_unless_its_bytes_changed(five_nights):
    catalog, nights = five_nights
    assert restorable(catalog)[0] == 0
    drilled = len(site_reports(catalog))
    code, answer = restorable(catalog)  # verdicts known from signed reports of the same ciphertext
    assert code == 0 and answer["found"]["backup"] == "night-3.dump.age"
    assert [(t["reused"], t["reason"]) for t in answer["tried"]] == [
        (True, "decrypt.corrupt"),  # the bytes alone decide it: not drilled again
        (False, "verify.table_missing"),  # the manifest beside it decided: drilled again
        (True, None)]
    assert len(site_reports(catalog)) == drilled + 1
    assert answer["tried"][0]["drilled_at"] < answer["tried"][1]["drilled_at"]  # when each verdict was reached
    code, answer = restorable(catalog, "--max", "1")  # the newest does not restore
    assert code == 1 and answer["found"] is None and len(site_reports(catalog)) == drilled + 1
    code, answer = restorable(catalog, "--max", "1", "--again")
    assert code == 1 and answer["tried"][0]["reused"] is False and len(site_reports(catalog)) == drilled + 2
    folder = catalog.parent / "source"  # tonight's backup delivered again, whole, under the same name
    place(folder / "night-3.dump.age", folder, "night-5.dump.age", nights[0][1])
    code, answer = restorable(catalog)
    assert code == 0 and answer["found"]["backup"] == "night-5.dump.age"
    assert answer["tried"][0]["reused"] is False and answer["tried"][0]["outcome"] == "pass"
    listed = json.loads(drill_command("backups", SITE, "--json", "--catalog", str(catalog)).stdout)
    assert [row["name"] for row in listed] == [f"night-{n}.dump.age" for n in (5, 4, 3, 2, 1)]
    assert [row["last_verdict"] for row in listed] == ["pass", "fail", "pass", None, None]
    assert len(list((catalog.parent / "evidence" / ".recovery-points" / SITE).glob("*.json"))) == 5
    assert drill_command("verify-chain", SITE, "--catalog", str(catalog)).returncode == 0


def test_a_source_that_cannot_be_listed_stops_the_search_with_a_signed_answer_saying_why(five_nights):
    catalog, _ = five_nights
    shutil.rmtree(catalog.parent / "source")  # the share is not mounted
    done = drill_command("restorable", SITE, "--json", "--catalog", str(catalog))
    answer = json.loads(done.stdout)
    assert done.returncode == 2 and (answer["found"], answer["stopped_by"]) == (None, "error.source")
    assert "stopped by error.source (our side, not the backups)" in drill_command(
        "restorable", SITE, "--catalog", str(catalog)).stdout


def test_drill_run_backup_drills_that_backup_and_an_unknown_name_is_backup_missing(five_nights):
    catalog, _ = five_nights
    done = drill_command("run", SITE, "--backup", "night-2.dump.age", "--json", "--catalog", str(catalog))
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["backup"]["name"] == "night-2.dump.age" and report["backup"]["pick"] == "named"
    assert not [f for f in report["findings"] if f["check"] in ("backup.freshness", "data.freshness")]
    done = drill_command("run", SITE, "--backup", "../../etc/passwd", "--json", "--catalog", str(catalog))
    assert done.returncode == 1
    missing = json.loads(done.stdout)
    assert missing["reason"] == "backup.missing" and "night-5.dump.age" in missing["hint"]
    status = Fleet(load_catalog(catalog)).status(frozenset({SITE}), SITE)
    assert status.status == "never"  # drills of a named backup say nothing of the newest one


@pytest.fixture(scope="module")
def destroyed_at_source(tmp_path_factory, docker_engine, keys_dir):
    """Three nightly backups of a live pharmacy, each with a manifest consistent with its dump:
    a normal night; then 40% of its sales deleted at the source; then a column dropped."""
    root = tmp_path_factory.mktemp("destroyed")
    made = {}
    with SourceDatabase(patients=300, runtime=docker_engine) as source:
        made["normal"] = seal(source, keys_dir["recipient"], root / "normal" / "n.dump.age", SITE)
        source.execute("DELETE FROM public.ventes WHERE id % 5 IN (1, 2)")
        made["sales-deleted"] = seal(source, keys_dir["recipient"], root / "deleted" / "d.dump.age", SITE)
        source.execute("ALTER TABLE public.patients DROP COLUMN telephone")
        made["column-dropped"] = seal(source, keys_dir["recipient"], root / "dropped" / "c.dump.age", SITE)
    return made


@pytest.fixture
def nightly(tmp_path, keys_dir, destroyed_at_source, docker_engine):
    """night(backup, **site overrides) delivers that backup as tonight's (one night after the
    previous) and drills the site's newest backup as the scheduler does: its stored report."""
    folder, start = tmp_path / "source", datetime.now(timezone.utc) - timedelta(days=3)
    keys.init(tmp_path / "keys" / "signing.ed25519")
    delivered = []

    def night(backup: str, **overrides):
        delivered.append(backup)
        place(destroyed_at_source[backup], folder, f"night-{len(delivered)}.dump.age",
              start + timedelta(days=len(delivered) - 1))
        entry = site_entry(SITE, folder, keys_dir["dir"] / "drill.agekey", targets={"rto": "30m", "rpo": "30d"},
                           **overrides)
        catalog = load_catalog(write_catalog(tmp_path, [entry]))
        return catalog, run_drill(catalog, catalog.sites[0], runtime=docker_engine).report

    return night


def warnings(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["code"].startswith("history.")]


def test_sales_destroyed_at_the_source_between_two_nights_make_the_site_amber(nightly):
    _, first = nightly("normal")
    assert first["outcome"] == "pass" and warnings(first) == []
    assert first["tables"]["public.ventes"]["rows"] == 1200
    assert ["telephone", "text"] in first["tables"]["public.patients"]["columns"]
    catalog, second = nightly("sales-deleted")
    assert second["outcome"] == "pass"  # the manifest agrees with the dump: both of the damaged database
    (dropped,) = warnings(second)
    assert (dropped["code"], dropped["subject"], dropped["status"]) == ("history.rows_dropped", "public.ventes", "warn")
    assert (dropped["expected"], dropped["actual"]) == (1200, 720)
    assert "1,200 to 720 rows (-40%" in dropped["message"] and first["drill_id"] in dropped["message"]
    status = Fleet(catalog).status(frozenset({SITE}), SITE)
    assert (status.status, status.why) == (AMBER, "history.rows_dropped")
    baseline = index.read_baseline(catalog.evidence / SITE)
    assert baseline["drill_id"] == second["drill_id"] and baseline["tables"]["public.ventes"]["rows"] == 720
    _, third = nightly("column-dropped")
    (changed,) = warnings(third)
    assert (changed["code"], changed["subject"]) == ("history.schema_changed", "public.patients")
    assert "column telephone (text) vanished" in changed["message"]


@pytest.mark.parametrize("history_settings, verdict", [({}, ("pass", None)),
                                                      ({"fail": ["rows_dropped"]}, ("fail", "history.rows_dropped"))])
def test_the_finder_goes_back_past_a_backup_that_restores_but_lost_data(nightly, history_settings, verdict):
    nightly("normal", checks={"history": history_settings})
    catalog, second = nightly("sales-deleted", checks={"history": history_settings})
    assert (second["outcome"], second["reason"]) == verdict
    done = drill_command("restorable", SITE, "--json", "--catalog", str(catalog.path))
    answer = json.loads(done.stdout)
    assert done.returncode == 0 and answer["found"]["backup"] == "night-1.dump.age"
    assert [(t["backup"], t["reused"], t["attention"]) for t in answer["tried"]] == [
        ("night-2.dump.age", True, ["history.rows_dropped"]), ("night-1.dump.age", True, [])]
    again = drill_command("restorable", SITE, "--again", "--catalog", str(catalog.path))  # drilled by name anew,
    assert again.returncode == 0, again.stdout  # compared with nothing older: the loss its bytes showed still counts
    assert "night-2.dump.age restores, but data was destroyed before it: history.rows_dropped" in again.stdout
    assert "newest restorable backup: night-1.dump.age" in again.stdout


def test_a_hostile_table_name_in_a_restored_database_reaches_the_report_printable(tmp_path, keys_dir, docker_engine):
    """A name the backup chose (control characters, markdown) dropped between two nights: the
    finding names it, escape sequences replaced, through the real drill."""
    hostile = 'journal\x1b[2J](http://x.example)'
    quoted = '"' + hostile.replace('"', '""') + '"'
    made = {}
    with SourceDatabase(patients=300, runtime=docker_engine) as source:
        source.execute(f"CREATE TABLE public.{quoted} AS SELECT generate_series(1, 2000) AS id")
        made["with"] = seal(source, keys_dir["recipient"], tmp_path / "with" / "w.dump.age", SITE)
        source.execute(f"DROP TABLE public.{quoted}")
        made["without"] = seal(source, keys_dir["recipient"], tmp_path / "without" / "o.dump.age", SITE)
    folder, start = tmp_path / "source", datetime.now(timezone.utc) - timedelta(days=2)
    keys.init(tmp_path / "keys" / "signing.ed25519")
    catalog = load_catalog(write_catalog(tmp_path, [site_entry(SITE, folder, keys_dir["dir"] / "drill.agekey",
                                                               targets={"rto": "30m", "rpo": "30d"})]))
    for night, name in enumerate(("with", "without")):
        place(made[name], folder, f"night-{night + 1}.dump.age", start + timedelta(days=night))
        report = run_drill(catalog, catalog.sites[0], runtime=docker_engine).report
    dropped = [f for f in warnings(report) if f["code"] == "history.rows_dropped"]
    assert [f["subject"] for f in dropped] == ["public.journal?[2J](http://x.example)"]
    assert "\x1b" not in dropped[0]["message"] and "2,000 to 0 rows (-100%" in dropped[0]["message"]
