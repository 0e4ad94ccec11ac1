"""The queue side's commands, plugged into `drill`: worker, scheduler, enqueue, reap."""

import signal
import threading

from drills.catalog import load_catalog
from drills.pipeline import new_drill_id, now_utc


def register(add) -> None:
    worker = add("worker", command_worker, "run drills from the queue (Redis: $DRILL_REDIS_URL)")
    worker.add_argument("--threads", type=int, help="drills at once in this process (default: $DRILL_WORKER_THREADS)")
    add("scheduler", command_scheduler, "enqueue drills from the sites' schedules (safe with several replicas)")
    enqueue = add("enqueue", command_enqueue, "drill now: put drills ahead of scheduled ones")
    enqueue.add_argument("sites", nargs="*", metavar="SITE")
    enqueue.add_argument("--all", action="store_true")
    add("reap", command_reap, "remove restore containers and socket directories of dead drills")


def stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stop.set())
    return stop


def command_worker(arguments) -> int:
    from dramatiq import Worker

    from drills.runtimes.docker import DockerRuntime
    from workers import actors, logs, metrics, reaper
    from workers.broker import broker, redis_client, settings

    logs.configure()
    client, runtime = redis_client(), DockerRuntime()
    if settings.metrics_port:
        metrics.serve(settings.metrics_port, lambda: queue_depths(client))
    reaper.reap_safely(runtime, client, settings.reap_grace_seconds)
    worker = Worker(broker, worker_threads=arguments.threads or settings.threads, worker_timeout=1000)
    worker.start()
    stop = stop_on_signals()
    try:
        while not stop.wait(settings.reap_every_seconds):
            reaper.reap_safely(runtime, client, settings.reap_grace_seconds)
    finally:
        actors.STOPPING.set()  # drills interrupted from here on are re-queued
        actors.stop_running_drills()
        worker.stop(timeout=60_000)
    return 0


def queue_depths(client) -> dict[str, int]:
    from workers.actors import NOW_QUEUE, SCHEDULED_QUEUE

    return {queue: client.llen(f"restore-drill:{queue}") for queue in (SCHEDULED_QUEUE, NOW_QUEUE)}


def command_scheduler(arguments) -> int:
    from workers import actors, alerts, logs
    from workers.broker import redis_client, settings
    from workers.scheduler import Scheduler

    logs.configure()
    scheduler = Scheduler(settings, redis_client(), actors.enqueue, check_neglect=alerts.check_neglect)
    scheduler.run_forever(stop_on_signals())
    return 0


def command_enqueue(arguments) -> int:
    import json

    from workers import actors
    from workers.broker import settings

    catalog = load_catalog(arguments.catalog or settings.catalog)
    sites = catalog.sites if arguments.all else [catalog.site(site_id) for site_id in arguments.sites]
    sent = [{"site": site.id, "drill_id": actors.enqueue(site, new_drill_id(now_utc()), now=True).args[1]}
            for site in sites]
    print(json.dumps(sent, indent=2) if arguments.json else "\n".join(f"{s['site']}: {s['drill_id']} queued" for s in sent))
    return 0


def command_reap(arguments) -> int:
    from drills.runtimes.docker import DockerRuntime
    from workers import reaper
    from workers.broker import redis_client, settings

    removed = reaper.reap(DockerRuntime(), redis_client(), settings.reap_grace_seconds)
    print(f"{len(removed)} orphan(s) removed" + (f": {', '.join(removed)}" if removed else ""))
    return 0
