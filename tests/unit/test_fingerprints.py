"""The content fingerprint's algorithm (drills.checks.fingerprints) and its place in the manifest."""

import json
from datetime import datetime, timezone

import pytest

from drills import manifest as manifests
from drills.checks import fingerprints
from drills.checks.dialects import POSTGRES
from drills.errors import BackupProblem

# hashtextextended(text, 0) as PostgreSQL 15 computed them (SELECT s, hashtextextended(s, 0) ...).
POSTGRES_VECTORS = {"": -6939563903564495251, "a": 3591986179850072241, "abc": -6747756470228489321,
                    "abcdefghijkl": -7556637188122330412, "abcdefghijklm": 8871624171452417744,
                    '(1,"DUPONT, Jean",,t)': -8783800098903606357, "Ézéchiel €": 5904018304335772387,
                    "x" * 37: -271095027154046655}


@pytest.mark.parametrize("text, expected", POSTGRES_VECTORS.items(), ids=range(len(POSTGRES_VECTORS)))
def test_the_python_text_hash_is_postgresqls_hashtextextended(text, expected):
    assert fingerprints.postgres_text_hash(text.encode()) == expected


@pytest.mark.parametrize("value, expected", [(0, 4154612158245552303), (1, -3670598878359251130),
                                             (-1, -1888257769727981238), (2**40, -4519207317629470217),
                                             (-(2**40), 6372911805303557281), (2**63 - 1, 1977219185673256887)])
def test_the_python_integer_hash_is_postgresqls_hashint8extended(value, expected):
    assert fingerprints.postgres_int8_hash(value) == expected  # vectors from PostgreSQL 15


def test_a_table_with_a_one_column_integer_key_is_sampled_by_that_keys_hash():
    query = fingerprints.query(POSTGRES, "x", {"one_in": 16, "key": ["id"], "integer_key": True})
    assert 'WHERE mod(hashint8extended(t."id"::int8, 0), 16) = 0' in query


def test_a_tables_fingerprint_can_be_recomputed_from_its_rows_texts_alone():
    texts = [text.encode() for text in POSTGRES_VECTORS]
    assert fingerprints.postgres_reference(texts) == fingerprints.combined(POSTGRES_VECTORS.values())


HASHES = [-4_211_483_329_061_781_522, 7_125_512_201_451_223_001, 2**63 - 1, -(2**63)]


def test_a_fingerprint_is_the_sum_of_the_rows_64_bit_hashes_modulo_2_to_the_64_whatever_their_sign():
    assert fingerprints.combined(HASHES) == format(sum(HASHES) % 2**64, "016x")
    unsigned = [value % 2**64 for value in HASHES]
    assert fingerprints.combined(unsigned) == fingerprints.combined(HASHES)
    assert fingerprints.combined([]) == "0" * 16


def test_it_ignores_the_rows_order_and_sees_a_changed_row_or_a_row_twice():
    assert fingerprints.combined(reversed(HASHES)) == fingerprints.combined(HASHES)
    assert fingerprints.combined([HASHES[0] + 1, *HASHES[1:]]) != fingerprints.combined(HASHES)
    assert fingerprints.combined([*HASHES, HASHES[1]]) != fingerprints.combined(HASHES)


@pytest.mark.parametrize("rows, cap, expected", [(10, None, 1), (100, 100, 1), (101, 100, 2), (1000, 100, 16)])
def test_the_sample_is_the_smallest_power_of_two_under_the_cap(rows, cap, expected):
    assert fingerprints.one_in(rows, cap) == expected


def test_a_servers_signed_or_unsigned_sum_reads_as_the_same_digest():
    assert fingerprints.hexadecimal(-1) == "ffffffffffffffff" and fingerprints.hexadecimal(str(2**64 + 5)) == "0" * 15 + "5"


