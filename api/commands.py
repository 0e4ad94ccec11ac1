"""`drill api`, plugged into `drill`: the HTTP API (uvicorn) on loopback by default."""

from pathlib import Path

from drills.catalog import load_catalog
from drills.commands.common import catalog_path_of
from drills.tokens import TokenFile, tokens_path


def register(add) -> None:
    command = add("api", command_api, "serve the HTTP API and the status badges for the catalog's sites", json=False)
    command.add_argument("--tokens", help="the tokens file (default: $DRILL_TOKENS, else tokens.json beside "
                                          "the users file: --users, $DRILL_USERS, ./users.yaml)")
    command.add_argument("--users", help="the users file, to find the tokens file beside it")
    command.add_argument("--address", default="127.0.0.1", help="listen address (default: loopback only)")
    command.add_argument("--port", type=int, default=8502)


def command_api(arguments) -> int:
    import uvicorn

    from api.app import create_app

    catalog = catalog_path_of(arguments).resolve()
    tokens = Path(arguments.tokens or tokens_path(arguments.users)).resolve()
    load_catalog(catalog), TokenFile(tokens).entries()  # refuse to start on a bad file: exit 3 with the problem
    print(f"api: http://{arguments.address}:{arguments.port}  (catalog {catalog}, tokens {tokens})", flush=True)
    # No access log: a badge's address holds its token; the audit journal records each request without it.
    uvicorn.run(create_app(catalog, tokens), host=arguments.address, port=arguments.port, access_log=False,
                log_level="warning", server_header=False)
    return 0
