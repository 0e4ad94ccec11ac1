"""`drill check`, `drill sites`, `drill schema`: the catalog."""

from drills.commands.common import catalog_of
from drills.commands.output import emit, table


def register(add) -> None:
    add("check", check, "validate the catalog and report every problem with its line")
    add("sites", sites, "list the catalog's sites")
    add("schema", schema, "print the catalog's documentation (every option, with examples)")


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
    from drills.catalog.docs import render

    print(render())
    return 0