def test_the_postgres_query_hashes_each_rows_whole_text_form_and_samples_by_the_primary_key():
    whole = fingerprints.query(POSTGRES, '"public"."patients"', {"one_in": 1, "key": None})
    assert whole == ("SELECT mod(mod(coalesce(sum(h), 0), 18446744073709551616) + 18446744073709551616, "
                     "18446744073709551616)::text AS digest FROM (SELECT hashtextextended(ROW(t.*)::text, 0) AS h "
                     'FROM "public"."patients" t) r')
    by_key = fingerprints.query(POSTGRES, '"public"."ventes"', {"one_in": 8, "key": ["id", 'we"ird']})
    assert by_key.endswith('FROM "public"."ventes" t WHERE mod(hashtextextended(ROW(t."id", t."we""ird")::text, 0), '
                           "8) = 0) r")
    no_key = fingerprints.query(POSTGRES, "x", {"one_in": 2, "key": None})
    assert "WHERE mod(hashtextextended(ROW(t.*)::text, 0), 2) = 0" in no_key


def test_mismatched_fingerprints_are_content_mismatch_findings_naming_the_table():
    expected = {"public.patients": {"digest": "00000000000000aa", "one_in": 1, "key": None},
                "public.ventes": {"digest": "00000000000000bb", "one_in": 4, "key": ["id"]},
                "public.absente": {"digest": "00000000000000cc", "one_in": 1, "key": None}}
    found = fingerprints.findings({"public.patients": "00000000000000aa", "public.ventes": "00000000000000bc"}, expected)
    assert [(f.subject, f.status, f.code) for f in found] == [
        ("public.patients", "pass", ""), ("public.ventes", "fail", "verify.content_mismatch")]
    assert "1 row in 4 by the hash of its primary key" in found[1].message


@pytest.mark.parametrize("choice, expected", [("all", {"a", "b"}), ("off", set()), (["b", "c"], {"b"})])
def test_the_site_chooses_which_fingerprints_are_checked(choice, expected):
    assert set(fingerprints.selected({"a": {}, "b": {}}, choice)) == expected


def manifest(**fingerprints_entry) -> bytes:
    document = json.loads(manifests.render("p", "postgres", datetime(2026, 12, 1, tzinfo=timezone.utc),
                                           tables={"public.patients": 3},
                                           fingerprints={"public.patients": {"digest": "0123456789abcdef", "one_in": 1, "key": None}}))
    document["fingerprints"]["public.patients"].update(fingerprints_entry)
    return json.dumps(document).encode()


def test_a_manifest_with_fingerprints_is_format_2_and_format_1_is_still_read():
    parsed = manifests.parse(manifest())
    assert parsed.fingerprints == {"public.patients": {"digest": "0123456789abcdef", "one_in": 1, "key": None}}
    old = manifests.parse(manifests.render("p", "postgres", datetime(2026, 12, 1, tzinfo=timezone.utc), tables={"t": 1}).encode())
    assert json.loads(manifests.render("p", "postgres", datetime(2026, 12, 1, tzinfo=timezone.utc)))["format"] == 1
    assert old.fingerprints is None


@pytest.mark.parametrize("entry", [{"digest": "XYZ"}, {"one_in": 3}, {"one_in": 0}, {"one_in": True}, {"digest": 12},
                                   {"key": "id"}, {"key": []}, {"key": [""]}, {"key": [1]}])
def test_a_malformed_fingerprint_makes_the_manifest_invalid(entry):
    with pytest.raises(BackupProblem) as raised:
        manifests.parse(manifest(**entry))
    assert raised.value.code == "manifest.invalid"


