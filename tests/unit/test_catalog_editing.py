"""The catalog an editor cannot get wrong: keys written twice refused with both lines, sites
included from a directory of site files (problems named with their file and line), a JSON Schema
for editors' YAML plugins made from the loader's own schema, and `drill init`'s starter catalog."""

import json
import os

import jsonschema
import pytest
import yaml

from drills.catalog import CatalogFile, load_catalog
from drills.catalog.json_schema import render
from drills.catalog.starter import STARTER
from drills.demo.catalog import CATALOG as DEMO_CATALOG, SITE as DEMO_SITE, SITES as DEMO_SITES
from drills.errors import ConfigError
from tests.helpers import drill_command, site_entry
from tests.unit.test_catalog import EXAMPLE

SITE_FILE = """\
id: {id}
name: Cabinet {id}
tenant: infogest
source: {{type: local, path: backups/{id}}}
decrypt: {{identity_file: keys/drill.agekey}}
engine: {{type: sqlite}}
targets: {{rto: 30m, rpo: {rpo}}}
"""


def refusal(path) -> str:
    with pytest.raises(ConfigError) as raised:
        load_catalog(path)
    return raised.value.message


def test_a_key_written_twice_is_refused_with_both_lines_at_the_top_and_nested(tmp_path):
    path = tmp_path / "catalog.yaml"
    path.write_text(EXAMPLE.replace("    schedule:", "    name: Pharmacie du Quai\n    schedule:")
                    + "evidence: elsewhere/\n")
    message = refusal(path)
    assert f"{path}:20: evidence: key 'evidence' written twice (lines 1 and 20)" in message
    assert f"{path}:17: sites.0.name: key 'name' written twice (lines 5 and 17)" in message


def test_sites_included_from_a_directory_of_site_files(tmp_path):
    (tmp_path / "sites.d").mkdir()
    for site_id in ("cabinet-b", "cabinet-a"):
        (tmp_path / "sites.d" / f"{site_id}.yaml").write_text(SITE_FILE.format(id=site_id, rpo="26h"))
    (tmp_path / "catalog.yaml").write_text(EXAMPLE + "include: [sites.d/]\n")
    catalog = load_catalog(tmp_path / "catalog.yaml")
    assert [site.id for site in catalog.sites] == ["pharmacie-du-port", "cabinet-a", "cabinet-b"]
    assert catalog.site("cabinet-a").source.path == tmp_path / "backups" / "cabinet-a"  # from the catalog's folder


def test_a_catalog_file_is_read_again_when_an_included_site_file_changes_or_comes(tmp_path):
    (tmp_path / "sites.d").mkdir()
    site_file = tmp_path / "sites.d" / "cabinet-a.yaml"
    site_file.write_text(SITE_FILE.format(id="cabinet-a", rpo="26h"))
    (tmp_path / "catalog.yaml").write_text(EXAMPLE + "include: [sites.d/]\n")
    catalog_file = CatalogFile(tmp_path / "catalog.yaml")
    first = catalog_file.current()
    assert catalog_file.current() is first, "unchanged: not parsed again"
    site_file.write_text(SITE_FILE.format(id="cabinet-a", rpo="48h"))
    os.utime(site_file, ns=(1, 2))
    assert catalog_file.current().site("cabinet-a").targets.rpo == 48 * 3600
    (tmp_path / "sites.d" / "cabinet-b.yml").write_text(SITE_FILE.format(id="cabinet-b", rpo="26h"))
    assert [site.id for site in catalog_file.current().sites][-1] == "cabinet-b"


