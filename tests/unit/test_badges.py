"""The badge's words for every status the dashboard computes, in both languages, as well-formed SVG."""

import xml.etree.ElementTree as ElementTree

import pytest

from api.badges import badge_document, badge_svg
from drills.fleet import SiteStatus
from drills import reasons

SVG = "{http://www.w3.org/2000/svg}"
PASSED = {"started_at": "2026-11-30T02:00:00.000+00:00", "rto_seconds": 300.0}


def site_status(status: str, why: str = "", last_pass: dict | None = PASSED) -> SiteStatus:
    return SiteStatus("pharmacie-du-port", "Pharmacie du Port", "infogest", status, why, last_pass, last_pass,
                      1800, 93600, 3600.0)


@pytest.mark.parametrize("status, why, state, french, english", [
    ("green", "", "restorable", "Restaurable", "Restorable"),
    ("amber", reasons.PROOF_OLD, "needs_attention", "À surveiller", "Needs attention"),
    ("red", reasons.DECRYPT_CORRUPT, "not_restorable", "NON restaurable", "NOT restorable"),
    ("red", reasons.HISTORY_ROWS_DROPPED, "restorable_not_compliant", "Restaurable, mais NON conforme",
     "Restorable, but NOT compliant"),
])
def test_each_status_has_its_state_and_words_in_french_and_english(status, why, state, french, english):
    for language, words, date in (("fr", french, "30 novembre 2026"), ("en", english, "30 November 2026")):
        document = badge_document(site_status(status, why), language)
        assert (document["state"], document["label"], document["last_proven"]) == (state, words, date)
        root = ElementTree.fromstring(badge_svg(site_status(status, why), language))
        assert [text.text for text in root.iter(f"{SVG}text")][1] == f"{words} · {date}"
        assert date in root.find(f"{SVG}title").text


def test_a_site_never_drilled_says_so_without_a_date():
    document = badge_document(site_status("never", "never", None), "fr")
    assert (document["state"], document["label"], document["last_proven_at"]) == ("never_drilled", "Jamais vérifié",
                                                                                  None)
    root = ElementTree.fromstring(badge_svg(site_status("never", "never", None), "en"))
    assert [text.text for text in root.iter(f"{SVG}text")] == ["backup", "Never drilled"]
    assert "Pharmacie" not in badge_svg(site_status("green"), "fr"), "a badge names no site"
