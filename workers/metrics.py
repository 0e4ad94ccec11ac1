"""Prometheus metrics, served on DRILL_METRICS_ADDRESS:DRILL_METRICS_PORT (127.0.0.1 by default)
when the port is set.

Every worker serves its own drills: counts by outcome and reason, phase and RTO histograms, the
leases it holds. What belongs to the fleet is served once, by the scheduler (`drill scheduler`),
whichever number of workers runs: the depth of the queues, and per site the start time of its
newest drill and of its newest passing one, read from the sites' indexes at each scrape (right
after a restart, and the same whichever worker ran the drills).
"""

import logging
from contextlib import contextmanager

import redis
from prometheus_client import Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import REGISTRY, GaugeMetricFamily

from drills.reports import index

DRILLS = Counter("restore_drill_drills_total", "Drills finished, by outcome and reason", ["outcome", "reason"])
PHASE_SECONDS = Histogram("restore_drill_phase_seconds", "Seconds spent in each phase of a drill", ["phase"],
                          buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600))
RTO_SECONDS = Histogram("restore_drill_rto_seconds", "Measured RTO of drills that reached verified data",
                        buckets=(1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200))
RUNNING = Gauge("restore_drill_leases_held", "Drills running (site leases held) in this process")
QUEUES = ("drills", "drills-now")
log = logging.getLogger("restore_drill.metrics")


def record(report: dict) -> None:
    DRILLS.labels(report["outcome"], report["reason"] or "").inc()
    for phase, seconds in report["phases"].items():
        PHASE_SECONDS.labels(phase).observe(seconds)
    if report["rto_seconds"] is not None:
        RTO_SECONDS.observe(report["rto_seconds"])


@contextmanager
def drill_running():
    RUNNING.inc()
    try:
        yield
    finally:
        RUNNING.dec()


class Fleet:
    """The scheduler's metrics: `queue_depths()` -> {queue: count}, and the catalog's sites' times
    from their indexes (`catalog()` -> the current catalog), all read at each scrape. A site never
    drilled, or never passed, shows 0 (the epoch): an alert rule on the age fires for it too."""

    def __init__(self, catalog, queue_depths):
        self.catalog, self.queue_depths = catalog, queue_depths

    def describe(self):
        return families()

    def collect(self):
        depth, drilled, passed = families()
        try:
            depths = self.queue_depths()
        except redis.RedisError:
            log.warning("queue depth not read: Redis unreachable")
        else:
            for queue in QUEUES:
                depth.add_metric([queue], depths.get(queue, 0))
        catalog = self.catalog()
        for site in catalog.sites:
            last_drill, last_pass = index.last_times(catalog.evidence / site.id)
            drilled.add_metric([site.id], last_drill.timestamp() if last_drill else 0)
            passed.add_metric([site.id], last_pass.timestamp() if last_pass else 0)
        return [depth, drilled, passed]


def families() -> list[GaugeMetricFamily]:
    return [GaugeMetricFamily("restore_drill_queue_depth", "Messages waiting, by queue", labels=["queue"]),
            GaugeMetricFamily("restore_drill_last_drill_timestamp_seconds",
                              "Start of the site's newest drill of its newest backup, any outcome (Unix time)",
                              labels=["site"]),
            GaugeMetricFamily("restore_drill_last_success_timestamp_seconds",
                              "Start of the site's newest passing drill of its newest backup (Unix time)",
                              labels=["site"])]


def serve(port: int, address: str = "127.0.0.1", fleet: Fleet | None = None, registry=REGISTRY):
    """Serve /metrics on `address:port` (the scheduler adds the fleet's); the HTTP server."""
    if fleet is not None:
        registry.register(fleet)
    server, _ = start_http_server(port, addr=address, registry=registry)
    return server
