"""`drill report`: a tenant's compliance report of a month, signed, in French and English."""

from pathlib import Path

from drills.audit import AuditJournal
from drills.commands.common import catalog_of, cli_user
from drills.commands.output import emit
from drills.reports import keys
from drills.reports.report import now_utc
from drills.reports.signing import SIGNATURE_SUFFIX, document_bytes, sign


def register(add) -> None:
    report = add("report", compliance_report, "a tenant's compliance report of a month (JSON, PDF and HTML, "
                                              "French and English, each file signed)")
    report.add_argument("--tenant", required=True)
    report.add_argument("--month", required=True, help="the calendar month in UTC, YYYY-MM")
    report.add_argument("--output", default=".", help="where to write the files (default: here)")


def compliance_report(arguments) -> int:
    """Exit 0 once written; 3 for an unknown tenant or a month badly written or not begun."""
    from drills.compliance import compliance_document, document_name, rendered_files

    catalog = catalog_of(arguments)
    private_key = keys.load_private(catalog.signing_key)
    document = compliance_document(catalog, arguments.tenant, arguments.month, now_utc(),
                                   keys.keyring(catalog.signing_key))
    name = document_name(arguments.tenant, arguments.month)
    data = document_bytes(document, private_key)
    files = {name: data, **rendered_files(data, name, signed=True)}
    output = Path(arguments.output)
    output.mkdir(parents=True, exist_ok=True)
    for file_name, content in files.items():
        (output / file_name).write_bytes(content)
        (output / (file_name + SIGNATURE_SUFFIX)).write_bytes(sign(content, private_key))
    AuditJournal(catalog.evidence).record("compliance.reported", cli_user(), tenant=arguments.tenant,
                                          month=arguments.month, files=sorted(files))
    written = [str(output / file_name) for file_name in files]
    emit(arguments, {**document, "files": written}, "\n".join(written))
    return 0
