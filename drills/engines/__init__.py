"""How each engine restores: one module per engine, each with the same functions.

    container_spec(site, drill_id, work_dir) -> ContainerSpec     (pure: unit-tested as data)
    wait_ready(runtime, container_id)                              until the container can restore
    restore(runtime, container_id, engine_settings, plaintext, ready)
                                                                   BackupProblem if it does not restore
    verify(work_dir, site, manifest, started_at, watchdog) -> (findings, freshness finding or None)
                                                                   the verifier's blocking calls stop
                                                                   when the drill's watchdog fires

The plaintext arrives as an iterator of chunks, already decrypted and decompressed. The work
dir (drills.workdir) is bind-mounted into the container: the server's socket, or the restored
files that the host then checks. `ready()` is wait_ready for the container being restored into
(a no-op if the caller waited already): restore calls it only once it needs the server, so
what does not (staging the dump) overlaps the server's start. `postgres` is the model.
"""

from drills.engines import files, mariadb, postgres, sqlite

ENGINES = {"postgres": postgres, "mariadb": mariadb, "sqlite": sqlite, "files": files}


def engine_for(site):
    return ENGINES[site.engine.type]
