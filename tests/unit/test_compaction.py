"""The compacted index: a Parquet snapshot plus each site's newer lines, each drill once; and
the per-site indexes rebuilt from the signed reports."""

import json
from datetime import datetime, timedelta, timezone

import pytest

from drills.catalog import load_catalog
from drills.demo.history import write_history
from drills.reports import compaction, index, keys
from tests.helpers import drill_command, site_entry, write_catalog

NOW = datetime.now(timezone.utc)


@pytest.fixture
def fleet(tmp_path):
    path = write_catalog(tmp_path, [site_entry(f"site-{n}", tmp_path, tmp_path / "k") for n in range(3)])
    keys.init(tmp_path / "keys" / "signing.ed25519")
    private = keys.load_private(tmp_path / "keys" / "signing.ed25519")
    catalog = load_catalog(path)
    for number, site in enumerate(catalog.sites):
        write_history(catalog.evidence, site, private, days=10 * (number + 1), end=NOW - timedelta(hours=1),
                      last_outcome="fail" if number == 2 else "pass")
    return catalog


def counts(root) -> dict[str, int]:
    with compaction.connect(root) as connection:
        return dict(connection.execute("SELECT site, count(*) FROM summaries GROUP BY 1 ORDER BY 1").fetchall())


def test_without_a_snapshot_every_index_is_read(fleet):
    assert counts(fleet.evidence) == {"site-0": 10, "site-1": 20, "site-2": 30}


def test_the_snapshot_plus_lines_written_since_counts_each_drill_once(fleet):
    assert compaction.compact(fleet.evidence) == 60
    site_index = fleet.evidence / "site-1" / index.INDEX_NAME
    newest = json.loads(site_index.read_text().splitlines()[-1])
    newer = {**newest, "sequence": 21, "outcome": "error", "reason": "error.runtime"}
    index.append_line(site_index, json.dumps(newer) + "\n" + json.dumps(newer) + "\n")  # written twice
    index.append_line(site_index, json.dumps(newest) + "\n")  # an old line again
    assert counts(fleet.evidence) == {"site-0": 10, "site-1": 21, "site-2": 30}
    with compaction.connect(fleet.evidence) as connection:
        assert connection.execute("SELECT reason FROM summaries WHERE site = 'site-1' AND sequence = 21").fetchall() \
            == [("error.runtime",)]


def test_a_damaged_index_is_rebuilt_from_the_signed_reports(fleet):
    site_index = fleet.evidence / "site-2" / index.INDEX_NAME
    original = index.read_all(site_index.parent)
    site_index.write_text('{"sequence": 1, "outcome": "pa')
    assert compaction.rebuild_site_index(site_index.parent) == 30
    assert index.read_all(site_index.parent) == original


def test_history_all_filters_by_outcome_and_age_across_sites(fleet):
    catalog = str(fleet.path)
    assert drill_command("index", "--catalog", catalog).returncode == 0
    result = drill_command("history", "--all", "--outcome", "fail", "--since", "2d", "--json", "--catalog", catalog)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert rows and {row["site"] for row in rows} == {"site-2"} and {row["outcome"] for row in rows} == {"FAIL"}
    refused = drill_command("history", "--all", "--since", "yesterday", "--catalog", catalog)
    assert refused.returncode == 3 and "--since" in refused.stderr


def test_an_unreadable_report_is_rebuilt_listed_and_checked_as_unreadable_without_a_crash(fleet):
    site_dir, catalog = fleet.evidence / "site-0", str(fleet.path)
    (site_dir / f"000011-{NOW:%Y%m%dT%H%M%SZ}-1a2b3c4d.json").write_bytes(b"")  # a write cut short, as it is left
    rebuilt = drill_command("index", "--rebuild", "--catalog", catalog)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert [entry["outcome"] for entry in index.read_all(site_dir)][-2:] == ["pass", "unreadable"]
    history = drill_command("history", "site-0", "--json", "--catalog", catalog)
    assert history.returncode == 0, history.stderr
    assert [row["outcome"] for row in json.loads(history.stdout)][-2:] == ["PASS", "UNREADABLE"]
    fleet_wide = drill_command("history", "--all", "--since", "2d", "--json", "--catalog", catalog)
    assert fleet_wide.returncode == 0, fleet_wide.stderr
    assert [(row["site"], row["outcome"], row["reason"]) for row in json.loads(fleet_wide.stdout)
            if row["outcome"] == "UNREADABLE"] == [("site-0", "UNREADABLE", "report.unreadable")]
    checked = drill_command("verify-chain", "site-0", "--json", "--catalog", catalog)
    assert checked.returncode == 1
    assert [problem["code"] for problem in json.loads(checked.stdout)["site-0"]["problems"]] == ["report.unreadable"]
