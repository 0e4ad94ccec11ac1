"""The figures of a compliance report, computed from hand-made summaries: what counts as routine,
how red periods are clipped to the month, what the newest restorable point is."""

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from drills.compliance.figures import period_of, site_figures, totals
from drills.errors import ConfigError
from drills import reasons

SITE = SimpleNamespace(id="pharmacie-du-port", name="Pharmacie du Port", targets=SimpleNamespace(rto=600, rpo=86400))
NOW = datetime(2026, 12, 15, tzinfo=timezone.utc)
NOVEMBER = period_of("2026-11", NOW)


def drill(sequence, day, outcome="pass", hour=2, month=11, rto=300.0, age=3600, **fields):
    started = datetime(2026, month, day, hour, tzinfo=timezone.utc)
    return {"sequence": sequence, "file": f"{sequence:06d}-d{sequence}.json", "drill_id": f"d{sequence}",
            "outcome": outcome, "started_at": started.isoformat(), "rto_seconds": rto if outcome == "pass" else None,
            "rto_target": 600, "rpo_target": 86400, "backup_name": f"b{sequence}",
            "backup_taken_at": (started - timedelta(seconds=age)).isoformat(), "backup_age_seconds": age, **fields}


def figures(*summaries, period=NOVEMBER, **options):
    return site_figures(SITE, list(summaries), period, **options)


def test_the_success_rate_counts_routine_passes_and_fails_and_keeps_errors_apart():
    found = figures(drill(1, 1), drill(2, 2, "fail"), drill(3, 3), drill(4, 4, "error"), drill(5, 5))
    assert found["passed"] == ["d1", "d3", "d5"] and found["failed"] == ["d2"] and found["errors"] == ["d4"]
    assert found["success_rate"] == 0.75 and found["drills"] == 5


def test_a_backup_that_restores_but_lost_data_is_never_the_newest_restorable_point():
    """The compliance report, the finder and the alerts name the same point (drills.finder)."""
    found = figures(drill(1, 1), drill(2, 2, attention=["history.rows_dropped"]))
    assert found["passed"] == ["d1", "d2"] and found["newest_restorable_point"]["drill_id"] == "d1"


def test_a_drill_of_a_chosen_backup_is_not_routine_but_may_be_the_newest_restorable_point():
    found = figures(drill(1, 1), drill(2, 2, "fail", chosen=True), drill(3, 3), drill(4, 4, chosen=True))
    assert found["passed"] == ["d1", "d3"] and found["failed"] == [] and found["chosen"] == ["d2", "d4"]
    assert found["red_periods"] == [] and found["success_rate"] == 1.0
    assert found["newest_restorable_point"]["drill_id"] == "d4"  # its backup is the newest restored


def test_a_red_period_begun_last_month_is_clipped_to_the_first_of_the_month():
    found = figures(drill(1, 30, "fail", month=10), drill(2, 2))
    assert found["red_periods"] == [{"from_drill": "d1", "from": "2026-11-01T00:00:00+00:00",
                                     "began_before_period": True, "until_drill": "d2",
                                     "until": "2026-11-02T02:00:00+00:00", "still_red": False, "seconds": 93600.0}]
    assert [report["drill_id"] for report in found["reports"]] == ["d1", "d2"]  # the red period's reports cited


def test_a_site_still_red_at_the_month_end_is_red_until_the_end_and_an_error_does_not_end_it():
    found = figures(drill(1, 29, "fail"), drill(2, 30, "error"), drill(3, 1, month=12))
    assert found["red_periods"][-1]["still_red"] and found["red_periods"][-1]["until"] == "2026-12-01T00:00:00+00:00"
    assert found["red_seconds"] == 46 * 3600
    assert totals([found])["sites_red_at_period_end"] == ["pharmacie-du-port"]


def test_a_red_period_of_the_current_month_ends_now():
    period = period_of("2026-12", NOW)
    found = figures(drill(1, 14, "fail", month=12), period=period)
    assert not period.complete and found["red_periods"][0]["seconds"] == 22 * 3600


def test_two_fails_in_a_row_open_one_red_period_from_the_first():
    found = figures(drill(1, 3, "fail"), drill(2, 4, "fail"), drill(3, 5))
    assert [(r["from_drill"], r["until_drill"], r["seconds"]) for r in found["red_periods"]] == [("d1", "d3", 172800)]


def test_an_empty_month_has_no_rate_and_the_newest_restorable_point_comes_from_before():
    found = figures(drill(1, 20, month=10), drill(2, 5, month=12))
    assert found["drills"] == 0 and found["success_rate"] is None and found["rto"]["mean_seconds"] is None
    assert found["newest_restorable_point"]["drill_id"] == "d1"  # not d2: after the period
    assert totals([found])["sites_without_routine_drill"] == ["pharmacie-du-port"]


def test_rto_and_rpo_over_their_targets_are_counted_and_named():
    found = figures(drill(1, 1, rto=200), drill(2, 2, rto=900), drill(3, 3, "fail", age=90000), drill(4, 4, rto=700))
    assert found["rto"] == {"measured": 3, "mean_seconds": 600.0, "max_seconds": 900, "over_target": ["d2", "d4"]}
    assert found["rpo"] == {"measured": 4, "max_seconds": 90000, "over_target": ["d3"]}


def test_reports_that_do_not_verify_are_left_out_and_named():
    found = figures(drill(1, 1), drill(2, 2, "fail"), excluded=frozenset({2}))
    assert found["failed"] == [] and found["unverified"] == ["d2"] and found["success_rate"] == 1.0


def test_the_tenant_totals_sum_its_sites():
    first, second = figures(drill(1, 1), drill(2, 2, "fail")), figures(drill(1, 1), drill(2, 2))
    assert totals([first, second])["success_rate"] == 0.75 and totals([first, second])["drills"] == 4


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "novembre", "", "2027-01"])
def test_a_month_badly_written_or_not_begun_is_a_usage_error(month):
    with pytest.raises(ConfigError) as raised:
        period_of(month, NOW)
    assert raised.value.code == reasons.CONFIG_USAGE


def test_december_ends_on_the_first_of_january():
    assert period_of("2025-12", NOW).end == datetime(2026, 1, 1, tzinfo=timezone.utc)
