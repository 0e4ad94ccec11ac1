"""What a reversibility certificate says, as plain data both renderers (HTML, PDF) lay out.

A certificate is the human form of one signed report of a passed drill: it states that the
backup was restored in full, lists every table with its expected and restored counts, the
checks, the timings, what produced it (Restore Drill's version, the restore image's digest)
and how a third party checks it. The report and its detached signature travel inside the
certificate (embedded), byte for byte, so openssl (or `drill verify-report`) can check them.
"""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime

from drills.certificates.texts import text
from drills.errors import ConfigError
from drills.hosting.words import backup_location, describe, sentence_parts
from drills.reports.report import PHASES
from drills.reports.keys import public_pem
from drills.reports.signing import SIGNATURE_SUFFIX, digest, signer, verify
from drills import reasons

TABLE_CHECKS = ("table.count", "table.bounds", "table.unexpected")
SHOWN_WITH_TABLES = (*TABLE_CHECKS, "table.fingerprint")


@dataclass
class Certificate:
    lang: str
    title: str
    statement: str
    sections: list[tuple[str, list[tuple[str, str]]]]  # (heading, [(label, value)])
    tables: list[tuple[str, str, str, str, str]]       # (table, expected, restored, fingerprint, status)
    checks: list[tuple[str, str, str]]                 # (check, subject, status)
    verification: list[str]                            # steps a third party follows
    report_name: str
    report_bytes: bytes
    signature: bytes | None  # detached (format 2); None for a format 1 report (embedded)
    public_key_pem: bytes
    labels: dict = field(default_factory=dict)


def build(report_bytes: bytes, signature: bytes | None, report_name: str, keyring: dict, lang: str) -> Certificate:
    """The certificate of a signed report of a passed drill (`signature`: its detached signature);
    ConfigError if it cannot be one."""
    valid, why = verify(report_bytes, signature, keyring)
    if not valid:
        raise ConfigError(f"{report_name} cannot be certified: {why}", code=reasons.CERTIFICATE_INVALID_REPORT,
                          hint="check it with `drill verify-chain`; only an intact signed report is certified")
    report = json.loads(report_bytes)
    if report["outcome"] != "pass":
        raise ConfigError(f"drill {report['drill_id']} did not pass ({report['reason']}): nothing to certify",
                          code=reasons.CERTIFICATE_NOT_PASSED, hint="certify a drill that passed (drill history SITE)")
    if not report.get("contents_verified", True):
        raise ConfigError(f"drill {report['drill_id']} restored the backup but verified its contents against "
                          "nothing (no manifest, no table bounds): a certificate cannot say the full file was restored",
                          code=reasons.CERTIFICATE_CONTENTS_UNVERIFIED,
                          hint="have the backup job write a manifest (drill seal, drill manifest), then drill again")
    public_key = keyring[signer(report)]
    made_by = report.get("provenance") or {}
    t = lambda key, **values: text(lang, key, **values)  # noqa: E731
    backup = report["backup"]
    tables = table_rows(report["findings"], t)
    restored = {name: int(actual) for name, _, actual, _, _ in tables if actual.isdigit()}
    identical = bool(tables) and all(fingerprint.startswith("=") and "(" not in fingerprint
                                     for _, _, _, fingerprint, _ in tables)  # every row of every table
    fingerprint = hashlib.sha256(public_key.public_bytes_raw()).hexdigest()
    return Certificate(
        lang=lang,
        title=t("title"),
        statement=t("statement", backup=backup["name"], site=report["site_name"], site_id=report["site"],
                    date=day(report["started_at"], lang), tables=len(restored),
                    rows=number(sum(restored.values()), lang)) + (" " + t("statement.identical") if identical else "")
        + hosting_statement(report.get("hosting"), t, lang),
        sections=[
            (t("section.site"), [(t("site.name"), report["site_name"]), (t("site.id"), report["site"]),
                                 (t("site.tenant"), report["tenant"])]),
            (t("section.backup"), [(t("backup.name"), backup["name"]), (t("backup.size"), t("bytes", size=number(backup["size"], lang))),
                                   (t("backup.sha256"), backup["sha256"] or "-"),
                                   (t("backup.taken_at"), backup["taken_at"] or "-"),
                                   (t("backup.manifest"), backup.get("manifest") or "-")]),
            (t("section.drill"), [(t("drill.id"), report["drill_id"]), (t("drill.outcome"), t("outcome.pass")),
                                  (t("drill.started"), report["started_at"]), (t("drill.finished"), report["finished_at"]),
                                  (t("drill.engine"), f"{report['engine']['type']}/{report['engine']['format']} "
                                                      f"({report['engine']['image']})"),
                                  (t("drill.host"), report.get("host", "-")),
                                  (t("drill.version"), made_by.get("restore_drill", "-")),
                                  (t("drill.image_id"), image_digest(made_by.get("image") or {})),
                                  (t("drill.server_version"), made_by.get("server_version") or "-")]),
            (t("section.timings"), [(t(f"phase.{phase}"), f"{seconds:.1f} s")
                                    for phase, seconds in sorted(report["phases"].items(), key=phase_order)]
             + [(t("timing.rto"), f"{report['rto_seconds']:.1f} s / {report['targets']['rto_seconds']} s")]),
            (t("section.signature"), [(t("signature.key_id"), signer(report)),
                                      (t("signature.fingerprint"), fingerprint),
                                      (t("signature.report_sha256"), digest(report_bytes)),
                                      (t("signature.chain"), f"#{report['sequence']}, "
                                                             f"{t('signature.previous')} {report['previous_sha256'] or '-'}")]),
        ] + hosting_section(report.get("hosting"), t, lang),
        tables=tables,
        checks=[(f["check"], f["subject"], t(f"status.{f['status']}")) for f in report["findings"]
                if f["check"] not in SHOWN_WITH_TABLES],
        verification=[t("verify.extract", name=report_name), t("verify.hash", digest=digest(report_bytes)),
                      t("verify.command" if signature is None else "verify.openssl", name=report_name,
                        signature=report_name + SIGNATURE_SUFFIX),
                      t("verify.key", fingerprint=fingerprint)],
        report_name=report_name,
        report_bytes=report_bytes,
        signature=signature,
        public_key_pem=public_pem(public_key),
        labels={key: t(f"label.{key}") for key in ("table", "expected", "restored", "fingerprint", "status", "check",
                                                   "subject",
                                                   "tables", "checks", "verify", "generated")},
    )


