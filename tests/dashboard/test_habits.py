"""Habits of a finished product: a stale backup that still restores reads as "needs attention",
in words, on every page; no list speaks English on a French page."""

from datetime import datetime, timedelta, timezone

import pytest

from drills import reasons
from drills.catalog import load_catalog
from drills.demo.history import synthetic_report
from drills.reports import keys
from drills.reports.evidence import EvidenceStore
from tests.dashboard.test_pages import app_as, everything_shown, page

STALE_SITE = "pharmacie-de-la-gare"
STALE_WORDS = "Sauvegarde trop ancienne, mais restaurable"


@pytest.fixture
def stale_but_restored(fleet_files):
    """Pharmacie de la Gare's newest drill restored and verified its backup, three days old
    (RPO 26 h): it failed on freshness alone, as the pipeline reports it."""
    catalog = load_catalog(fleet_files[0])
    site = next(site for site in catalog.sites if site.id == STALE_SITE)
    started = datetime.now(timezone.utc) - timedelta(hours=1)
    report = synthetic_report(site, started, "fail", 95.0, reasons.BACKUP_STALE,
                              "the newest backup is 72.0 h old, the RPO target is 26.0 h")
    taken = started - timedelta(hours=72)
    report["rto_seconds"] = 95.0
    report["backup"] |= {"taken_at": taken.isoformat(timespec="seconds"), "modified": taken.isoformat(timespec="seconds"),
                         "age_seconds": 72 * 3600}
    private = keys.load_private(fleet_files[0].parent / "keys" / "signing.ed25519")
    EvidenceStore(catalog.evidence).append(STALE_SITE, report, private)
    return fleet_files


def test_a_stale_but_restorable_site_needs_attention_on_the_fleet_board(stale_but_restored):
    at = app_as("ops")
    assert not at.exception
    (row,) = [row for _, row in at.dataframe[0].value.iterrows() if row["site"] == "Pharmacie de la Gare"]
    assert row["status"] == "⚠️ À surveiller"
    assert row["reason"].startswith(STALE_WORDS) and "backup.stale" in row["reason"]
    assert "1 rouge(s)" in everything_shown(at)  # des Halles alone: its backup does not restore


def test_a_stale_but_restorable_site_page_says_why_in_words(stale_but_restored):
    at = page(app_as("ops"), "views/site.py", site=STALE_SITE)
    assert not at.exception
    shown = everything_shown(at)
    assert "⚠️ À surveiller" in shown and STALE_WORDS in shown and "NON restaurable" not in shown


def test_a_stale_but_restorable_site_tells_the_pharmacist_their_backup_restores_but_has_stopped(stale_but_restored):
    at = page(app_as("ops"), "views/status.py", site=STALE_SITE)
    assert not at.exception
    shown = everything_shown(at)
    assert "⚠️ À surveiller" in shown and "NON restaurable" not in shown
    assert "se restaure, mais elle a 3 jours" in shown and "la sauvegarde automatique semble arrêtée" in shown
    assert "Appelez Infogest, 01 23 45 67 89" in shown


@pytest.mark.parametrize("view, query", [("views/fleet.py", {}), ("views/site.py", {"site": "pharmacie-des-halles"}),
                                         ("views/status.py", {})])
def test_no_list_on_a_french_page_shows_streamlits_english_placeholder(fleet_files, view, query):
    at = page(app_as("ops"), view, **query)
    assert not at.exception
    lists = [*at.multiselect, *at.selectbox]
    assert lists, "the page has lists to check"
    assert {box.placeholder for box in lists} == {"Choisir…"}


@pytest.fixture
def pending_drills(redis_client, monkeypatch):
    """The workers' pending drills, in a real Redis the dashboard reads."""
    from workers import broker

    monkeypatch.setattr(broker, "redis_client", lambda: redis_client)
    return redis_client


def test_a_page_refreshes_itself_only_while_a_drill_of_a_site_it_shows_is_queued_or_running(fleet_files,
                                                                                            pending_drills):
    from workers import pending

    refreshing = "la page se met à jour toute seule"
    assert refreshing not in everything_shown(page(app_as("ops"), "views/site.py", site="pharmacie-des-halles"))
    pending.record(pending_drills, "cabinet-lyon", "drill-of-another-tenant", datetime.now(timezone.utc))
    assert refreshing not in everything_shown(app_as("ops")), "not a site the page shows"
    pending.record(pending_drills, "pharmacie-des-halles", "drill-1", datetime.now(timezone.utc))
    for at in (app_as("ops"), page(app_as("ops"), "views/site.py", site="pharmacie-des-halles"),
               page(app_as("ops"), "views/status.py", site="pharmacie-des-halles")):
        assert not at.exception and refreshing in everything_shown(at)
    assert refreshing not in everything_shown(page(app_as("ops"), "views/site.py", site="pharmacie-du-port"))
    pending.conclude(pending_drills, "drill-1")
    assert refreshing not in everything_shown(app_as("ops"))
