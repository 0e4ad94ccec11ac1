"""Load a catalog file: YAML with line numbers, the schema, then the rules across fields."""

from collections import Counter
from dataclasses import replace
from pathlib import Path

import yaml

from drills.catalog import model
from drills.catalog.include import SITE_FILES, with_included_sites
from drills.catalog.schema import CATALOG
from drills.engines import ENGINES
from drills.engines.plan import Tree
from drills.options import Context
from drills.errors import ConfigError


def load_catalog(path: str | Path) -> model.Catalog:
    """The validated catalog; raises ConfigError listing every problem with its line."""
    values = load_validated(path, CATALOG, "catalog", across_fields=check_across_fields,
                            hint="give the catalog with --catalog or DRILL_CATALOG",
                            prepare=lambda document, ctx: with_included_sites(document, ctx, parse_with_lines))
    folder = Path(path).resolve().parent
    included = tuple(folder / entry for entry in values.pop("include"))  # their sites are in `sites` now
    return model.Catalog(path=Path(path).resolve(), included=included, **with_tenants_resolved(values))


def with_tenants_resolved(values: dict) -> dict:
    """Each site's hosting laid over its tenant's (a section that says nothing is None); its locale
    its own, else its tenant's, else French."""
    tenants, replica = values["tenants"], values["evidence_replica"]
    sites = [replace(site, hosting=site.hosting.over(getattr(tenants.get(site.tenant), "hosting", None)),
                     locale=site.locale or getattr(tenants.get(site.tenant), "locale", None) or model.LOCALES[0])
             for site in values["sites"]]
    return {**values, "sites": sites,
            "evidence_replica": replica and replace(replica, hosting=replica.hosting.over(None))}


def load_validated(path: str | Path, schema, what: str, across_fields=None, hint: str = "", prepare=None):
    """A YAML file converted by `schema`; ConfigError listing every problem with its file and line.
    `prepare(document, ctx)` completes the document first (the catalog's include:);
    `across_fields(values, ctx)` checks what no single option can, once every option is valid."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"cannot read {what} {path}: {error.strerror}", hint=hint) from None
    document, lines = parse_with_lines(text, path)
    ctx = Context(base_dir=path.parent.resolve(), lines=lines, source=path)
    if prepare:
        prepare(document, ctx)
    values = schema.convert(document, (), ctx)
    if not ctx.problems and across_fields:
        across_fields(values, ctx)
    if ctx.problems:
        listing = "\n".join(f"  {problem}" for problem in ctx.problems)
        raise ConfigError(f"{len(ctx.problems)} problem(s) in the {what}:\n{listing}",
                          hint=f"fix them{' and run `drill check`' if what == 'catalog' else ''}")
    return values


class CatalogFile:
    """A catalog file read again only when it changed (its modification time, or its included
    directories' and files'), for the long-running processes that consult it on every drill or tick."""

    def __init__(self, path: str | Path):
        self.path, self.mtime, self.catalog = Path(path), None, None

    def current(self) -> model.Catalog:
        if self.modified() != self.mtime:
            self.catalog = load_catalog(self.path)
            self.mtime = self.modified()
        return self.catalog

    def modified(self) -> tuple:
        paths = [self.path, *(self.catalog.included if self.catalog else ())]
        paths += [file for folder in paths[1:] if folder.is_dir() for pattern in SITE_FILES
                  for file in sorted(folder.glob(pattern))]
        return tuple(path.stat().st_mtime_ns if path.exists() else None for path in paths)


def check_across_fields(values: dict, ctx: Context) -> None:
    """Rules no single option can check, run once every option is valid."""
    sites = values["sites"]
    for site_id, count in Counter(site.id for site in sites).items():
        if count > 1:
            ctx.problem(("sites",), f"site id {site_id!r} is used {count} times")
    for index, site in enumerate(sites):
        if site.source.pick == "random" and not site.source.retention:
            ctx.problem(("sites", index, "source", "pick"), "pick: random needs source.retention (e.g. 30d)")
        if site.source.type == "sftp" and getattr(site.engine, "format", None) in ("pgbackrest", "basebackup"):
            ctx.problem(("sites", index, "source", "type"), f"format {site.engine.format} reads a local path or S3 "
                                                            "(its repository or WAL archive), not sftp")
        if isinstance(ENGINES[site.engine.type].reads, Tree):
            for name in ("tables", "sql", "newest_record"):
                if getattr(site.checks, name):
                    ctx.problem(("sites", index, "checks", name),
                                f"checks.{name} is for databases; a {site.engine.type} archive is checked against "
                                "its manifest")


def parse_with_lines(text: str, path: Path):
    """The YAML document as plain Python values, and the line of every key path in it.
    A key written twice in one mapping is refused with both lines (YAML would keep the last)."""
    lines: dict[tuple, int] = {}
    duplicates: list[str] = []
    try:
        document = to_python(yaml.compose(text, Loader=YAML_LOADER), (), lines, duplicates)
    except yaml.YAMLError as error:  # from the parser, or a scalar no safe type fits (`=`, `!!python/...`)
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(f"{where}: not valid YAML: {getattr(error, 'problem', error)}") from None
    if duplicates:
        listing = "\n".join(f"  {path}:{duplicate}" for duplicate in duplicates)
        raise ConfigError(f"{len(duplicates)} key(s) written twice in {path}:\n{listing}",
                          hint="keep one of each: YAML would silently take the last")
    return document, lines


def to_python(node, at: tuple, lines: dict, duplicates: list):
    if node is None:
        return None
    lines[at] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result = {}
        for key_node, value_node in node.value:
            key = key_node.value
            if key in result:
                where = ".".join(str(part) for part in at + (key,))
                duplicates.append(f"{key_node.start_mark.line + 1}: {where}: key {key!r} written twice "
                                  f"(lines {lines[at + (key,)]} and {key_node.start_mark.line + 1})")
            lines[at + (key,)] = key_node.start_mark.line + 1
            result[key] = to_python(value_node, at + (key,), lines, duplicates)
            lines[at + (key,)] = key_node.start_mark.line + 1  # the key's line, not its value's
        return result
    if isinstance(node, yaml.SequenceNode):
        return [to_python(item, at + (index,), lines, duplicates) for index, item in enumerate(node.value)]
    return SCALARS.construct_object(node)


YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when built with it: 10x faster
SCALARS = yaml.SafeLoader("")  # only used to give scalars their YAML types (int, bool, str...)
