"""`drill init`, `drill check`, `drill sites`, `drill schema`: the catalog."""

import os
from pathlib import Path

from drills.commands.common import catalog_of, usage
from drills.commands.output import emit, table


def register(add) -> None:
    add("init", init, "write a commented starter catalog (--catalog, else ./catalog.yaml); never overwrites")
    add("check", check, "validate the catalog and report every problem with its line")
    add("sites", sites, "list the catalog's sites")
    schema_command = add("schema", schema, "print the catalog's documentation (every option, with examples)",
                         json=False)
    schema_command.add_argument("--json-schema", action="store_true",
                                help="print the catalog's JSON Schema instead, for editors' YAML plugins")


def init(arguments) -> int:
    from drills.catalog.starter import STARTER

    path = Path(arguments.catalog or os.environ.get("DRILL_CATALOG") or "catalog.yaml")
    try:
        with open(path, "x", encoding="utf-8") as catalog:  # "x": never over an existing catalog
            catalog.write(STARTER)
    except FileExistsError:
        raise usage(f"{path} exists: drill init never overwrites a catalog (give another with --catalog)") from None
    except OSError as error:
        raise usage(f"cannot write {path}: {error.strerror}") from None
    emit(arguments, {"catalog": str(path.resolve()), "written": True},
         f"{path}: starter catalog written; edit it, then `drill check --catalog {path}` and `drill keys init`")
    return 0


def check(arguments) -> int:
    catalog = catalog_of(arguments)
    emit(arguments, {"catalog": str(catalog.path), "sites": len(catalog.sites), "valid": True},
         f"{catalog.path}: valid, {len(catalog.sites)} site(s)")
    return 0


def sites(arguments) -> int:
    rows = [{"id": s.id, "name": s.name, "tenant": s.tenant, "engine": f"{s.engine.type}/{s.engine.format}",
             "schedule": s.schedule} for s in catalog_of(arguments).sites]
    emit(arguments, rows, table(rows))
    return 0


def schema(arguments) -> int:
    if arguments.json_schema:
        from drills.catalog.json_schema import render
    else:
        from drills.catalog.docs import render

    print(render(), end="" if arguments.json_schema else "\n")
    return 0
