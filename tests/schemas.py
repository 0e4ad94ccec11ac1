"""The JSON Schemas of the evidence documents (docs/schemas), and how the tests check documents
against them.

`validate(kind, document)` gives a document's errors (none: it is valid); `classify(path)` names
the kind of a file found on disk; `validate_tree(root)` checks every document under `root` that it
can tell was written by the code (tests/conftest.py runs it over the session's temporary
directory when the run ends: every report, manifest, kit manifest and anchor a test made must
match its schema).

What is not checked, by design: a file that is not JSON or not a JSON object (the suite damages
reports on purpose), a document of an unknown format (what a test forges to see it refused; but
a report with a start time is checked whatever its format: the pipeline's never lacks one), a
report outside a site's folder of the evidence store, and whatever lies under a directory holding
a `.schema-skip` file (a test writing documents it breaks on purpose marks its directory so).
"""

import json
import os
import re
import subprocess
from datetime import datetime
from functools import cache
from pathlib import Path

from jsonschema import Draft202012Validator, FormatChecker

SCHEMAS = Path(__file__).parent.parent / "docs" / "schemas"
KINDS = ("report", "manifest", "kit-manifest", "anchor", "recovery-point")
FORMATS = {"report": (1, 2), "manifest": (1, 2), "kit-manifest": (1,), "anchor": (1,),  # the formats the code writes
           "recovery-point": (1,)}
SKIP_MARKER = ".schema-skip"
REPORT_NAME = re.compile(r"\d{6}-\d{8}T\d{6}Z-[0-9a-f]{8}\.json")
ANCHOR_NAME = re.compile(r"\d{6}(-\d{8}T\d{6}Z)?\.json")  # drills.reports.anchors: NNNNNN-TIME.json
SITE_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")  # drills.catalog.schema.SITE_ID_PATTERN
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
MESSAGE_CHARS = 300


def rfc3339(value) -> bool:
    """date-time, if jsonschema has no checker of its own (rfc3339-validator not installed)."""
    if not isinstance(value, str):
        return True
    if not RFC3339.fullmatch(value):
        return False
    try:
        datetime.fromisoformat(value.upper())  # the date and time exist (no 31 April, no 25:00)
    except ValueError:
        return False
    return True


@cache
def format_checker() -> FormatChecker:
    checker = FormatChecker()
    if "date-time" not in checker.checkers:  # never silently unchecked
        checker.checks("date-time")(rfc3339)
    return checker


