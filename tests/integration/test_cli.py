"""The `drill` command as an operator uses it: real drills, real files, documented exit codes."""

import hashlib
import json
from pathlib import Path

from tests.schemas import validate
from tests.helpers import drill_command, site_entry, write_catalog
from tests.integration.conftest import SITE


def test_run_json_prints_the_documented_fields_and_exits_0_on_pass(catalog):
    result = drill_command("run", SITE, "--catalog", str(catalog), "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert {"drill_id", "site", "outcome", "reason", "rto_seconds", "phases", "backup", "findings",
            "report"} <= set(summary)
    assert summary["outcome"] == "pass" and Path(summary["report"]).is_file()


def test_verify_report_passes_the_untouched_report_and_fails_an_edited_one(catalog, tmp_path):
    report_path = Path(json.loads(drill_command("run", SITE, "--catalog", str(catalog), "--json").stdout)["report"])
    assert drill_command("verify-report", str(report_path), "--catalog", str(catalog)).returncode == 0

    edited = tmp_path / "edited.json"
    document = json.loads(report_path.read_text())
    edited.write_text(json.dumps({**document, "rto_seconds": document["rto_seconds"] / 10}, indent=2))
    result = drill_command("verify-report", str(edited), "--catalog", str(catalog), "--json")
    assert result.returncode == 1 and json.loads(result.stdout)["valid"] is False

    unsigned = tmp_path / "unsigned.json"
    unsigned.write_bytes(report_path.read_bytes())  # without its .sig beside it
    result = drill_command("verify-report", str(unsigned), "--catalog", str(catalog))
    assert result.returncode == 1 and "not signed" in result.stdout
    result = drill_command("verify-report", str(unsigned), "--signature", str(report_path) + ".sig",
                           "--catalog", str(catalog))
    assert result.returncode == 0 and "VALID" in result.stdout


def test_a_report_is_write_once_and_chained_to_the_previous_one(catalog):
    first = Path(json.loads(drill_command("run", SITE, "--catalog", str(catalog), "--json").stdout)["report"])
    second = Path(json.loads(drill_command("run", SITE, "--catalog", str(catalog), "--json").stdout)["report"])
    assert json.loads(second.read_text())["previous_sha256"] == hashlib.sha256(first.read_bytes()).hexdigest()
    assert json.loads(second.read_text())["sequence"] == json.loads(first.read_text())["sequence"] + 1
    assert oct(first.stat().st_mode & 0o777) == "0o444"


def test_history_lists_past_drills(catalog):
    drill_command("run", SITE, "--catalog", str(catalog))
    result = drill_command("history", SITE, "--catalog", str(catalog), "--json")
    assert result.returncode == 0
    assert [row["outcome"] for row in json.loads(result.stdout)] == ["PASS"]


def test_an_unreachable_docker_engine_is_an_error_not_a_failure_of_the_site(catalog):
    result = drill_command("run", SITE, "--catalog", str(catalog), "--json",
                           env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"})
    assert result.returncode == 2, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["outcome"], summary["reason"]) == ("error", "error.runtime")


def test_a_failing_drill_exits_1_and_names_the_next_step(tmp_path, backups, keys_dir, docker_engine):
    folder = tmp_path / "empty"
    folder.mkdir()
    path = write_catalog(tmp_path, [site_entry(SITE, folder, keys_dir["dir"] / "drill.agekey")])
    drill_command("keys", "init", "--catalog", str(path))
    result = drill_command("run", SITE, "--catalog", str(path))
    assert result.returncode == 1
    assert "FAIL backup.missing" in result.stdout and "next:" in result.stdout


def test_a_bad_catalog_exits_3_with_every_problem_and_its_line(tmp_path):
    path = tmp_path / "catalog.yaml"
    path.write_text("evidence: e/\nsigning_key: k\nsites:\n  - id: x\n    colour: blue\n")
    result = drill_command("check", "--catalog", str(path))
    assert result.returncode == 3
    assert "catalog.yaml:5: sites.0.colour: unknown key" in result.stderr
    assert "missing required key 'source'" in result.stderr


def test_manifest_prints_exact_counts_of_a_live_database(docker_engine):
    from drills.demo.seed import SourceDatabase

    with SourceDatabase(patients=50, runtime=docker_engine) as source:
        result = drill_command("manifest", "postgres", "--dsn", source.dsn, "--site", SITE)
    manifest = json.loads(result.stdout)
    assert validate("manifest", manifest) == [] and manifest["site"] == SITE and manifest["format"] == 1
    assert manifest["tables"]["public.patients"] == 50 and manifest["tables"]["public.ordonnances"] == 150


def test_verify_chain_passes_an_intact_chain_and_names_a_deleted_report(catalog):
    first = Path(json.loads(drill_command("run", SITE, "--catalog", str(catalog), "--json").stdout)["report"])
    drill_command("run", SITE, "--catalog", str(catalog))
    assert drill_command("verify-chain", SITE, "--catalog", str(catalog)).returncode == 0
    first.unlink()
    result = drill_command("verify-chain", "--all", "--catalog", str(catalog), "--json")
    assert result.returncode == 1
    (problem,) = json.loads(result.stdout)[SITE]["problems"]
    assert problem["code"] == "chain.gap" and problem["file"].startswith("000002-")


def test_manifest_of_an_unreachable_database_is_a_clear_error(tmp_path):
    result = drill_command("manifest", "postgres", "--dsn", f"host={tmp_path} dbname=lgo", "--site", SITE, "--json")
    assert result.returncode == 2 and json.loads(result.stdout)["error"] == "error.verifier"