def test_a_problem_in_an_included_file_names_that_file_and_its_line(tmp_path):
    (tmp_path / "sites.d").mkdir()
    (tmp_path / "sites.d" / "cabinet-a.yaml").write_text(SITE_FILE.format(id="cabinet-a", rpo="26h"))
    wrong = tmp_path / "sites.d" / "cabinet-b.yaml"
    wrong.write_text(SITE_FILE.format(id="cabinet-b", rpo="soon") + "colour: blue\n")
    (tmp_path / "catalog.yaml").write_text("evidence: e/\nsigning_key: k\ninclude: [sites.d]\nsites: []\n")
    message = refusal(tmp_path / "catalog.yaml")
    assert f"{wrong}:7: sites.1.targets.rpo: expected a duration" in message
    assert f"{wrong}:8: sites.1.colour: unknown key 'colour'" in message
    assert "cabinet-a.yaml" not in message
    wrong.write_text(SITE_FILE.format(id="cabinet-b", rpo="26h") + "name: twice\n")
    assert f"{wrong}:8: name: key 'name' written twice (lines 2 and 8)" in refusal(tmp_path / "catalog.yaml")


def test_an_include_of_nothing_is_refused_with_its_line(tmp_path):
    (tmp_path / "empty.d").mkdir()
    (tmp_path / "catalog.yaml").write_text(EXAMPLE + "include:\n  - empty.d\n  - missing.d\n")
    message = refusal(tmp_path / "catalog.yaml")
    assert "catalog.yaml:20: include.0: no site file" in message
    assert f"catalog.yaml:21: include.1: {tmp_path / 'missing.d'}: no such directory or file" in message


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(render())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def demo_catalog() -> str:
    return DEMO_CATALOG + "".join(DEMO_SITE.format(id=site_id, name=name) for site_id, name, _ in DEMO_SITES)


@pytest.mark.parametrize("text", [EXAMPLE, STARTER, demo_catalog()], ids=["issue-example", "starter", "demo"])
def test_the_json_schema_accepts_the_catalogs_the_loader_accepts(text, validator, tmp_path):
    (tmp_path / "catalog.yaml").write_text(text)
    load_catalog(tmp_path / "catalog.yaml")
    assert list(validator.iter_errors(yaml.safe_load(text))) == []


def test_the_json_schema_accepts_the_tests_catalogs(validator, tmp_path):
    on_s3 = site_entry("site-b", tmp_path, tmp_path / "id")
    on_s3["engine"], on_s3["checks"] = {"type": "files"}, {"manifest": "optional"}
    on_s3["source"] = {"type": "s3", "bucket": "b", "endpoint": "http://127.0.0.1:9000", "pattern": "*.tar.age"}
    catalog = {"evidence": "evidence/", "signing_key": "k", "sites": [site_entry("site-a", tmp_path, tmp_path / "id"),
                                                                       on_s3]}
    assert list(validator.iter_errors(catalog)) == []


@pytest.mark.parametrize("edit, complaint", [
    (lambda site: site.update(colour="blue"), "'colour' was unexpected"),
    (lambda site: site["engine"].update(type="oracle"), "'oracle' is not one of"),
    (lambda site: site["targets"].update(rto="half an hour"), "does not match"),
    (lambda site: site["decrypt"].update(identity_env="AGE_KEY"), "is valid under each of"),
    (lambda site: site.pop("tenant"), "'tenant' is a required property"),
    (lambda site: site.update(id="Pharmacie!"), "does not match"),
])
def test_the_json_schema_refuses_a_wrong_catalog(edit, complaint, validator):
    catalog = yaml.safe_load(EXAMPLE)
    edit(catalog["sites"][0])
    assert any(complaint in error.message for error in validator.iter_errors(catalog))


def test_drill_schema_json_schema_prints_it():
    printed = drill_command("schema", "--json-schema")
    assert printed.returncode == 0 and json.loads(printed.stdout) == json.loads(render())


def test_drill_init_writes_a_starter_catalog_that_passes_check_and_never_overwrites(tmp_path):
    path = tmp_path / "catalog.yaml"
    assert drill_command("init", "--catalog", str(path)).returncode == 0
    assert path.read_text() == STARTER and STARTER.count("#") > 20
    checked = drill_command("--json", "check", "--catalog", str(path))
    assert checked.returncode == 0 and json.loads(checked.stdout)["valid"] is True
    path.write_text("# my own catalog\n")
    again = drill_command("init", "--catalog", str(path))
    assert again.returncode == 3 and "never overwrites" in again.stderr
    assert path.read_text() == "# my own catalog\n"
