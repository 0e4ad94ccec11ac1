"""The history checks' own logic (drills.checks.history), the baseline the index keeps for them,
and what a site's status makes of their warnings. Real drills: tests/integration/test_recovery_points.py."""

import json
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from drills.catalog.model import HistoryChecks
from drills.checks import history
from drills.fleet import AMBER, GREEN, NEVER, RED, status_of
from drills.reports import index
from drills.redaction import printable
from drills.sources import named
from drills.errors import BackupProblem

TAKEN = datetime(2026, 11, 30, 2, tzinfo=timezone.utc)


def table(rows: int, *columns: tuple[str, str]) -> dict:
    return {"rows": rows, "columns": [list(column) for column in columns or [("id", "integer")]]}


def baseline(tables: dict, taken: datetime = TAKEN - timedelta(days=1)) -> dict:
    return {"drill_id": "20261129T020000Z-0000000a", "file": "000001-x.json",
            "backup_taken_at": taken.isoformat(), "tables": tables}


def found(tables: dict, before: dict | None, rtos=(), rto=10.0, settings=HistoryChecks(), taken=TAKEN):
    return history.findings(settings, history.Past(before, list(rtos)), tables, taken, rto)


def test_a_table_losing_more_than_max_drop_is_named_with_both_counts():
    (dropped,) = found({"public.ventes": table(720), "public.patients": table(300)},
                       baseline({"public.ventes": table(1200), "public.patients": table(300)}))
    assert (dropped.code, dropped.subject, dropped.status) == ("history.rows_dropped", "public.ventes", "warn")
    assert (dropped.expected, dropped.actual) == (1200, 720) and "-40%" in dropped.message


@pytest.mark.parametrize("was, now, settings, flagged", [
    (1000, 800, HistoryChecks(), False),  # exactly 20%: not more than max_drop
    (1000, 799, HistoryChecks(), True),
    (999, 0, HistoryChecks(), False),  # under min_rows: small tables swing widely
    (200, 100, HistoryChecks(min_rows=100), True),
    (5000, 4000, HistoryChecks(max_drop=10), True),
    (1000, 5000, HistoryChecks(), False),  # growth is never a loss
])
def test_rows_dropped_follows_max_drop_and_min_rows(was, now, settings, flagged):
    assert bool(found({"t": table(now)}, baseline({"t": table(was)}), settings=settings)) == flagged


def test_a_backup_not_taken_after_the_baseline_is_not_compared():
    before = baseline({"t": table(5000)}, taken=TAKEN)  # the same backup drilled again
    assert found({"t": table(10)}, before) == []
    older = baseline({"t": table(5000)}, taken=TAKEN + timedelta(days=1))  # the finder drilling back in time
    assert found({"t": table(10)}, older) == []


def test_tables_and_columns_that_appear_vanish_or_change_type_are_each_named():
    before = baseline({"a": table(1, ("id", "integer"), ("telephone", "text"), ("prix", "numeric")),
                       "gone": table(1)})
    now = {"a": table(1, ("id", "integer"), ("prix", "text"), ("email", "text")), "new": table(1)}
    changes = {f.subject: f.message for f in found(now, before)}
    assert set(changes) == {"a", "gone", "new"}
    assert "column telephone (text) vanished" in changes["a"] and "column email (text) appeared" in changes["a"]
    assert "column prix changed type from numeric to text" in changes["a"]
    assert "the table vanished" in changes["gone"] and "the table appeared" in changes["new"]


def test_a_table_whose_columns_were_not_read_is_compared_by_presence_only():
    assert found({"a": {"rows": 5, "columns": []}}, baseline({"a": table(5, ("id", "integer"))})) == []


def test_an_rto_regression_needs_five_drills_three_deviations_and_a_minute_above_the_mean():
    steady = [600.0, 610.0, 590.0, 605.0, 595.0]
    (slow,) = found({}, None, rtos=steady, rto=700.0)
    assert slow.code == "history.rto_regression" and slow.actual == 700.0 and "600.0 s on average" in slow.message
    assert found({}, None, rtos=steady[:4], rto=7000.0) == []  # four drills are no history
    assert found({}, None, rtos=steady, rto=640.0) == []  # within 3 deviations and a minute
    assert found({}, None, rtos=[5.0] * 10, rto=30.0) == []  # six times slower, but by seconds: noise


def test_a_check_the_site_lists_in_fail_fails_the_drill():
    settings = HistoryChecks(fail=("rows_dropped",))
    (dropped,) = found({"t": table(1)}, baseline({"t": table(5000)}), settings=settings)
    assert (dropped.status, dropped.code) == ("fail", "history.rows_dropped")


def report(sequence: int, outcome: str, taken: str, tables=None) -> dict:
    return {"drill_id": f"d{sequence}", "outcome": outcome, "backup": {"taken_at": taken}, "tables": tables}


def test_the_baseline_is_the_last_passing_drill_whose_tables_were_read(tmp_path):
    path = tmp_path / "000001-d.json"
    index.advance_baseline(tmp_path, [(path, report(1, "pass", "2026-11-29T02:00:00+00:00", {"t": table(9)})),
                                      (path, report(2, "fail", "2026-11-30T02:00:00+00:00", {"t": table(1)})),
                                      (path, report(3, "pass", "2026-11-30T02:00:00+00:00", None))])
    assert index.read_baseline(tmp_path)["drill_id"] == "d1"
    (tmp_path / index.BASELINE_NAME).write_text("not json")
    assert index.read_baseline(tmp_path) is None  # derived data: damaged, it is rebuilt, never trusted
    (tmp_path / index.BASELINE_NAME).write_text(json.dumps({"tables": []}))
    assert index.read_baseline(tmp_path) is None


