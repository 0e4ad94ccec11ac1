"""Every page for every role, through Streamlit's AppTest: the right rows, the right words,
no exception; and the access rules, which hold on the server side."""

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.session import USER_KEY
from drills.audit import AuditJournal
from drills.catalog import load_catalog
from tests.dashboard.conftest import PASSWORD

VIEWS = Path(__file__).parents[2] / "dashboard" / "views"
APP = str(VIEWS.parent / "app.py")


def app_as(user: str | None = None, **query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if user:
        at.session_state[USER_KEY] = user
    at.query_params.update(query)
    return at.run()


def page(at: AppTest, path: str, **query) -> AppTest:
    at.query_params.clear()
    at.query_params.update(query)
    return at.switch_page(str(VIEWS / path.removeprefix("views/"))).run()


def everything_shown(at: AppTest) -> str:
    parts = [element.value for kind in ("markdown", "caption", "info", "warning", "error", "success", "title",
                                        "subheader") for element in getattr(at, kind)]
    parts += [str(metric.value) + str(metric.label) for metric in at.metric]
    parts += [frame.value.to_csv() for frame in at.dataframe]
    return "\n".join(map(str, parts))


def journal(fleet_files) -> list[dict]:
    return AuditJournal(load_catalog(fleet_files[0]).evidence).newest()


def test_nobody_gets_past_the_sign_in(fleet_files):
    at = app_as(None, site="pharmacie-du-port")
    assert not at.exception
    shown = everything_shown(at)
    assert "Connexion" in shown and "Pharmacie du Port" not in shown


def test_a_wrong_password_is_refused_and_journaled(fleet_files):
    at = app_as(None)
    at.text_input[0].input("marie")
    at.text_input[1].input("not the password")
    at.button[0].click().run()
    assert "Identifiant ou mot de passe incorrect." in [error.value for error in at.error]
    assert USER_KEY not in at.session_state
    event = journal(fleet_files)[0]
    assert (event["event"], event["user"]) == ("login.refused", "marie")
    assert PASSWORD not in json.dumps(journal(fleet_files)) and "not the password" not in json.dumps(journal(fleet_files))


def test_the_right_password_signs_in_to_the_french_status_page(fleet_files):
    at = app_as(None)
    at.text_input[0].input("marie")
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception
    assert at.session_state[USER_KEY] == "marie"
    shown = everything_shown(at)
    assert "✅ Restaurable" in shown and "a été restaurée et vérifiée avec succès" in shown
    assert journal(fleet_files)[-1]["event"] == "login.succeeded" or \
        any(e["event"] == "login.succeeded" for e in journal(fleet_files))


def test_a_red_site_says_what_it_means_and_whom_to_call_in_french_and_english(fleet_files):
    at = app_as("paul")
    shown = everything_shown(at)
    assert "❌ NON restaurable" in shown and "n'a PAS pu être restaurée" in shown
    assert "Appelez Infogest, 01 23 45 67 89" in shown
    at.sidebar.radio[0].set_value("en").run()
    shown = everything_shown(at)
    assert "❌ NOT restorable" in shown and "could NOT be restored" in shown


def test_a_viewer_never_sees_another_site_by_query_parameter_or_widget_state(fleet_files):
    at = app_as("marie", site="pharmacie-des-halles")
    shown = everything_shown(at)
    assert "Pharmacie du Port" in shown and "Halles" not in shown and "NON restaurable" not in shown
    assert not at.selectbox, "one site: nothing to choose"
    denied = [e for e in journal(fleet_files) if e["event"] == "access.denied"]
    assert denied and denied[0]["site"] == "pharmacie-des-halles" and denied[0]["user"] == "marie"
    at.session_state["site"] = "pharmacie-des-halles"  # a forged widget state changes nothing
    assert "Halles" not in everything_shown(at.run())


def test_a_viewer_cannot_open_operator_pages(fleet_files):
    with pytest.raises(ValueError, match="Known pages: .*status.py'\\]"):
        page(app_as("marie"), str(VIEWS / "fleet.py"))  # not even registered for a viewer
    for name in ("fleet.py", "site.py", "drill.py", "audit.py"):  # and each page refuses on its own
        at = AppTest.from_file(str(VIEWS / name), default_timeout=60)
        at.session_state[USER_KEY] = "marie"
        at.query_params.update(site="pharmacie-des-halles", drill="1")
        at.run()
        assert not at.exception
        assert "Halles" not in everything_shown(at) and not at.dataframe, name
        assert "Rien à afficher ici." in everything_shown(at), name


def test_the_operator_fleet_board_lists_its_tenant_only_red_and_never_first(fleet_files):
    at = app_as("ops")
    assert not at.exception
    (board,) = at.dataframe
    rows = board.value
    assert list(rows["site"]) == ["Pharmacie des Halles", "Pharmacie de la Gare", "Pharmacie du Port"]
    assert list(rows["status"]) == ["❌ NON restaurable", "⚪ Jamais vérifié", "✅ Restaurable"]
    assert "Cabinet Lyon Centre" not in everything_shown(at)
    at.multiselect[0].set_value(["green"]).run()
    assert list(at.dataframe[0].value["site"]) == ["Pharmacie du Port"]


def test_the_admin_sees_every_tenant_and_the_audit_journal(fleet_files):
    at = app_as("boss")
    assert "Cabinet Lyon Centre" in list(at.dataframe[0].value["site"])
    at = page(at, "views/audit.py")
    assert not at.exception
    assert "Chaînage du journal intact." in everything_shown(at)


def test_the_site_page_has_its_charts_failures_and_a_journaled_download(fleet_files):
    at = page(app_as("ops"), "views/site.py", site="pharmacie-des-halles")
    assert not at.exception
    assert "Pharmacie des Halles" in everything_shown(at)
    charts = [chart.proto.spec for chart in at.get("vega_lite_chart")]
    assert len(charts) == 3 and '"rule"' in charts[0] and '"target"' in charts[0], \
        "the RTO chart draws its target as a line"
    failures = at.dataframe[0].value
    assert len(failures) >= 1 and failures.iloc[0]["outcome"] == "fail"
    assert any(e["event"] == "site.viewed" and e["site"] == "pharmacie-des-halles" for e in journal(fleet_files))


def test_an_operator_cannot_open_a_site_of_another_tenant(fleet_files):
    at = page(app_as("ops"), "views/site.py", site="cabinet-lyon")
    assert "Cabinet Lyon" not in everything_shown(at)
    at = page(at, "views/drill.py", site="cabinet-lyon", drill="1")
    assert "Cabinet Lyon" not in everything_shown(at) and "Rien à afficher ici." in everything_shown(at)


def test_the_drill_page_shows_every_finding_the_hint_and_the_signature(fleet_files):
    at = page(app_as("ops"), "views/drill.py", site="pharmacie-des-halles", drill="40")
    assert not at.exception
    shown = everything_shown(at)
    assert "FAIL" in shown and "signature valid" in shown
    assert len(at.dataframe[1].value) == 1  # its one finding
    assert any(e["event"] == "report.viewed" and e["sequence"] == 40 for e in journal(fleet_files))


def download_labels(at: AppTest) -> list[str]:
    return [button.proto.label for button in at.get("download_button")]


def test_a_viewer_downloads_the_certificate_of_their_last_proven_restore(fleet_files):
    at = app_as("marie")
    assert "Télécharger le certificat de restauration (PDF)" in download_labels(at)


def test_a_failed_drill_offers_its_report_but_no_certificate(fleet_files):
    at = page(app_as("ops"), "views/drill.py", site="pharmacie-des-halles", drill="40")
    assert download_labels(at) == ["Télécharger le rapport signé", "Télécharger sa signature (.sig)"]
    at = page(at, "views/drill.py", site="pharmacie-du-port", drill="40")
    assert download_labels(at) == ["Télécharger le rapport signé", "Télécharger sa signature (.sig)",
                                   "Télécharger le certificat de restauration (PDF)"]


def test_a_certificate_is_read_within_the_users_scope_only(fleet_files):
    from drills.access import load_users
    from drills.fleet import Fleet, NotVisible

    catalog = load_catalog(fleet_files[0])
    marie = load_users(fleet_files[1])["marie"]
    fleet = Fleet(catalog)
    name, pdf = fleet.certificate(frozenset(marie.scope(catalog)), "pharmacie-du-port", 40, "fr")
    assert name.endswith(".fr.pdf") and pdf.startswith(b"%PDF-")
    with pytest.raises(NotVisible):
        fleet.certificate(frozenset(marie.scope(catalog)), "pharmacie-des-halles", 40, "fr")


def test_an_operator_downloads_the_compliance_report_of_its_tenant(fleet_files):
    at = app_as("ops")
    assert not at.exception
    assert "Télécharger le rapport de conformité (PDF)" not in download_labels(at)  # made when asked, not per rerun
    at = next(b for b in at.button if b.label == "Préparer le rapport de conformité").click().run()
    assert not at.exception
    assert "Télécharger le rapport de conformité (PDF)" in download_labels(at)


def test_a_compliance_report_is_made_only_for_a_tenant_wholly_in_the_users_scope(fleet_files):
    from drills.access import load_users
    from drills.fleet import Fleet, NotVisible

    catalog = load_catalog(fleet_files[0])
    users = load_users(fleet_files[1])
    fleet = Fleet(catalog)
    ops_scope = frozenset(users["ops"].scope(catalog))
    (tenant,) = fleet.tenants(ops_scope)
    name, pdf = fleet.compliance(ops_scope, tenant, "2026-11", "en")
    assert name.endswith(".en.pdf") and pdf.startswith(b"%PDF-")
    for user, asked in (("ops", "nobody"), ("marie", tenant)):  # marie sees one site of it, not all
        with pytest.raises(NotVisible):
            fleet.compliance(frozenset(users[user].scope(catalog)), asked, "2026-11", "fr")


def test_an_operator_drills_a_chosen_backup_and_asks_the_finder_when_a_site_is_red(fleet_files, monkeypatch):
    """The page's own logic: what it sends and journals (the broker and the workers that run both
    are proven by tests/integration/test_workers.py)."""
    from workers import actors

    sent = []
    monkeypatch.setattr(actors, "enqueue", lambda site, drill_id, now, backup_name: sent.append(
        ("drill", site.id, backup_name)))
    monkeypatch.setattr(actors, "enqueue_finder", lambda site, request_id: sent.append(("finder", site.id)))
    at = page(app_as("ops"), "views/site.py", site="pharmacie-des-halles")
    backup = next(box for box in at.selectbox if box.label == "Sauvegarde à vérifier")
    assert backup.options[0] == "La plus récente (comme chaque nuit)" and len(backup.options) == 42
    older = backup.options[5]
    at = backup.select(older).run()
    at = next(b for b in at.button if b.label == "Lancer un exercice maintenant").click().run()
    at = next(b for b in at.button if b.label == "Chercher la plus récente sauvegarde restaurable").click().run()
    assert not at.exception
    assert sent == [("drill", "pharmacie-des-halles", older), ("finder", "pharmacie-des-halles")]
    events = {e["event"]: e for e in journal(fleet_files)}
    assert events["drill.requested"]["backup"] == older and "finder.requested" in events
    at = page(at, "views/site.py", site="pharmacie-du-port")  # green: no finder offered
    assert "Chercher la plus récente sauvegarde restaurable" not in [b.label for b in at.button]


def test_the_finders_last_answer_and_a_history_warning_are_shown_with_their_figures(fleet_files):
    from datetime import datetime, timezone
    from types import SimpleNamespace

    from drills import finder
    from drills.demo.history import synthetic_report
    from drills.reports import keys
    from drills.reports.evidence import EvidenceStore

    catalog = load_catalog(fleet_files[0])
    site = catalog.site("pharmacie-du-port")
    store, private = EvidenceStore(catalog.evidence), keys.load_private(catalog.signing_key)
    lost = {"check": "history.rows_dropped", "subject": "public.ventes", "status": "warn", "expected": 1200,
            "actual": 720,
            "message": "public.ventes went from 1,200 to 720 rows (-40%, more than 20%) [clic](http://x.example)",
            "code": "history.rows_dropped", "hint": "ask the site"}
    report = synthetic_report(site, datetime.now(timezone.utc), "pass", 100)
    stored = store.append(site.id, {**report, "findings": [lost]}, private)
    backup = SimpleNamespace(name="port-1201.dump.age", size=48_000_000,
                             modified=datetime(2026, 12, 1, 2, tzinfo=timezone.utc))
    tried = finder.Tried(backup, "pass", None, report["drill_id"], stored.path, True, "0" * 64,
                         "2026-12-01T02:00:00+00:00")
    answer = finder.answer(site, [tried], 3, 10, False, datetime(2026, 12, 2, 5, tzinfo=timezone.utc))
    finder.store_answer(store, catalog, site.id, answer)
    at = page(app_as("ops"), "views/site.py", site="pharmacie-du-port")
    shown = everything_shown(at)
    assert "À surveiller" in shown and "public.ventes went from 1,200 to 720 rows" in shown
    assert "\\[clic\\]\\(http://x.example\\)" in shown  # a name read from a backup makes no link
    assert "la sauvegarde port-1201.dump.age (prise le 2026-12-01 02:00 UTC) se restaure" in shown
    assert "perdrait 27 h 00 min de données" in shown
    at = app_as("marie")  # the pharmacist's page says it in words
    assert "une partie des données a disparu depuis la précédente" in everything_shown(at)


def drilled_with_hosting(fleet_files, hosting: dict) -> None:
    """The tenant's hosting declared in the catalog, then a drill of Pharmacie du Port stored whose
    hosting record and findings the real hosting check made of it."""
    from datetime import datetime, timezone

    import yaml

    from drills.demo.history import synthetic_report
    from drills.hosting import check
    from drills.reports import keys
    from drills.reports.evidence import EvidenceStore

    document = yaml.safe_load(fleet_files[0].read_text())
    document["tenants"]["infogest"]["hosting"] = hosting
    fleet_files[0].write_text(yaml.safe_dump(document))
    catalog = load_catalog(fleet_files[0])
    site, now = catalog.site("pharmacie-du-port"), datetime.now(timezone.utc)
    record, findings = check.inspect(site, None, now.date())
    report = synthetic_report(site, now, "fail" if any(f.status == "fail" for f in findings) else "pass", 100)
    failed = next((f for f in findings if f.status == "fail"), None)
    report.update(hosting=record, findings=[f.as_dict() for f in findings], outcome="fail" if failed else "pass",
                  reason=failed.code if failed else None, message=failed.message if failed else "")
    EvidenceStore(catalog.evidence).append(site.id, report, keys.load_private(catalog.signing_key))


def test_the_pharmacist_reads_where_the_data_is_hosted_and_by_whom(fleet_files):
    drilled_with_hosting(fleet_files, {"host": "OVHcloud", "certificate": "HDS-2024-0042", "expires": "2031-03-31",
                                       "country": "FR"})
    at = app_as("marie")
    shown = everything_shown(at)
    assert "✅ Restaurable" in shown
    assert "Vos données sont hébergées en France par OVHcloud, certifié HDS jusqu'au 31 mars 2031." in shown
    at.sidebar.radio[0].set_value("en").run()
    assert "Your data is hosted in France by OVHcloud, HDS certified until 31 March 2031." in everything_shown(at)
    at = page(app_as("ops"), "views/site.py", site="pharmacie-du-port")
    assert "Sauvegardes : France (FR), dans l'EEE ; hébergeur OVHcloud ; certificat HDS HDS-2024-0042 valable " \
           "jusqu'au 31 mars 2031" \
        in everything_shown(at).replace("\\", "")  # as read: markdown's escapes are not shown
    at = page(at, "views/site.py", site="pharmacie-des-halles")
    assert "Aucun hébergement déclaré pour ce site" in everything_shown(at)


def test_a_site_stored_outside_the_eea_is_amber_or_red_as_its_catalog_says_with_the_finding(fleet_files):
    drilled_with_hosting(fleet_files, {"host": "Far Away", "country": "US"})
    shown = everything_shown(app_as("marie"))
    assert "À surveiller" in shown and "stockée hors de l'Espace économique européen" in shown
    assert "hébergées aux États-Unis, hors de l'Espace économique européen par Far Away." in shown
    at = page(app_as("ops"), "views/site.py", site="pharmacie-du-port")
    assert "**hosting.outside_eea** — the backups (" in everything_shown(at).replace("\\", "")
    drilled_with_hosting(fleet_files, {"host": "Far Away", "country": "US", "fail": ["outside_eea"]})
    shown = everything_shown(app_as("marie"))
    assert "❌ Restaurable, mais NON conforme" in shown and "NON restaurable" not in shown
    assert "Votre prestataire a demandé que ce point bloque la vérification" in shown
    at = page(app_as("ops"), "views/site.py", site="pharmacie-du-port")
    assert [e.value for e in at.error if "hosting.outside_eea" in e.value]
