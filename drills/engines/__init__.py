"""How each database engine restores. `postgres` is the engine; its module is the model:

    container_spec(site, drill_id, socket_dir) -> ContainerSpec   (pure)
    restore_command(engine_settings) -> list[str]                    (pure)
    wait_ready(runtime, container_id)
    restore(runtime, container_id, engine_settings, plaintext_chunks)
    attach_dsn(socket_dir) -> str                                    DuckDB's read-only attach
"""