def summary(outcome: str, attention=(), chosen=False, hours_ago=1) -> dict:
    started = datetime.now(timezone.utc) - timedelta(hours=hours_ago)
    return {"outcome": outcome, "reason": None if outcome == "pass" else "restore.failed", "rto_seconds": 10,
            "started_at": started.isoformat(), "backup_taken_at": started.isoformat(), "attention": list(attention),
            "chosen": chosen, "contents_verified": True}


SITE = SimpleNamespace(id="s", name="S", tenant="t", targets=SimpleNamespace(rto=100, rpo=3600))


def test_a_history_warning_makes_a_passing_site_amber_and_a_chosen_backup_judges_nothing():
    now = datetime.now(timezone.utc)
    amber = status_of(SITE, [summary("pass"), summary("pass", ["history.rows_dropped"])], now)
    assert (amber.status, amber.why) == (AMBER, "history.rows_dropped")
    assert status_of(SITE, [summary("fail"), summary("pass", chosen=True)], now).status == RED
    assert status_of(SITE, [summary("pass"), summary("fail", chosen=True)], now).status == GREEN
    assert status_of(SITE, [summary("fail", chosen=True)], now).status == NEVER


def test_a_backup_name_is_matched_against_the_listing_and_shown_printable():
    listing = [SimpleNamespace(name=name) for name in ("b.age", "a.age")]
    assert named(listing, "a.age") is listing[1]
    with pytest.raises(BackupProblem) as missing:
        named(listing, "a.age\x1b[2J" + "x" * 500)
    assert missing.value.code == "backup.missing" and "\x1b" not in missing.value.message
    assert len(missing.value.message) < 300 and "b.age, a.age" in missing.value.hint
    with pytest.raises(BackupProblem):
        named(listing + [SimpleNamespace(name="a.age")], "a.age")  # two keys ending alike: which one?
    assert printable("x\ny\u202e") == "x?y?"


def test_the_catalog_takes_a_percentage_and_names_a_wrong_one(tmp_path):
    from drills.catalog import load_catalog
    from drills.errors import ConfigError
    from tests.helpers import site_entry, write_catalog

    def catalog(history_settings):
        entry = site_entry("s", tmp_path, tmp_path / "id", checks={"history": history_settings})
        return load_catalog(write_catalog(tmp_path, [entry]))

    assert catalog({"max_drop": "35%", "fail": ["schema_changed"]}).sites[0].checks.history == \
        HistoryChecks(max_drop=35, min_rows=1000, fail=("schema_changed",))
    assert catalog({}).sites[0].checks.history == HistoryChecks()
    with pytest.raises(ConfigError) as wrong:
        catalog({"max_drop": "150%", "fail": ["rows_deleted"]})
    assert "a percentage from 1% to 100%" in str(wrong.value) and "'rows_deleted' is not one of" in str(wrong.value)


def test_a_large_table_that_vanished_counts_as_rows_dropped_and_many_changes_make_few_findings():
    before = baseline({"public.ventes": table(5000), **{f"t{n:03d}": table(1) for n in range(100)}})
    found_now = found({}, before)
    dropped = [f for f in found_now if f.code == "history.rows_dropped"]
    assert [(f.subject, f.actual) for f in dropped] == [("public.ventes", 0)] and "vanished" in dropped[0].message
    changed = [f for f in found_now if f.code == "history.schema_changed"]
    assert len(changed) == history.MAX_NAMED and changed[-1].subject == "82 more tables"


def test_names_read_from_a_restored_database_reach_messages_printable():
    hostile = "t\x1b[2J\u202e"
    (dropped,) = found({hostile: table(1)}, baseline({hostile: table(5000)}))
    assert "\x1b" not in dropped.message + dropped.subject and "\u202e" not in dropped.message


def test_the_finder_takes_a_backup_for_whole_only_if_no_drill_of_its_bytes_found_a_loss():
    from drills import finder
    from drills.reports.index import restored

    assert restored({"outcome": "fail", "reason": "history.rows_dropped"}) and not restored({"outcome": "error"})
    summaries = [{"backup_name": "n2", "backup_sha256": "a", "outcome": "pass", "attention": ["history.rows_dropped"]},
                 {"backup_name": "n2", "backup_sha256": "b", "outcome": "pass", "attention": []}]
    assert finder.losses_seen(summaries, "n2", "a") == {"history.rows_dropped"}
    assert finder.losses_seen(summaries, "n2", "b") == set() and finder.losses_seen(summaries, "n2", None) == set()
    backup = SimpleNamespace(name="n2", size=1, modified=TAKEN)
    lossy = finder.Tried(backup, "pass", None, "d", None, True, "a", None, attention=("history.rows_dropped",))
    refused = finder.Tried(backup, "fail", "history.schema_changed", "d", None, True, "a", None)
    assert not lossy.whole and not refused.whole
    assert finder.Tried(backup, "pass", None, "d", None, True, "a", None, attention=("rto.target",)).whole


def test_the_newest_restorable_backup_an_alert_names_is_never_the_bytes_that_just_failed():
    from drills.finder import newest_restorable

    older = {"outcome": "pass", "backup_name": "n1", "backup_sha256": "x", "backup_taken_at": "2026-11-29T02:00:00+00:00"}
    same = {"outcome": "pass", "backup_name": "n2", "backup_sha256": "old", "backup_taken_at": "2026-11-30T02:00:00+00:00"}
    lossy = {**same, "backup_name": "n3", "attention": ["history.rows_dropped"],
             "backup_taken_at": "2026-12-01T02:00:00+00:00"}
    failing = {"backup": {"name": "n2", "sha256": "new"}}
    assert newest_restorable([older, same, lossy], failing) == older
    assert newest_restorable([older, same, lossy], {"backup": {"name": "n2", "sha256": "old"}}) == same
