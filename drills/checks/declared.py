"""What a restored database holds against what was declared of it: the manifest's tables, row
counts and columns, and the site's table bounds. Plain comparisons of what the verifier read
(drills.checks.database), one finding per table, so that one failure never hides another."""

from drills.checks.findings import FAIL, PASS, WARN, Finding
from drills import reasons


def manifest_findings(restored: dict[str, int], expected: dict[str, int], inexact=()) -> list[Finding]:
    """Each manifest table present with its count; the `inexact` ones (no snapshot covered them)
    differing is a warning, not a failure."""
    findings = []
    for table, count in sorted(expected.items()):
        if table not in restored:
            findings.append(Finding("table.present", table, FAIL, expected=count, actual=None,
                                    message=f"{table} is in the manifest but not in the restored database",
                                    code=reasons.VERIFY_TABLE_MISSING,
                                    hint="the backup lacks a table the site had: check the backup job's scope"))
        elif restored[table] != count and table in inexact:
            findings.append(Finding("table.count", table, WARN, expected=count, actual=restored[table],
                                    message=f"{table} has {restored[table]:,} rows, the manifest about {count:,}: "
                                            "its engine has no transactions, so no snapshot covered its count"))
        elif restored[table] != count:
            findings.append(Finding("table.count", table, FAIL, expected=count, actual=restored[table],
                                    message=f"{table} has {restored[table]:,} rows, the manifest says {count:,}",
                                    code=reasons.VERIFY_COUNT_MISMATCH,
                                    hint="rows were lost or added between the manifest and the dump"))
        else:
            findings.append(Finding("table.count", table, PASS, expected=count, actual=count))
    for table in sorted(set(restored) - set(expected)):
        findings.append(Finding("table.unexpected", table, WARN, actual=restored[table],
                                message=f"{table} was restored but is not in the manifest"))
    return findings


def column_findings(restored: dict[str, int], columns: dict[str, list[tuple[str, str]]],
                    declared: dict[str, list[tuple[str, str]]]) -> list[Finding]:
    """Each restored table the manifest lists the columns of: those columns there, of the same
    types (the server's names for them); a restored column the manifest lacks is a warning."""
    findings = []
    for table, expected in sorted(declared.items()):
        if table not in restored:
            continue  # a table the manifest lists but the restore lacks: table.present says it
        wanted, actual = dict(expected), dict(columns.get(table, []))
        lost = [f"{name} ({kind})" for name, kind in wanted.items() if name not in actual]
        lost += [f"{name} ({kind}, restored as {actual[name]})" for name, kind in wanted.items()
                 if name in actual and actual[name] != kind]
        if lost:
            findings.append(Finding("table.columns", table, FAIL, expected=len(wanted), actual=len(actual),
                                    message=f"{table} was restored without the manifest's column(s) {', '.join(lost)}",
                                    code=reasons.VERIFY_COLUMNS_MISMATCH,
                                    hint="the dump left data out: check the backup job's options"))
        if extra := [name for name in actual if name not in wanted]:
            findings.append(Finding("table.columns", table, WARN, expected=len(wanted), actual=len(actual),
                                    message=f"{table} was restored with column(s) the manifest does not list: "
                                            f"{', '.join(extra)}"))
    return findings


def bounds_findings(restored: dict[str, int], bounds: dict) -> list[Finding]:
    findings = []
    for table, bound in sorted(bounds.items()):
        expected = {"min": bound.min, "max": bound.max}
        if table not in restored:
            findings.append(Finding("table.present", table, FAIL, expected=expected,
                                    message=f"{table} is required by the site's checks but was not restored",
                                    code=reasons.VERIFY_TABLE_MISSING, hint="check the backup job's scope"))
            continue
        count = restored[table]
        inside = (bound.min is None or count >= bound.min) and (bound.max is None or count <= bound.max)
        findings.append(Finding("table.bounds", table, PASS if inside else FAIL, expected=expected, actual=count,
                                message="" if inside else f"{table} has {count:,} rows, outside {expected}",
                                code="" if inside else reasons.VERIFY_BOUNDS,
                                hint="" if inside else "the data shrank or grew beyond what the site expects"))
    return findings
