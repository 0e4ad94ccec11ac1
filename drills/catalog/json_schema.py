"""The catalog's JSON Schema (`drill schema --json-schema`), for editors' YAML plugins: completion,
the doc of each option on hover, mistakes underlined as they are typed.

Rendered from the schema the loader validates against, like docs/catalog.md: nothing is written
twice. It describes the shape (keys, types, choices, patterns); the loader stays the judge of
what no JSON Schema can say (a cron expression, an SQL assertion, the rules across fields).
"""

import json

from drills.catalog.schema import CATALOG
from drills.options import (Amount, Choice, Custom, FilePath, Flag, ListOf, MapOf, Number, Option, Record, Text,
                            Variants)

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def render() -> str:
    schema = {"$schema": DIALECT, "title": "Restore Drill catalog", **schema_of(CATALOG)}
    schema["type"] = "object"  # the file itself may not be empty
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def schema_of(option: Option) -> dict:
    """The JSON Schema of one option of the catalog's schema."""
    described = {"description": option.doc}
    if option.example is not None:
        described["examples"] = [option.example]
    return {**described, **shape_of(option)}


def shape_of(option: Option) -> dict:
    if isinstance(option, Record):
        return record_shape(option)
    if isinstance(option, Variants):
        return {"type": "object", "required": ["type"],
                "properties": {"type": {"enum": list(option.variants)}},
                "allOf": [{"if": {"properties": {"type": {"const": kind}}}, "then": shape_of(record)}
                          for kind, record in option.variants.items()]}
    if isinstance(option, ListOf):
        return {"type": ["array", "null"], "items": schema_of(option.item)}
    if isinstance(option, MapOf):
        return {"type": ["object", "null"], "additionalProperties": schema_of(option.item)}
    if isinstance(option, Text):
        pattern = {"pattern": f"^(?:{option.pattern.pattern})$"} if option.pattern else {}
        return {"type": "string", "minLength": 1, **pattern, **default_of(option)}
    if isinstance(option, Number):
        minimum = {"minimum": option.minimum} if option.minimum is not None else {}
        return {"type": "integer", **minimum, **default_of(option)}
    if isinstance(option, Flag):
        return {"type": "boolean", **default_of(option)}
    if isinstance(option, Choice):
        return {"enum": list(option.choices), **default_of(option)}
    if isinstance(option, Amount):
        units = "".join(unit + unit.upper() for unit in option.units)
        return {"type": "string", "pattern": rf"^\s*(\d+\s*[{units}]\s*)+$"}
    if isinstance(option, FilePath):
        return {"type": "string", "minLength": 1}
    if isinstance(option, Custom):  # checked by its function, at load: its kind says what it takes
        return {"description": f"{option.doc} ({option.kind})", **default_of(option)}
    return {}


def record_shape(record: Record) -> dict:
    may_be_empty = not record.required and not record.exactly_one_of and not any(
        field.required for field in record.fields.values())  # written empty (`checks:`), it takes its defaults
    shape = {"type": ["object", "null"] if may_be_empty else "object",
             "properties": {name: schema_of(field) for name, field in record.fields.items()},
             "additionalProperties": False}
    required = [name for name, field in record.fields.items() if field.required]
    if required:
        shape["required"] = required
    if record.exactly_one_of:
        shape["oneOf"] = [{"required": [name]} for name in record.exactly_one_of]
    return shape


def default_of(option: Option) -> dict:
    return {} if option.default is None else {"default": option.default}