@cache
def validator(kind: str) -> Draft202012Validator:
    """The validator of `kind`'s schema, loaded once."""
    if kind not in KINDS:
        raise ValueError(f"no schema of {kind!r}: one of {', '.join(KINDS)}")
    schema = json.loads((SCHEMAS / f"{kind}.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=format_checker())


def validate(kind: str, document: dict) -> list[str]:
    """What is wrong with `document` as a `kind` (report, manifest, kit-manifest, anchor), one
    line per error, e.g. "$.backup.sha256: 'ABC' does not match '^[0-9a-f]{64}$'"; [] if valid."""
    errors = sorted(validator(kind).iter_errors(document), key=lambda error: (list(map(str, error.absolute_path)),
                                                                              error.message))
    return [f"{where(error.absolute_path)}: {said(error)}" for error in errors]


def where(path) -> str:
    return "$" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path)


def said(error) -> str:
    if error.validator == "not" and error.validator_value == {}:  # a key the format forbids
        message = f"not allowed ({error.schema.get('description', 'forbidden here')})"
    else:
        message = error.message
    return message if len(message) <= MESSAGE_CHARS else message[:MESSAGE_CHARS] + "..."


def classify(path: Path) -> str | None:
    """The kind of document `path` names, by its name and place, or None: a report is
    SITE/NNNNNN-DRILL_ID.json (not in a dot folder), a manifest X.manifest.json or, sealed,
    X.manifest.json.age (read with the age CLI and the run's identities), a kit manifest
    manifest.json beside the kit's schema.sql and tables/ (drills.kit writes both, always), an
    anchor .journal-anchors/NNNNNN[-TIME].json, a finder's answer .recovery-points/SITE/NNNNNN-TIME.json."""
    name, parent = path.name, path.parent
    if ANCHOR_NAME.fullmatch(name) and parent.name == ".journal-anchors":
        return "anchor"
    if ANCHOR_NAME.fullmatch(name) and parent.parent.name == ".recovery-points":
        return "recovery-point"
    if REPORT_NAME.fullmatch(name) and not parent.name.startswith("."):
        return "report"
    if name.endswith((".manifest.json", ".manifest.json.age")):
        return "manifest"
    if name == "manifest.json" and (parent / "schema.sql").is_file() and (parent / "tables").is_dir():
        return "kit-manifest"
    return None


def validate_tree(root: Path, skipped: list[str] | None = None) -> tuple[int, list[str]]:
    """(documents validated, their errors as "PATH: KIND: $.where: what") for every document
    under `root` that classify() names and that the code could have written; each one left
    out is added to `skipped`, if given, as "PATH: why"."""
    root = Path(root)
    validated, errors = 0, []
    skipped = [] if skipped is None else skipped
    identities = sorted(root.rglob("*.agekey"))  # what the tests seal to: every sealed manifest opens
    for directory, subdirectories, names in os.walk(root):
        if SKIP_MARKER in names:
            subdirectories[:] = []
            continue
        subdirectories.sort()
        for name in sorted(names):
            path = Path(directory) / name
            kind = classify(path)
            if kind is None or path.is_symlink():
                continue
            shown = path.relative_to(root)
            document, why = readable(path, kind, identities)
            if why:
                skipped.append(f"{shown}: {why}")
                continue
            validated += 1
            errors += [f"{shown}: {kind}: {error}" for error in validate(kind, document)]
    return validated, errors


def readable(path: Path, kind: str, identities: list[Path] = ()) -> tuple[dict | None, str | None]:
    """(the document, None), or (None, why it is not checked)."""
    try:
        document = json.loads(opened(path, identities))
    except SealedShut as shut:
        return None, str(shut)
    except (OSError, ValueError) as error:  # UnicodeDecodeError included
        return None, f"not read as JSON ({type(error).__name__})"
    if not isinstance(document, dict):
        return None, "not a JSON object"
    form = document.get("format")
    if (type(form) is not int or form not in FORMATS[kind]) and not (kind == "report" and "started_at" in document):
        return None, f"{kind} of unknown format {form!r}"  # a sketch a unit test stores, or a forged one
    if kind == "report" and not SITE_ID.fullmatch(path.parent.name):
        return None, "a report outside a site's folder"
    return document, None


class SealedShut(Exception):
    """A sealed document none of the run's identities opens (a test's other recipient, a damaged file)."""


def opened(path: Path, identities: list[Path]) -> bytes:
    """The file's bytes; a sealed one (.age) decrypted by the age CLI (SealedShut if it cannot be)."""
    if path.suffix != ".age":
        return path.read_bytes()
    keys = [argument for identity in identities for argument in ("-i", str(identity))]
    result = subprocess.run(["age", "-d", *keys, str(path)], capture_output=True, timeout=30) if keys else None
    if result is None or result.returncode != 0:
        raise SealedShut("cannot decrypt it with the run's identities")
    return result.stdout


def field_table(kind: str) -> str:
    """The Markdown table of a document's fields (name, type, meaning) from its schema: what
    docs/evidence-format.md shows (`python -m tests.schemas` writes them; a test keeps them equal).
    A report's are those of the format written now (2)."""
    schema = json.loads((SCHEMAS / f"{kind}.schema.json").read_text())
    definitions = schema.get("$defs", {})
    properties = dict(schema.get("properties", {}))
    if kind == "report":
        properties = {**properties, **definitions["common"]["properties"], **definitions["format2"]["properties"]}
        properties.pop("signature")
    rows = ["| field | type | meaning |", "|---|---|---|"]
    for name, field in properties.items():
        rows += field_rows(name, field, definitions)
    return "\n".join(rows) + "\n"


def field_rows(name: str, field: dict, definitions: dict) -> list[str]:
    """The rows of a field and of its own fields (`name.child`; `name.*.child` for a map's entries,
    `name[].child` for a list's)."""
    field = resolved(field, definitions)
    meaning = field.get("description", "").replace("|", "\\|").replace("\n", " ")
    rows = [f"| `{name}` | {type_of(field)} | {meaning} |"]
    for child, value in field.get("properties", {}).items():
        rows += field_rows(f"{name}.{child}", value, definitions)
    for entries, shown in ((field.get("additionalProperties"), f"{name}.*"), (field.get("items"), f"{name}[]")):
        if isinstance(entries, dict):
            for child, value in resolved(entries, definitions).get("properties", {}).items():
                rows += field_rows(f"{shown}.{child}", value, definitions)
    return rows


def resolved(field: dict, definitions: dict) -> dict:
    return {**definitions.get(field.get("$ref", "").rsplit("/", 1)[-1], {}), **field}


def type_of(field: dict) -> str:
    if "const" in field:
        return json.dumps(field["const"])
    if "enum" in field and len(field["enum"]) > 6:
        return f"{type(field['enum'][0]).__name__.replace('int', 'integer')}, one of {len(field['enum'])} values"
    if "enum" in field:
        return " \\| ".join(json.dumps(value) for value in field["enum"])
    kinds = field.get("type", "any")
    return " or ".join(kinds) if isinstance(kinds, list) else kinds


FIELDS = re.compile(r"(<!-- fields: ([a-z-]+) -->\n)(.*?)(<!-- /fields -->)", re.DOTALL)
EVIDENCE_FORMAT = SCHEMAS.parent / "evidence-format.md"


def with_field_tables(text: str) -> str:
    """`text` (docs/evidence-format.md) with each `<!-- fields: KIND -->` table made anew."""
    return FIELDS.sub(lambda found: found[1] + field_table(found[2]) + found[4], text)


if __name__ == "__main__":  # python -m tests.schemas: writes the field tables of docs/evidence-format.md
    EVIDENCE_FORMAT.write_text(with_field_tables(EVIDENCE_FORMAT.read_text()))
