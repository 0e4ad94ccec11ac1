"""Prometheus metrics of a worker process, served on 127.0.0.1:DRILL_METRICS_PORT when set."""

from contextlib import contextmanager

from prometheus_client import Counter, Gauge, Histogram, start_http_server

DRILLS = Counter("restore_drill_drills_total", "Drills finished, by outcome and reason", ["outcome", "reason"])
PHASE_SECONDS = Histogram("restore_drill_phase_seconds", "Seconds spent in each phase of a drill", ["phase"],
                          buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600))
RTO_SECONDS = Histogram("restore_drill_rto_seconds", "Measured RTO of drills that reached verified data",
                        buckets=(1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200))
RUNNING = Gauge("restore_drill_leases_held", "Drills running (site leases held) in this process")
QUEUE_DEPTH = Gauge("restore_drill_queue_depth", "Messages waiting, by queue", ["queue"])


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


def serve(port: int, queue_depths) -> None:
    """Serve /metrics on loopback; `queue_depths()` -> {queue: count} is read at each scrape."""
    for queue in ("drills", "drills-now"):
        QUEUE_DEPTH.labels(queue).set_function(lambda queue=queue: queue_depths().get(queue, 0))
    start_http_server(port, addr="127.0.0.1")
