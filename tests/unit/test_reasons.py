"""Every reason code is declared once (drills.reasons), used by name, and documented from there."""

import ast
import re
from pathlib import Path

from drills import reasons

PROJECT = Path(__file__).parents[2]
SOURCES = [path for package in ("drills", "workers", "dashboard", "api") for path in (PROJECT / package).rglob("*.py")
           if path != PROJECT / "drills" / "reasons.py"]
TABLE = re.compile(r"(### Reason codes\n.*?\n\n)(\| code \|.*?\n)\n", re.S)


def constants_used() -> set[str]:
    """The names read as `reasons.NAME` anywhere in the code."""
    return {node.attr for path in SOURCES for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "reasons"}


def test_every_code_is_declared_once_and_used_by_name():
    names = {name: code for name, code in vars(reasons).items() if isinstance(code, str) and code in reasons.REASONS}
    assert sorted(names.values()) == sorted(reasons.REASONS), "each code has one name"
    assert set(names) - constants_used() == set(), "no code is declared and never used"
    assert constants_used() - set(vars(reasons)) == set(), "no code is used that is not declared"


def test_no_code_is_written_as_text_outside_the_registry():
    written = [(path.relative_to(PROJECT), node.lineno, node.value) for path in SOURCES
               for node in ast.walk(ast.parse(path.read_text()))
               if isinstance(node, ast.Constant) and node.value in reasons.REASONS]
    assert written == []


def test_each_code_has_an_outcome_a_meaning_and_a_next_step():
    kinds = {reasons.FAIL, reasons.ERROR, reasons.WARN, reasons.CONFIG, reasons.EVIDENCE, reasons.CERTIFICATE,
             reasons.STATUS, reasons.API, reasons.ALERT}
    for reason in reasons.REASONS.values():
        assert reason.outcome in kinds and reason.meaning and reason.hint, reason.code
        assert reason.code.startswith("error.") == (reason.outcome == reasons.ERROR), reason.code


def test_the_readme_table_is_the_registry():
    found = TABLE.search((PROJECT / "README.md").read_text())
    assert found, "README.md has a '### Reason codes' section with its table"
    assert found.group(2) == reasons.markdown_table(), "regenerate it: python -m drills.reasons"


def test_the_fault_catalogue_names_only_declared_codes():
    written = set(re.findall(r"`([a-z]+\.[a-z_]+)`", (PROJECT / "docs" / "faults.md").read_text()))
    codes = {code for code in written if code.split(".")[0] in {"backup", "manifest", "decrypt", "restore", "verify",
                                                                "error", "schema"}}
    assert codes and codes <= set(reasons.REASONS)