def hosting_statement(hosting: dict | None, t, lang: str) -> str:
    """Where the backups are hosted, in a sentence (the signed report's `hosting`); '' without it."""
    backup = backup_location((hosting or {}).get("locations"))
    if backup is None:
        return ""
    return " " + t("statement.hosting", **sentence_parts(backup, lang, lambda iso: day(iso, lang)),
                   read=t("hosting.read", region=backup["read_region"]) if backup["read_country"] else
                   t("hosting.declared"))


def hosting_section(hosting: dict | None, t, lang: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """The section listing each storage location (the backups', the evidence replica's); none without it."""
    if not hosting:
        return []
    return [(t("section.hosting"), [describe(location, lang, lambda iso: day(iso, lang))
                                    for location in hosting["locations"]])]


def image_digest(image: dict) -> str:
    """The restore image's registry digest (by which it can be pulled again), else its id."""
    return next(iter(image.get("repo_digests") or []), None) or image.get("id") or "-"


def attachments(certificate: Certificate) -> list[tuple[str, bytes, str, str]]:
    """(file name, content, media type, description) of each file a certificate carries."""
    files = [(certificate.report_name, certificate.report_bytes, "application/json", "signed drill report")]
    if certificate.signature is not None:
        files.append((certificate.report_name + SIGNATURE_SUFFIX, certificate.signature, "application/octet-stream",
                      "detached Ed25519 signature of the report"))
    return files + [("signing.pub", certificate.public_key_pem, "application/x-pem-file",
                     "Ed25519 public key of the signer")]


def table_rows(findings: list[dict], t) -> list[tuple[str, str, str, str, str]]:
    """Every table the drill counted: expected (manifest count or bounds) and restored rows, and its
    content fingerprint (`= digest` when the restored rows are identical to the source's)."""
    prints = {f["subject"]: f for f in findings if f["check"] == "table.fingerprint"}
    rows = []
    for finding in findings:
        if finding["check"] in TABLE_CHECKS:
            expected = finding["expected"]
            if isinstance(expected, dict):
                expected = " ".join(f"{key} {value}" for key, value in expected.items() if value is not None)
            shown = fingerprint_shown(prints.get(finding["subject"]))
            rows.append((finding["subject"], "-" if expected is None else str(expected),
                         "-" if finding["actual"] is None else str(finding["actual"]), shown,
                         t(f"status.{finding['status']}")))
    return rows


def fingerprint_shown(finding: dict | None) -> str:
    """`= digest` (restored rows identical), `≠ digest`, with `(1/N)` for a sample; `-` without one."""
    if finding is None:
        return "-"
    declared = finding["expected"] if isinstance(finding["expected"], dict) else {}
    sample = f" (1/{declared['one_in']})" if declared.get("one_in", 1) > 1 else ""
    return ("= " if finding["status"] == "pass" else "≠ ") + str(finding["actual"]) + sample


def phase_order(item: tuple[str, float]) -> int:
    return PHASES.index(item[0]) if item[0] in PHASES else len(PHASES)


def number(value: int, lang: str) -> str:
    return f"{value:,}".replace(",", "\u202f" if lang == "fr" else ",")


def day(timestamp: str, lang: str) -> str:
    moment = datetime.fromisoformat(timestamp)
    if lang == "fr":
        return f"{moment.day} {text('fr', 'months').split()[moment.month - 1]} {moment.year}"
    return moment.strftime("%B %-d, %Y")
