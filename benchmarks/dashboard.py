"""The dashboard at fleet scale: 1,000 sites and one year of nightly drills (365,000 signed
reports, generated once and cached), the fleet board and a site page rendered through
Streamlit's AppTest (the server side of a page: reading, computing, building every element).

Each page is measured in a fresh process, so the first render pays every cold cost (imports
excepted: they are paid once per server, not per page); peak memory is that process's
maximum RSS.

    python -m benchmarks.dashboard [--sites 1000] [--days 365]
"""

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml

from benchmarks.results import record

CACHE = Path.home() / ".cache" / "restore-drill" / "bench-dashboard"
APP = Path(__file__).parents[1] / "dashboard" / "app.py"
SITE_PAGE = Path(__file__).parents[1] / "dashboard" / "views" / "site.py"


def generate(directory: Path, sites: int, days: int) -> float:
    """Catalog, users and histories under `directory`; seconds taken (0 if already there)."""
    from drills.access import hash_password
    from drills.catalog import load_catalog
    from drills.demo.history import write_history
    from drills.reports import keys
    from drills.reports.report import REPORT_FORMAT

    done = directory / "complete"
    made = f"{sites} {days} format {REPORT_FORMAT}"  # reports of an older format are made again
    if done.exists() and done.read_text() == made:
        return 0.0
    started = time.perf_counter()
    subprocess.run(["rm", "-rf", str(directory)], check=True)
    directory.mkdir(parents=True)
    entry = {"tenant": "t", "source": {"type": "local", "path": "b"}, "decrypt": {"identity_env": "X"},
             "engine": {"type": "postgres"}, "targets": {"rto": "30m", "rpo": "26h"}}
    catalog_path = directory / "catalog.yaml"
    catalog_path.write_text(yaml.safe_dump({"evidence": "evidence/", "signing_key": "keys/signing.ed25519", "sites": [
        {**entry, "id": f"site-{n:04d}", "name": f"Pharmacie {n:04d}", "tenant": f"tenant-{n % 10}"}
        for n in range(sites)]}))
    (directory / "users.yaml").write_text(yaml.safe_dump({"users": [
        {"name": "admin", "role": "admin", "password": hash_password("benchmark-password")}]}))
    keys.init(directory / "keys" / "signing.ed25519")
    private = keys.load_private(directory / "keys" / "signing.ed25519")
    catalog = load_catalog(catalog_path)
    end = datetime.now(timezone.utc).replace(hour=2, minute=0) - timedelta(days=1)
    for site in catalog.sites:
        write_history(catalog.evidence, site, private, days=days, end=end)
    done.write_text(made)
    return time.perf_counter() - started


def measure_in_child(directory: Path, page: str) -> dict:
    """Render `page` (fleet | site) once in a fresh process: seconds and peak RSS."""
    env = {**os.environ, "DRILL_CATALOG": str(directory / "catalog.yaml"), "DRILL_USERS": str(directory / "users.yaml")}
    result = subprocess.run([sys.executable, "-m", "benchmarks.dashboard", "--child", page], env=env,
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def child(page: str) -> None:
    import resource

    import streamlit  # noqa: F401  (imports are paid once per server)
    from streamlit.testing.v1 import AppTest

    from dashboard.session import USER_KEY

    at = AppTest.from_file(str(APP), default_timeout=300)
    at.session_state[USER_KEY] = "admin"
    started = time.perf_counter()
    at.run()
    if page == "site":
        at.query_params["site"] = "site-0500"
        started = time.perf_counter()  # the site page alone, the fleet board being the landing page
        at.switch_page(str(SITE_PAGE)).run()
    seconds = time.perf_counter() - started
    assert not at.exception, at.exception
    rows = len(at.dataframe[0].value) if at.dataframe else 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mib": peak, "rows": rows}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sites", type=int, default=1000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--child", choices=["fleet", "site"])
    arguments = parser.parse_args()
    if arguments.child:
        return child(arguments.child)
    directory = CACHE / f"{arguments.sites}x{arguments.days}"
    generation = generate(directory, arguments.sites, arguments.days)
    fleet = [measure_in_child(directory, "fleet") for _ in range(3)]
    site = [measure_in_child(directory, "site") for _ in range(3)]
    reports = arguments.sites * arguments.days
    rows = [
        f"| page ({arguments.sites:,} sites, {reports:,} reports) | first render, best of 3 | worst of 3 "
        f"| peak RSS of the process |",
        "|---|---|---|---|",
        f"| fleet board ({fleet[0]['rows']:,} rows) | {min(r['seconds'] for r in fleet):.2f} s "
        f"| {max(r['seconds'] for r in fleet):.2f} s | {max(r['peak_mib'] for r in fleet):.0f} MiB |",
        f"| site page ({arguments.days} drills) | {min(r['seconds'] for r in site):.2f} s | {max(r['seconds'] for r in site):.2f} s "
        f"| {max(r['peak_mib'] for r in site):.0f} MiB |",
    ]
    notes = ("Server side, through AppTest, in a fresh process each time (Streamlit's imports excluded: a "
             "server pays them once). The fleet board reads the last 32 KiB of each site's index "
             "(drills.reports.index), never the reports themselves, so its memory does not grow with the "
             "years of history; a site page reads that site's index only." +
             (f" Generating the history took {generation:.0f} s." if generation else ""))
    record("Dashboard at fleet scale", "python -m benchmarks.dashboard", rows, notes)


if __name__ == "__main__":
    main()
