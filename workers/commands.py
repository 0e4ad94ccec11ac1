"""The queue side's commands, plugged into `drill`: worker, scheduler, enqueue, reap, prepare-host."""

import json
import logging
import os
import signal
import sys
import threading
import time

from drills import workdir
from drills.catalog import load_catalog
from drills.errors import ConfigError, InfrastructureError
from drills.reports.report import new_drill_id, now_utc
from drills import reasons

RUN_DIR_WAIT_SECONDS = 120


def register(add) -> None:
    worker = add("worker", command_worker, "run drills from the queue (Redis: $DRILL_REDIS_URL)", json=False)
    worker.add_argument("--threads", type=int, help="drills at once in this process (default: $DRILL_WORKER_THREADS)")
    add("scheduler", command_scheduler, "enqueue drills from the sites' schedules (safe with several replicas)",
        json=False)
    enqueue = add("enqueue", command_enqueue, "drill now: put drills ahead of scheduled ones")
    enqueue.add_argument("sites", nargs="*", metavar="SITE")
    enqueue.add_argument("--all", action="store_true")
    enqueue.add_argument("--backup", metavar="NAME", help="drill this backup of the site (as `drill backups` lists it)")
    enqueue.add_argument("--restorable", action="store_true",
                         help="run the recovery-point finder (drill restorable) on a worker instead of a drill")
    add("reap", command_reap, "remove restore containers and socket directories of dead drills", json=False)
    add("prepare-host", command_prepare_host, "as root: make the run directory ($DRILL_RUN_DIR) private to the "
        "restore containers' user (uid 999, mode 0700), as the compose file's init service does at every start")


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
    wait_for_run_dir(RUN_DIR_WAIT_SECONDS)
    client, runtime = redis_client(), DockerRuntime()
    if settings.metrics_port:
        metrics.serve(settings.metrics_port, settings.metrics_address)
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


def wait_for_run_dir(timeout_seconds: float) -> None:
    """Wait until this process can make work directories: at a boot, Docker restarts the worker
    and the init service that prepares the run directory in no set order."""
    deadline = time.monotonic() + timeout_seconds
    if not workdir.run_dir_usable():
        logging.getLogger("restore_drill.worker").warning(
            "waiting for the run directory", extra={"run_dir": str(workdir.run_dir()), "uid": os.getuid()})
    while not workdir.run_dir_usable():
        if time.monotonic() > deadline:
            raise InfrastructureError(reasons.ERROR_RUN_DIR, f"uid {os.getuid()} cannot write in {workdir.run_dir()}",
                                      hint="run `drill prepare-host` as root first (the compose file's init does)")
        time.sleep(1)


def queue_depths(client) -> dict[str, int]:
    from workers.actors import NOW_QUEUE, SCHEDULED_QUEUE

    return {queue: client.llen(f"restore-drill:{queue}") for queue in (SCHEDULED_QUEUE, NOW_QUEUE)}


def command_scheduler(arguments) -> int:
    from drills.catalog import CatalogFile
    from workers import actors, alerts, logs, metrics
    from workers.broker import redis_client, settings
    from workers.scheduler import Scheduler

    logs.configure()
    if settings.metrics_port:  # the fleet's metrics, once: the queues, the sites' last drills
        metrics.serve(settings.metrics_port, settings.metrics_address,
                      metrics.Fleet(CatalogFile(settings.catalog).current, lambda: queue_depths(redis_client())))
    scheduler = Scheduler(settings, redis_client(), actors.enqueue, check_neglect=alerts.check_neglect,
                          report_lost=alerts.report_lost, anchor=actors.anchor_journal.send)
    scheduler.run_forever(stop_on_signals())
    return 0


def command_enqueue(arguments) -> int:
    from workers import actors
    from workers.broker import settings

    catalog = load_catalog(arguments.catalog or settings.catalog)
    sites = catalog.sites if arguments.all else [catalog.site(site_id) for site_id in arguments.sites]
    if (arguments.backup is not None or arguments.restorable) and len(sites) != 1:
        raise ConfigError("--backup and --restorable name one site", code=reasons.CONFIG_USAGE)
    send = (lambda site, request_id: actors.enqueue_finder(site, request_id)) if arguments.restorable else \
        (lambda site, drill_id: actors.enqueue(site, drill_id, now=True, backup_name=arguments.backup))
    sent = [{"site": site.id, "drill_id": send(site, new_drill_id(now_utc())).args[1]} for site in sites]
    print(json.dumps(sent, indent=2) if arguments.json else "\n".join(f"{s['site']}: {s['drill_id']} queued" for s in sent))
    return 0


def command_reap(arguments) -> int:
    from drills.runtimes.docker import DockerRuntime
    from workers import reaper
    from workers.broker import redis_client, settings

    removed = reaper.reap(DockerRuntime(), redis_client(), settings.reap_grace_seconds)
    print(f"{len(removed)} orphan(s) removed" + (f": {', '.join(removed)}" if removed else ""))
    return 0


def command_prepare_host(arguments) -> int:
    base = workdir.run_dir()
    try:
        workdir.prepare_run_dir()
    except OSError as error:
        raise ConfigError(f"cannot prepare the run directory {base}: {error.strerror}", code=reasons.CONFIG_RUN_DIR,
                          hint="run `drill prepare-host` as root") from None
    in_memory = workdir.memory_filesystem(base)
    if arguments.json:
        print(json.dumps({"run_dir": str(base), "uid": workdir.CONTAINER_UID, "mode": "0700", "in_memory": in_memory}))
    else:
        print(f"run directory {base}: owner uid {workdir.CONTAINER_UID}, mode 0700")
    if not in_memory:
        print(f"warning: {base} is not on a memory filesystem: restored data would reach the disk "
              "(point DRILL_RUN_DIR at tmpfs, such as /dev/shm)", file=sys.stderr)
    return 0
