"""One error root, a few families, every error with a stable reason code.

A code names what went wrong (`decrypt.wrong_key`); the message says what was seen, the
hint what an operator should do next. The family decides the drill's outcome:
`BackupProblem` means the backup is not good (outcome `fail`, the site is blamed),
`InfrastructureError` means our side failed (outcome `error`, retried, the site is not
blamed), `ConfigError` means the catalog or the command line is wrong (exit code 3). Every
code is declared once, in drills.reasons.
"""

from drills import reasons


class DrillError(Exception):
    """Root of every error Restore Drill raises on purpose."""

    outcome = "error"

    def __init__(self, code: str, message: str, hint: str = ""):
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.code}: {self.message}" + (f" (hint: {self.hint})" if self.hint else "")


class ConfigError(DrillError):
    """Raised when the catalog, a key reference or a command-line argument is wrong."""

    def __init__(self, message: str, hint: str = "", code: str = reasons.CONFIG_INVALID):
        super().__init__(code, message, hint)


class BackupProblem(DrillError):
    """Raised when the backup itself is not good: missing, stale, corrupt, not restorable."""

    outcome = "fail"


class InfrastructureError(DrillError):
    """Raised when our side failed (Docker engine, storage unreachable): the site is not blamed."""


class ReportNotStored(InfrastructureError):
    """Raised when a drill ran but its report could not be stored (a full or failing evidence
    volume): outcome error, and the drill's verdict, unsigned, travels with it so that it is
    still delivered (the log, the alerts)."""

    def __init__(self, error: InfrastructureError, report: dict):
        verdict = f"{report['outcome'].upper()}" + (f" {report['reason']}" if report["reason"] else "")
        super().__init__(error.code, f"{error.message}; the drill's verdict, unsigned: "
                                                            f"{verdict}", error.hint)
        self.report = report
