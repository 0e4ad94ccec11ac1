"""A small vocabulary for declaring a configuration schema and validating YAML against it.

Each option is declared once with a type, a one-line doc and an example; validation walks
the document, collects every problem with its location (never stops at the first), and
converts values (durations to seconds, paths made absolute, mappings to dataclasses).
"""

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "y": 365 * 86400}
SIZE_UNITS = {"k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


@dataclass
class Context:
    """Where validation stands: the catalog's folder, line numbers by path, problems found."""

    base_dir: Path
    lines: dict[tuple, int]
    problems: list[str] = field(default_factory=list)
    source: Path | None = None  # the file read: problems then say "FILE:LINE", not "line LINE"
    origins: dict[tuple, Path] = field(default_factory=dict)  # parts read from other files (include:)

    def problem(self, path: tuple, message: str) -> None:
        line = self.lines.get(path) or self.lines.get(path[:-1]) or 0
        where = ".".join(str(part) for part in path) or "(top)"
        source = next((file for prefix, file in self.origins.items() if path[:len(prefix)] == prefix), self.source)
        self.problems.append(f"{source}:{line}: {where}: {message}" if source else f"line {line}: {where}: {message}")


class Option:
    """One value in the schema: how to check and convert it, and how to document it."""

    kind = "value"

    def __init__(self, doc: str, example: Any = None, default: Any = None, required: bool = False):
        self.doc, self.example, self.default, self.required = doc, example, default, required

    def convert(self, value: Any, path: tuple, ctx: Context) -> Any:
        return value

    def absent(self, path: tuple, ctx: Context) -> Any:
        """The value of an optional option left out."""
        return self.default


class Text(Option):
    kind = "text"

    def __init__(self, doc: str, pattern: str | None = None, **kw):
        super().__init__(doc, **kw)
        self.pattern = re.compile(pattern) if pattern else None

    def convert(self, value, path, ctx):
        if not isinstance(value, str) or not value:
            return ctx.problem(path, f"expected a non-empty string, got {value!r}")
        if self.pattern and not self.pattern.fullmatch(value):
            return ctx.problem(path, f"{value!r} does not match {self.pattern.pattern}")
        return value


class Number(Option):
    kind = "integer"

    def __init__(self, doc: str, minimum: int | None = None, **kw):
        super().__init__(doc, **kw)
        self.minimum = minimum

    def convert(self, value, path, ctx):
        if not isinstance(value, int) or isinstance(value, bool):
            return ctx.problem(path, f"expected an integer, got {value!r}")
        if self.minimum is not None and value < self.minimum:
            return ctx.problem(path, f"must be at least {self.minimum}, got {value}")
        return value


class Flag(Option):
    kind = "true or false"

    def convert(self, value, path, ctx):
        if not isinstance(value, bool):
            return ctx.problem(path, f"expected true or false, got {value!r}")
        return value


class Choice(Option):
    kind = "one of"

    def __init__(self, doc: str, choices: tuple[str, ...], **kw):
        super().__init__(doc, **kw)
        self.choices = choices
        self.kind = "one of " + ", ".join(choices)

    def convert(self, value, path, ctx):
        if value not in self.choices:
            return ctx.problem(path, f"{value!r} is not one of {', '.join(self.choices)}")
        return value


def parse_amount(text: str, units: dict[str, int]) -> int | None:
    """'1h30m' -> 5400 with time units; '2g' -> 2147483648 with size units; None if malformed."""
    parts = re.findall(r"(\d+)\s*([a-z])", str(text).strip().lower())
    rebuilt = "".join(number + unit for number, unit in parts)
    if not parts or rebuilt != re.sub(r"\s+", "", str(text).lower()):
        return None
    if any(unit not in units for _, unit in parts):
        return None
    return sum(int(number) * units[unit] for number, unit in parts)


class Amount(Option):
    """A positive amount written with units: a duration ('1h30m') or a size ('512m')."""

    def __init__(self, doc: str, units: dict[str, int], kind: str, examples: str, **kw):
        super().__init__(doc, **kw)
        self.units, self.kind, self.examples = units, kind, examples

    def convert(self, value, path, ctx):
        amount = parse_amount(value, self.units) if isinstance(value, str) else None
        if not amount:
            return ctx.problem(path, f"expected a {self.kind.split()[0]} such as {self.examples}, got {value!r}")
        return amount


def Duration(doc: str, **kw) -> Amount:
    return Amount(doc, UNITS, "duration (s, m, h, d, y)", "30m, 26h or 1h30m", **kw)


def Size(doc: str, **kw) -> Amount:
    return Amount(doc, SIZE_UNITS, "size (k, m, g, t)", "512m or 2g", **kw)


class FilePath(Option):
    """A path; relative paths are taken from the catalog's folder."""

    kind = "path"

    def convert(self, value, path, ctx):
        if not isinstance(value, str) or not value:
            return ctx.problem(path, f"expected a path, got {value!r}")
        return (ctx.base_dir / value).resolve()


class Custom(Option):
    """A value checked by a function that returns the converted value or raises ValueError."""

    def __init__(self, doc: str, check: Callable[[Any], Any], kind: str, **kw):
        super().__init__(doc, **kw)
        self.check, self.kind = check, kind

    def convert(self, value, path, ctx):
        try:
            return self.check(value)
        except ValueError as error:
            return ctx.problem(path, str(error))


class Record(Option):
    """A mapping with known keys; unknown keys are refused. Built into `build(**values)`."""

    kind = "mapping"

    def __init__(self, doc: str, fields: dict[str, Option], build: Callable = dict,
                 exactly_one_of: tuple[str, ...] = (), **kw):
        super().__init__(doc, **kw)
        self.fields, self.build, self.exactly_one_of = fields, build, exactly_one_of

    def convert(self, value, path, ctx):
        if value is None and not self.required:
            value = {}
        if not isinstance(value, dict):
            return ctx.problem(path, f"expected a mapping, got {value!r}")
        problems_before = len(ctx.problems)
        for key in value:
            if key not in self.fields:
                known = ", ".join(self.fields)
                ctx.problem(path + (key,), f"unknown key {key!r} (known keys: {known})")
        if self.exactly_one_of and sum(key in value for key in self.exactly_one_of) != 1:
            ctx.problem(path, f"give exactly one of {', '.join(self.exactly_one_of)}")
        values = {}
        for name, option in self.fields.items():
            if name in value:
                values[name] = option.convert(value[name], path + (name,), ctx)
            elif option.required:
                ctx.problem(path, f"missing required key {name!r} ({option.doc})")
            else:
                values[name] = option.absent(path + (name,), ctx)
        if len(ctx.problems) > problems_before:
            return None  # reported already; a half-valid record is never built
        return self.build(**values)

    def absent(self, path, ctx):
        """Left out, a record of defaults only (`checks:`) is built from its defaults, as if
        written empty; one that needs a choice (a replica, a key reference) stays absent."""
        if self.default is None and not self.exactly_one_of and not any(f.required for f in self.fields.values()):
            return self.convert({}, path, ctx)
        return self.default


class Variants(Option):
    """A mapping whose `type` key picks which Record applies (sources, engines)."""

    kind = "mapping with a type"

    def __init__(self, doc: str, variants: dict[str, Record], **kw):
        super().__init__(doc, **kw)
        self.variants = variants

    def convert(self, value, path, ctx):
        kind = value.get("type") if isinstance(value, dict) else None
        if kind not in self.variants:
            return ctx.problem(path + ("type",), f"type must be one of {', '.join(self.variants)}, got {kind!r}")
        return self.variants[kind].convert(value, path, ctx)


class ListOf(Option):
    kind = "list"

    def __init__(self, doc: str, item: Option, **kw):
        super().__init__(doc, **kw)
        self.item = item

    def convert(self, value, path, ctx):
        if value is None:
            return []
        if not isinstance(value, list):
            return ctx.problem(path, f"expected a list, got {value!r}")
        return [self.item.convert(entry, path + (index,), ctx) for index, entry in enumerate(value)]


class MapOf(Option):
    """A mapping from free-form names (table names) to values of one kind."""

    kind = "mapping of names"

    def __init__(self, doc: str, item: Option, **kw):
        super().__init__(doc, **kw)
        self.item = item

    def convert(self, value, path, ctx):
        if value is None:
            return {}
        if not isinstance(value, dict):
            return ctx.problem(path, f"expected a mapping, got {value!r}")
        return {str(key): self.item.convert(entry, path + (key,), ctx) for key, entry in value.items()}