def test_the_mariadb_query_hashes_each_column_in_the_text_form_of_its_type():
    from drills.checks.dialects import MYSQL

    columns = [("id", "int"), ("vu_le", "timestamp"), ("photo", "BLOB"), ("nom", "varchar")]
    whole = fingerprints.query(MYSQL, "`lgo`.`patients`", {"one_in": 1, "key": None}, columns)
    assert ("CONCAT_WS(',', QUOTE(CONVERT(t.`id` USING utf8mb4)), QUOTE(UNIX_TIMESTAMP(t.`vu_le`)), "
            "QUOTE(HEX(t.`photo`)), QUOTE(CONVERT(t.`nom` USING utf8mb4)))") in whole
    assert whole.startswith("SELECT CAST(MOD(COALESCE(SUM(h), 0), 18446744073709551616) AS CHAR) AS digest")
    sampled = fingerprints.query(MYSQL, "`lgo`.`patients`", {"one_in": 4, "key": ["id"]}, columns)
    assert sampled.endswith("WHERE mod(CAST(CONV(LEFT(MD5(CONCAT_WS(',', QUOTE(CONVERT(t.`id` USING utf8mb4)))), 16), "
                            "16, 10) AS UNSIGNED), 4) = 0) r")


def test_a_mariadb_dsn_becomes_client_options_with_the_password_out_of_the_command_line():
    from drills.errors import ConfigError
    from drills.sealing.mariadb import client

    arguments, database, environment = client("host=localhost socket=/run/mysqld.sock user=backup password=s3cr3t "
                                              "database=lgo")
    assert arguments == ["--no-defaults", "--host=localhost", "--socket=/run/mysqld.sock", "--user=backup"]
    assert (database, environment) == ("lgo", {"MYSQL_PWD": "s3cr3t"}) and "s3cr3t" not in " ".join(arguments)
    with pytest.raises(ConfigError):
        client("host=localhost user=backup")


def test_an_inexact_tables_count_differing_is_a_warning_and_an_exact_ones_a_failure():
    from drills.checks.declared import manifest_findings

    found = manifest_findings({"lgo.journal": 12, "lgo.patients": 3}, {"lgo.journal": 10, "lgo.patients": 2},
                              inexact=("lgo.journal",))
    assert [(f.subject, f.status) for f in found] == [("lgo.journal", "warn"), ("lgo.patients", "fail")]
    assert "no snapshot covered" in found[0].message
    parsed = manifests.parse(manifests.render("p", "mariadb", datetime(2026, 12, 1, tzinfo=timezone.utc),
                                              tables={"lgo.journal": 10}, fingerprints={}, inexact=["lgo.journal"]).encode())
    assert parsed.inexact == ("lgo.journal",)


class ServerAnswering:
    """Stands for DuckDB's connection to a restored server: answers every query with `rows`, or raises."""

    def __init__(self, rows=(), error=None):
        self.rows, self.error = list(rows), error

    def execute(self, sql, parameters=None):
        if self.error:
            raise self.error
        return self

    def fetchall(self):
        return self.rows


def test_a_manifest_can_call_inexact_only_the_tables_restored_without_transactions():
    from types import SimpleNamespace

    from drills.checks.database import trusted_inexact
    from drills.checks.dialects import MYSQL

    manifest = SimpleNamespace(inexact=("lgo.journal", "lgo.patients"))  # patients forged as inexact
    assert trusted_inexact(ServerAnswering([("lgo", "journal")]), MYSQL, manifest) == {"lgo.journal"}
    assert trusted_inexact(ServerAnswering([("public", "patients")]), POSTGRES, manifest) == set(), \
        "PostgreSQL snapshots every table: an inexact list there is ignored"


def test_fingerprints_the_server_cannot_compute_fail_the_drill_with_content_mismatch_not_a_crash():
    import duckdb
    from types import SimpleNamespace

    from drills.checks.database import content_findings

    manifest = SimpleNamespace(fingerprints={"public.patients": {"digest": "0" * 16, "one_in": 2, "key": ["absente"]}})
    failing = ServerAnswering(error=duckdb.Error('column t."absente" does not exist'))
    (finding,) = content_findings(failing, POSTGRES, manifest, "all", {})
    assert (finding.status, finding.code) == ("fail", "verify.content_mismatch")
