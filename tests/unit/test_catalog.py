"""The catalog: the issue's example loads as written; every problem is reported with its line."""

import textwrap

import pytest

from drills.catalog import load_catalog
from drills.options import SIZE_UNITS, UNITS, parse_amount
from drills.errors import ConfigError

EXAMPLE = """\
evidence: evidence/                  # paths are relative to this file
signing_key: keys/signing.ed25519    # created by `drill keys init`
sites:
  - id: pharmacie-du-port
    name: Pharmacie du Port
    tenant: infogest
    source: {type: local, path: backups/pharmacie-du-port, pattern: "*.dump.age"}
    decrypt: {identity_file: keys/drill.agekey}
    engine: {type: postgres, format: custom}      # custom | plain (.sql, .sql.gz)
    checks:
      manifest: required                          # required | optional | ignore
      tables: {public.patients: {min: 1}}
      sql:
        - name: every prescription line has a prescription
          query: "SELECT count(*) FROM public.lignes_ordonnance l LEFT JOIN public.ordonnances o ON o.id = l.ordonnance_id WHERE o.id IS NULL"
          expect: 0
    schedule: "0 2 * * *"
    targets: {rto: 30m, rpo: 26h}
"""


def load(tmp_path, text):
    path = tmp_path / "catalog.yaml"
    path.write_text(textwrap.dedent(text))
    return load_catalog(path)


def problems(tmp_path, text) -> str:
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, text)
    return raised.value.message


def test_the_example_of_the_issue_loads_as_written_with_paths_relative_to_the_file(tmp_path):
    catalog = load(tmp_path, EXAMPLE)
    site = catalog.site("pharmacie-du-port")
    assert catalog.evidence == tmp_path / "evidence"
    assert site.source.path == tmp_path / "backups" / "pharmacie-du-port"
    assert site.decrypt.identity_file == tmp_path / "keys" / "drill.agekey"
    assert (site.targets.rto, site.targets.rpo) == (1800, 26 * 3600)
    assert site.checks.tables["public.patients"].min == 1
    assert site.checks.sql[0].expect == 0 and site.engine.jobs == 2


def test_unknown_keys_are_refused_with_their_line_and_the_known_keys(tmp_path):
    message = problems(tmp_path, EXAMPLE.replace("    schedule:", "    colour: blue\n    schedule:"))
    assert "catalog.yaml:17: sites.0.colour: unknown key 'colour'" in message
    assert "known keys: id, name" in message


def test_every_problem_is_reported_not_only_the_first(tmp_path):
    broken = (EXAMPLE.replace("format: custom", "format: tar")
              .replace("rto: 30m", "rto: soon")
              .replace('"0 2 * * *"', '"99 * * * *"')
              .replace("id: pharmacie-du-port", "id: Pharmacie"))
    message = problems(tmp_path, broken)
    assert message.startswith("4 problem(s)")
    for fragment in ("sites.0.engine.format: 'tar' is not one of custom, directory, plain", "sites.0.targets.rto",
                     "sites.0.schedule", "sites.0.id"):
        assert fragment in message


def test_an_assertion_that_writes_or_does_not_parse_is_caught_at_load(tmp_path):
    message = problems(tmp_path, EXAMPLE.replace('query: "SELECT count(*)', 'query: "DELETE FROM x; SELECT count(*)'))
    assert "exactly one SELECT" in message
    message = problems(tmp_path, EXAMPLE.replace('query: "SELECT count(*)', 'query: "SELEC count(*)'))
    assert "not valid SQL" in message


def test_secrets_are_references_and_exactly_one_is_given(tmp_path):
    message = problems(tmp_path, EXAMPLE.replace("{identity_file: keys/drill.agekey}",
                                                 "{identity_file: k, passphrase_env: P}"))
    assert "give exactly one of identity_file, identity_env, passphrase_file, passphrase_env" in message
    message = problems(tmp_path, EXAMPLE.replace("{identity_file: keys/drill.agekey}",
                                                 "{identity: AGE-SECRET-KEY-1XYZ}"))
    assert "unknown key 'identity'" in message


def test_duplicate_site_ids_are_refused(tmp_path):
    text = EXAMPLE + EXAMPLE.split("sites:\n", 1)[1]
    assert "site id 'pharmacie-du-port' is used 2 times" in problems(tmp_path, text)


def test_invalid_yaml_names_its_line(tmp_path):
    assert "catalog.yaml:3: not valid YAML" in problems(tmp_path, "evidence: e\nsites:\n\t- id: x\n")


def test_an_unknown_site_names_the_known_ones(tmp_path):
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, EXAMPLE).site("pharmacie-inconnue")
    assert raised.value.code == "config.unknown_site" and "pharmacie-du-port" in raised.value.hint


@pytest.mark.parametrize("text, seconds", [("30m", 1800), ("26h", 93600), ("1h30m", 5400), ("2d", 172800),
                                           ("soon", None), ("10", None), ("1x", None), ("", None)])
def test_durations(text, seconds):
    assert parse_amount(text, UNITS) == seconds


def test_sizes():
    assert parse_amount("2g", SIZE_UNITS) == 2 * 1024**3 and parse_amount("512m", SIZE_UNITS) == 512 * 1024**2


def test_pick_random_needs_a_retention_window(tmp_path):
    text = EXAMPLE.replace('pattern: "*.dump.age"}', 'pattern: "*.dump.age", pick: random}')
    assert "pick: random needs source.retention" in problems(tmp_path, text)
    site = load(tmp_path, text.replace("pick: random}", "pick: random, retention: 30d}")).sites[0]
    assert (site.source.pick, site.source.retention) == ("random", 30 * 86400)


def test_a_catalog_file_is_parsed_again_only_when_it_changes(tmp_path):
    import os

    from drills.catalog import CatalogFile

    path = tmp_path / "catalog.yaml"
    path.write_text(EXAMPLE)
    catalog_file = CatalogFile(path)
    first = catalog_file.current()
    assert catalog_file.current() is first, "unchanged: not parsed again"
    path.write_text(EXAMPLE.replace("Pharmacie du Port", "Pharmacie du Vieux Port"))
    os.utime(path, ns=(1, 2))
    assert catalog_file.current().sites[0].name == "Pharmacie du Vieux Port"


def test_database_checks_on_a_documents_archive_are_refused_at_load(tmp_path):
    from drills.catalog import load_catalog
    from drills.errors import ConfigError
    from tests.helpers import site_entry, write_catalog

    entry = site_entry("cabinet", tmp_path, tmp_path / "k", engine={"type": "files"})
    entry["engine"] = {"type": "files"}
    with pytest.raises(ConfigError) as refused:
        load_catalog(write_catalog(tmp_path, [entry]))
    assert "checks.tables is for databases" in str(refused.value)
    entry["checks"] = {"manifest": "required"}
    site = load_catalog(write_catalog(tmp_path, [entry])).sites[0]
    assert (site.engine.type, site.engine.format, site.engine.image) == ("files", "tar", "restore-drill/tools:bookworm")


def test_a_site_without_checks_runs_the_default_checks(tmp_path):
    from drills.catalog.model import Alerts, Checks

    site = load(tmp_path, EXAMPLE.replace(EXAMPLE[EXAMPLE.index("    checks:"):EXAMPLE.index("    schedule:")], "")).sites[0]
    assert site.checks == Checks(manifest="optional", may_be_empty=False) and site.alerts == Alerts()


def test_may_be_empty_is_true_or_false(tmp_path):
    assert "expected true or false" in problems(tmp_path, EXAMPLE.replace("manifest: required",
                                                                          "manifest: required\n      may_be_empty: 1"))
