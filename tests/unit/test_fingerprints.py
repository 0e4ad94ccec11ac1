"""The content fingerprint's algorithm (drills.checks.fingerprints) and its place in the manifest."""

import hashlib
import json
from datetime import datetime, timezone

import pytest

from drills import manifest as manifests
from drills.checks import fingerprints
from drills.checks.dialects import POSTGRES
from drills.errors import BackupProblem

ROWS = [b"(1,DUPONT,\"Jean, dit \"\"Jeannot\"\"\")", b"(2,,)", "(3,Ézéchiel,\"ligne\nsuivante\")".encode()]


def test_a_fingerprint_is_the_sum_of_the_rows_md5_prefixes_modulo_2_to_the_64():
    expected = sum(int(hashlib.md5(row).hexdigest()[:16], 16) for row in ROWS) % 2**64
    assert fingerprints.reference(ROWS) == format(expected, "016x")
    assert fingerprints.reference([]) == "0" * 16


def test_it_ignores_the_rows_order_and_sees_one_changed_byte_or_one_row_twice():
    assert fingerprints.reference(reversed(ROWS)) == fingerprints.reference(ROWS)
    assert fingerprints.reference([ROWS[0].replace(b"Jean", b"Jeau"), *ROWS[1:]]) != fingerprints.reference(ROWS)
    assert fingerprints.reference([*ROWS, ROWS[0]]) != fingerprints.reference(ROWS)


def test_a_sample_counts_only_the_rows_whose_hash_the_power_of_two_divides():
    rows = [f"({number},x)".encode() for number in range(2000)]
    kept = [row for row in rows if fingerprints.u64(row) % 8 == 0]
    assert 150 < len(kept) < 350
    assert fingerprints.reference(rows, one_in=8) == fingerprints.reference(kept)


@pytest.mark.parametrize("rows, cap, expected", [(10, None, 1), (100, 100, 1), (101, 100, 2), (1000, 100, 16)])
def test_the_sample_is_the_smallest_power_of_two_under_the_cap(rows, cap, expected):
    assert fingerprints.one_in(rows, cap) == expected


def test_a_servers_signed_or_unsigned_sum_reads_as_the_same_digest():
    assert fingerprints.hexadecimal(-1) == "ffffffffffffffff" and fingerprints.hexadecimal(str(2**64 + 5)) == "0" * 15 + "5"


def test_the_postgres_sql_reads_each_rows_whole_text_form_and_samples_by_its_hash():
    sql = POSTGRES.row_hashes.format(table='"public"."patients"')
    assert "md5(ROW(t.*)::text)" in sql and 'FROM "public"."patients" t' in sql
    assert "mod(h, 4) = 0" in POSTGRES.digest.format(one_in=4)


def test_mismatched_fingerprints_are_content_mismatch_findings_naming_the_table():
    expected = {"public.patients": {"digest": "00000000000000aa", "one_in": 1},
                "public.ventes": {"digest": "00000000000000bb", "one_in": 4},
                "public.absente": {"digest": "00000000000000cc", "one_in": 1}}
    found = fingerprints.findings({"public.patients": "00000000000000aa", "public.ventes": "00000000000000bc"}, expected)
    assert [(f.subject, f.status, f.code) for f in found] == [
        ("public.patients", "pass", ""), ("public.ventes", "fail", "verify.content_mismatch")]
    assert "1 row in 4" in found[1].message


@pytest.mark.parametrize("choice, expected", [("all", {"a", "b"}), ("off", set()), (["b", "c"], {"b"})])
def test_the_site_chooses_which_fingerprints_are_checked(choice, expected):
    assert set(fingerprints.selected({"a": {}, "b": {}}, choice)) == expected


def manifest(**fingerprints_entry) -> bytes:
    document = json.loads(manifests.render("p", "postgres", datetime(2026, 12, 1, tzinfo=timezone.utc),
                                           tables={"public.patients": 3},
                                           fingerprints={"public.patients": {"digest": "0123456789abcdef", "one_in": 1}}))
    document["fingerprints"]["public.patients"].update(fingerprints_entry)
    return json.dumps(document).encode()


def test_a_manifest_with_fingerprints_is_format_2_and_format_1_is_still_read():
    parsed = manifests.parse(manifest())
    assert parsed.fingerprints == {"public.patients": {"digest": "0123456789abcdef", "one_in": 1}}
    old = manifests.parse(manifests.render("p", "postgres", datetime(2026, 12, 1, tzinfo=timezone.utc), tables={"t": 1}).encode())
    assert json.loads(manifests.render("p", "postgres", datetime(2026, 12, 1, tzinfo=timezone.utc)))["format"] == 1
    assert old.fingerprints is None


@pytest.mark.parametrize("entry", [{"digest": "XYZ"}, {"one_in": 3}, {"one_in": 0}, {"one_in": True}, {"digest": 12}])
def test_a_malformed_fingerprint_makes_the_manifest_invalid(entry):
    with pytest.raises(BackupProblem) as raised:
        manifests.parse(manifest(**entry))
    assert raised.value.code == "manifest.invalid"
