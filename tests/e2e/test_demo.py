"""The README's first command, end to end: the demo's three pharmacies end as intended and
their reports verify."""

import json
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).parents[2]


def drill(*arguments):
    return subprocess.run([sys.executable, "-m", "drills.cli", *arguments], capture_output=True, text=True,
                          timeout=600, cwd=PROJECT)


def test_the_demo_drills_one_green_one_corrupt_and_one_stale_pharmacy(tmp_path, docker_engine, age_cli):
    result = drill("demo", "--dir", str(tmp_path / "demo"), "--patients", "200")
    assert result.returncode == 0, result.stdout + result.stderr
    catalog = tmp_path / "demo" / "catalog.yaml"
    outcomes = {}
    for site in ("pharmacie-du-port", "pharmacie-des-halles", "pharmacie-de-la-gare"):
        history = json.loads(drill("history", site, "--catalog", str(catalog), "--json").stdout)
        outcomes[site] = (history[-1]["outcome"], history[-1]["reason"])
        (report,) = (tmp_path / "demo" / "evidence" / site).glob("*.json")
        assert drill("verify-report", str(report), "--catalog", str(catalog)).returncode == 0
    assert outcomes == {"pharmacie-du-port": ("PASS", "-"),
                        "pharmacie-des-halles": ("FAIL", "decrypt.corrupt"),
                        "pharmacie-de-la-gare": ("FAIL", "backup.stale")}
    assert "pharmacie-du-port     PASS" in result.stdout
