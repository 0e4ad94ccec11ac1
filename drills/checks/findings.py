"""Findings: what each check saw. The verdict is decided from all of them at the end."""

from dataclasses import asdict, dataclass
from drills import reasons
from drills.redaction import printable

PASS, FAIL, WARN = "pass", "fail", "warn"


@dataclass(frozen=True)
class Finding:
    check: str          # e.g. "table.count"
    subject: str        # e.g. "public.patients"
    status: str         # pass | fail | warn
    expected: object = None
    actual: object = None
    message: str = ""
    code: str = ""      # the reason code a failing finding stands for
    hint: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def failure(error) -> Finding:
    """A finding standing for a DrillError that stopped a stage."""
    return Finding(check=error.code.split(".")[0], subject="drill", status=FAIL, message=error.message,
                   code=error.code, hint=error.hint)


def coded(code: str, subject: str, status: str, message: str, **figures) -> Finding:
    """A finding standing for reason `code`, with its registered hint; `subject` (a name read from a
    backup or a service) made printable."""
    return Finding(code, printable(subject), status, message=message, code=code, hint=reasons.REASONS[code].hint,
                   **figures)


def empty(subject: str, what: str) -> Finding:
    """A restore that yields nothing at all (no table, no file) proves nothing: verify.empty."""
    return Finding("restore.empty", subject, FAIL, expected=f"at least one {what}", actual=0,
                   message=f"the restored backup holds no {what} at all", code=reasons.VERIFY_EMPTY,
                   hint="the backup job dumped an empty or wrong source; if the site is empty on purpose, "
                        "set checks.may_be_empty: true")


def verdict(findings: list[Finding], error=None) -> tuple[str, str | None]:
    """(outcome, reason): `error` if infrastructure failed, else the first failing finding's code."""
    if error is not None and error.outcome == "error":
        return "error", error.code
    failed = [finding for finding in findings if finding.status == FAIL]
    return ("fail", failed[0].code) if failed else ("pass", None)
