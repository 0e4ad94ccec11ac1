"""The metrics the scheduler serves from the sites' indexes (scraped over HTTP on loopback), and
the monitoring files shipped in compose/monitoring: their shape, and that they name only metrics
the code serves (no Prometheus can be run here: promtool is the check where it can)."""

import json
import re
import urllib.request
from datetime import datetime

import pytest
import yaml
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from drills.catalog import load_catalog
from tests.helpers import PROJECT, site_entry, write_catalog
from workers import metrics

MONITORING = PROJECT / "compose" / "monitoring"


def summary(sequence: int, started_at: str, outcome: str, chosen: bool = False) -> str:
    return json.dumps({"sequence": sequence, "drill_id": f"d{sequence}", "outcome": outcome, "started_at": started_at,
                       "reason": None if outcome == "pass" else "restore.failed", "chosen": chosen}) + "\n"


def epoch(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def scrape(port: int) -> dict:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


@pytest.fixture
def fleet(tmp_path):
    sites = [site_entry(site_id, tmp_path, tmp_path / "k") for site_id in ("port", "gare", "neuve")]
    catalog = load_catalog(write_catalog(tmp_path, sites))
    (tmp_path / "evidence" / "port").mkdir(parents=True)
    (tmp_path / "evidence" / "port" / "index.jsonl").write_text(
        summary(1, "2026-11-30T02:00:00+00:00", "pass") + summary(2, "2026-12-01T02:00:00+00:00", "fail")
        + summary(3, "2026-12-01T09:00:00+00:00", "pass", chosen=True) + '{"sequence": 4, "outc')  # a cut line
    (tmp_path / "evidence" / "gare").mkdir()
    (tmp_path / "evidence" / "gare" / "index.jsonl").write_text(summary(1, "2026-12-01T03:00:00+00:00", "error"))
    depths = {"drills": 7}
    served = metrics.serve(0, "127.0.0.1", metrics.Fleet(lambda: catalog, lambda: depths), CollectorRegistry())
    yield served.server_address[1], tmp_path / "evidence", depths
    served.shutdown()


def test_the_scheduler_serves_each_sites_last_drill_and_last_success_read_from_its_index(fleet):
    port, _, _ = fleet
    found = scrape(port)
    drilled, passed = "restore_drill_last_drill_timestamp_seconds", "restore_drill_last_success_timestamp_seconds"
    assert found[(drilled, (("site", "port"),))] == epoch("2026-12-01T02:00:00+00:00"), "a backup chosen by name is not"
    assert found[(passed, (("site", "port"),))] == epoch("2026-11-30T02:00:00+00:00")
    assert found[(drilled, (("site", "gare"),))] == epoch("2026-12-01T03:00:00+00:00")
    assert found[(passed, (("site", "gare"),))] == 0 and found[(passed, (("site", "neuve"),))] == 0
    assert found[("restore_drill_queue_depth", (("queue", "drills"),))] == 7
    assert found[("restore_drill_queue_depth", (("queue", "drills-now"),))] == 0


def test_the_sites_times_are_read_again_at_each_scrape(fleet):
    port, evidence, depths = fleet
    with open(evidence / "gare" / "index.jsonl", "a") as index:
        index.write(summary(2, "2026-12-02T03:00:00+00:00", "pass"))
    depths["drills-now"] = 2
    found = scrape(port)
    assert found[("restore_drill_last_success_timestamp_seconds", (("site", "gare"),))] == \
        epoch("2026-12-02T03:00:00+00:00")
    assert found[("restore_drill_queue_depth", (("queue", "drills-now"),))] == 2


def test_a_pass_older_than_the_indexs_tail_is_still_found(tmp_path):
    lines = [summary(1, "2026-01-01T02:00:00+00:00", "pass")]
    lines += [summary(n, f"2026-02-01T02:{n % 60:02d}:00+00:00", "fail") for n in range(2, 400)]
    (tmp_path / "index.jsonl").write_text("".join(lines))
    from drills.reports import index

    assert index.last_times(tmp_path)[1] == datetime.fromisoformat("2026-01-01T02:00:00+00:00")


def served_metric_names() -> set[str]:
    names = {"restore_drill_drills_total", "restore_drill_leases_held"}
    names |= {f"{base}_{suffix}" for base in ("restore_drill_phase_seconds", "restore_drill_rto_seconds")
              for suffix in ("bucket", "sum", "count")}
    return names | {family.name for family in metrics.families()}


def test_the_alert_rules_have_prometheus_shape_and_name_only_served_metrics():
    document = yaml.safe_load((MONITORING / "restore-drill-rules.yml").read_text())
    assert set(document) == {"groups"}
    rules = [rule for group in document["groups"] for rule in group["rules"]]
    assert all(set(group) == {"name", "rules"} for group in document["groups"])
    assert {rule["alert"] for rule in rules} >= {"RestoreDrillNoSuccess", "RestoreDrillQueueBacklog"}
    for rule in rules:
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"} and isinstance(rule["expr"], str)
        assert rule["labels"]["severity"] in ("critical", "warning") and rule["annotations"]["summary"]
        assert re.fullmatch(r"\d+[smhd]", rule.get("for", "0s"))
        assert set(re.findall(r"restore_drill_\w+", rule["expr"])) <= served_metric_names(), rule["alert"]
        assert rule["expr"].count("(") == rule["expr"].count(")")


def test_the_scrape_config_reads_the_rules_and_the_ports_the_compose_file_sets():
    config = yaml.safe_load((MONITORING / "prometheus.yml").read_text())
    assert config["rule_files"] == ["/etc/prometheus/restore-drill-rules.yml"]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["restore-drill-workers"]["dns_sd_configs"][0]["port"] == 9464
    assert jobs["restore-drill-scheduler"]["static_configs"][0]["targets"] == ["scheduler:9465"]
    compose = (PROJECT / "compose" / "docker-compose.yml").read_text()
    assert "${WORKER_METRICS_PORT:-9464}" in compose and "${SCHEDULER_METRICS_PORT:-9465}" in compose
    monitoring = yaml.safe_load((PROJECT / "compose" / "docker-compose.monitoring.yml").read_text())
    mounted = {volume.split(":")[0] for volume in monitoring["services"]["prometheus"]["volumes"]}
    assert {"./monitoring/prometheus.yml", "./monitoring/restore-drill-rules.yml"} <= mounted
    assert all(port.startswith("127.0.0.1:") for port in monitoring["services"]["prometheus"]["ports"])


def test_the_grafana_dashboard_queries_only_served_metrics():
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    expressions = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    used = {name for expr in expressions for name in re.findall(r"restore_drill_\w+", expr)}
    assert used <= served_metric_names() and {"restore_drill_last_success_timestamp_seconds",
                                              "restore_drill_queue_depth"} <= used
    assert len({panel["id"] for panel in dashboard["panels"]}) == len(dashboard["panels"])
