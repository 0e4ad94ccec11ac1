"""Every reason code, once: what it means, the outcome it gives, what to do next.

Errors and findings take their codes from here (`reasons.DECRYPT_WRONG_KEY`), never as text, so a
code is written in one place; the README's table is rendered from this list
(`python -m drills.reasons`) and a test checks that it is. A code is stable: a report, an alert
rule or a provider's script may match it. The message raised with a code says what was seen; the
hint given here is the general next step, a raise site may give a sharper one.
"""

from dataclasses import dataclass

FAIL, ERROR, WARN = "fail", "error", "warn"  # a drill's outcome; a warning finding changes none
CONFIG = "config (exit 3)"  # the catalog, a key or the command line is wrong: no drill verdict
EVIDENCE = "evidence (exit 1)"  # what verify-chain says of the stored reports
CERTIFICATE = "certificate (exit 1)"  # why `drill certificate` refuses
STATUS = "status (amber)"  # why a site with a passing last drill is not plain green
API = "api (HTTP status)"  # why `drill api` refuses a request
ALERT = "alert"  # the code an alert ends with (`code: ...`) when no drill's reason says it
# The families of checks made once the backup restored: their warnings make a site amber (it restores, someone
# must look) and are alerted once; a drill failing only on one of them (a site's `fail` lists it) still restored.
ATTENTION = ("history.", "hosting.")


@dataclass(frozen=True)
class Reason:
    code: str
    outcome: str
    meaning: str
    hint: str


REASONS: dict[str, Reason] = {}


def reason(code: str, outcome: str, meaning: str, hint: str) -> str:
    assert code not in REASONS, f"reason code {code} declared twice"
    REASONS[code] = Reason(code, outcome, meaning, hint)
    return code


# The backup is not good: outcome fail, the site is blamed.
BACKUP_MISSING = reason("backup.missing", FAIL, "no file matches the source's pattern",
                        "check the backup job and the source's path and pattern")
BACKUP_STALE = reason("backup.stale", FAIL, "the newest backup is older than the RPO target (its age is the older of "
                      "its manifest's `taken_at` and its time at the source), or its time is in the future (no "
                      "freshness is proven)", "the backup job has stopped delivering: check it on the site's side")
MANIFEST_MISSING = reason("manifest.missing", FAIL, "`checks.manifest: required` and no `X.manifest.json(.age)` "
                          "beside backup `X`", "the backup job must write the manifest when it dumps (`drill seal`)")
MANIFEST_INVALID = reason("manifest.invalid", FAIL, "the manifest is not JSON, not format 1, written for another "
                          "site or engine, taken longer than the RPO before its backup was written (an old manifest "
                          "replayed), or dated in the future or after its backup was written (a forged freshness; "
                          "15 min of clock skew allowed)", "write the manifest with the dump, from the same job")
DECRYPT_WRONG_KEY = reason("decrypt.wrong_key", FAIL, "no configured identity opens the backup (another or a "
                           "retired key)", "encrypt to the drill's recipient, or add the identity to the site")
DECRYPT_CORRUPT = reason("decrypt.corrupt", FAIL, "not an age file, empty, truncated, a malformed header or stanza, "
                         "altered header or data, bytes appended (armored files, `age -a`, are decrypted)",
                         "the file was damaged in transit or at rest: take a new backup")
DECRYPT_WORK_FACTOR = reason("decrypt.work_factor_too_high", FAIL, "a passphrase file asks for more scrypt memory "
                             "than `decrypt.max_work_factor` allows", "raise it only if the site chose that cost")
RESTORE_FAILED = reason("restore.failed", FAIL, "`pg_restore` / `psql` / `mariadb` stopped on an error (the message "
                        "gives its SQLSTATE or error number and where, never the rows), the compressed stream inside "
                        "is corrupt, or a dump line exceeds 64 MiB; pgBackRest could not restore a set (its own "
                        "message), a base backup is no `pg_basebackup -Ft` tar (backup_label not first), or the server "
                        "did not recover to the target", "the dump does not restore: fix the backup job")
RESTORE_WAL_GAP = reason("restore.wal_gap", FAIL, "physical backups: a WAL segment is missing from the archive between "
                         "the backup's start and the target (or the newest archived segment): the recovery would stop "
                         "there; the message names the segment", "check archive_command and take a new full backup")
RESTORE_TOO_LARGE = reason("restore.too_large", FAIL, "the dump decompresses beyond `engine.max_decompressed`, the "
                           "restored database outgrows `engine.tmpfs`, or an SQLite file or documents tree exceeds it "
                           "(decompression bomb)", "raise the limit only if the site's data really grew")
RESTORE_TIMEOUT = reason("restore.timeout", FAIL, "the drill reached `engine.timeout` (one deadline for the whole "
                         "drill) while fetching or restoring", "raise engine.timeout only if the data grew")
RESTORE_OUT_OF_MEMORY = reason("restore.out_of_memory", FAIL, "the restore was killed by the container's memory limit "
                               "(`engine.memory`): the backup does not restore within the site's declared resources",
                               "raise engine.memory if the site's data really needs it")
VERIFY_EMPTY = reason("verify.empty", FAIL, "the restore holds no table at all (no file, for a documents archive), "
                      "unless `checks.may_be_empty: true`", "the dump holds no data: check what the backup job dumps")
VERIFY_TIMEOUT = reason("verify.timeout", FAIL, "the drill reached `engine.timeout` while verifying (a restored view "
                        "or function that never ends): stopped there", "look for restored objects that never finish")
VERIFY_TABLE_MISSING = reason("verify.table_missing", FAIL, "a table of the manifest or of `checks.tables` was not "
                              "restored", "the dump left the table out: check the backup job's options")
VERIFY_COLUMNS_MISMATCH = reason("verify.columns_mismatch", FAIL, "a restored table lacks a column its manifest "
                                 "lists, or holds it with another type", "the dump left data out (a column "
                                 "excluded, a table made anew): check the backup job")
VERIFY_COUNT_MISMATCH = reason("verify.count_mismatch", FAIL, "a table's exact row count differs from the manifest",
                               "rows were lost between the count and the dump: check the backup job")
VERIFY_CONTENT_MISMATCH = reason("verify.content_mismatch", FAIL, "a table's content fingerprint differs from the "
                                 "manifest's (taken in the dump's snapshot): a value changed, whatever the counts",
                                 "the dump was altered after it was taken: check who can write the backups")
VERIFY_BOUNDS = reason("verify.bounds", FAIL, "a table's row count is outside its configured `min`/`max`",
                       "check the data, or the bounds in the catalog")
VERIFY_ASSERTION_FAILED = reason("verify.assertion_failed", FAIL, "an SQL assertion returned another value, or "
                                 "failed to run", "check the data, or the assertion in the catalog")
VERIFY_FILE_MISSING = reason("verify.file_missing", FAIL, "files engine: files of the manifest not in the archive "
                             "(count and examples)", "the archive left files out: check the backup job")
VERIFY_FILE_ALTERED = reason("verify.file_altered", FAIL, "files engine: files whose size or sha256 differ from the "
                             "manifest, named", "files changed after they were listed: check the backup job")
VERIFY_UNSAFE_ARCHIVE = reason("verify.unsafe_archive", FAIL, "files engine: entries naming `..`, absolute paths, "
                               "links out of the tree, devices: refused by tar or found in the tree, named",
                               "the archive is hostile or broken: do not extract it anywhere")
VERIFY_RANSOMWARE_SUSPECT = reason("verify.ransomware_suspect", FAIL, "files engine: files whose first bytes no "
                                   "longer match their type (a .pdf not starting with %PDF...) or that look "
                                   "encrypted (entropy), named", "check the site for ransomware now")
VERIFY_STALE_DATA = reason("verify.stale_data", FAIL, "the canary: the newest record of `checks.newest_record` is "
                           "older than the RPO target (a job dumping a stale replica), or cannot be read",
                           "the backup job dumps an old copy: check which database it reads")
VERIFY_CORRUPT_DATA = reason("verify.corrupt_data", FAIL, "physical backups: amcheck (`pg_amcheck --heapallindexed`) "
                             "found a damaged heap page or index in a restored database: relation and block named",
                             "restore an earlier backup (`drill restorable`), check the source's disks")

# Our side failed: outcome error, retried by the workers, the site is not blamed.
ERROR_RUNTIME = reason("error.runtime", ERROR, "the Docker engine is unreachable or failed; the restore image is "
                       "missing", "check the Docker engine (`make setup` loads the images)")
ERROR_SOURCE = reason("error.source", ERROR, "the source cannot be reached (mount lost, S3 or SFTP server down, "
                      "credentials refused), or the backup changed or vanished while it was read",
                      "check the source's mount, server and credentials")
ERROR_SOURCE_HOST_KEY = reason("error.source_host_key", ERROR, "the SFTP server's host key is unknown or CHANGED "
                               "(possible man in the middle)", "check the server's key before trusting it")
ERROR_VERIFIER = reason("error.verifier", ERROR, "DuckDB's extension could not be loaded, or DuckDB could not read "
                        "the restored server", "run `make setup` (it installs DuckDB's extensions)")
ERROR_LEASE = reason("error.lease", ERROR, "`drill run` or `drill export` with `DRILL_REDIS_URL` set could not take "
                     "the site's lease (Redis unreachable)", "check Redis, or unset DRILL_REDIS_URL")
ERROR_LEASE_LOST = reason("error.lease_lost", ERROR, "the site's lease in Redis could not be renewed in time (Redis "
                          "stalled or unreachable): the drill stopped itself so that no second attempt of the site "
                          "could run alongside; retried", "the drill is retried; check Redis")
ERROR_SITE_BUSY = reason("error.site_busy", ERROR, "`drill run` with `DRILL_REDIS_URL` set: another drill of the "
                         "site holds its lease (no drill ran)", "wait for the other drill to finish")
ERROR_INTERRUPTED = reason("error.interrupted", ERROR, "Ctrl-C or SIGTERM of `drill run`, or a worker stopping (the "
                           "drill is queued again): stopped wherever it was, torn down, reported",
                           "a shutdown re-queues the drill; a time limit means it outgrew engine.timeout")
ERROR_INTERNAL = reason("error.internal", ERROR, "an unexpected error in Restore Drill itself (a bug: the message "
                        "names it)", "a bug in Restore Drill: report it with the drill id")
ERROR_EXPORT = reason("error.export", ERROR, "`drill export` could not write or read back the kit (staging space, "
                      "DuckDB)", "free the export staging space, then export again")
ERROR_SEAL = reason("error.seal", ERROR, "`drill seal` could not dump, count or fingerprint the live database (psql "
                    "or pg_dump failed)", "check the DSN, the role's rights, and that psql and pg_dump are of the "
                    "server's major version or newer")
ERROR_STORAGE = reason("error.storage", ERROR, "the report could not be stored (evidence volume full, read-only or "
                       "failing); the drill's verdict is still logged and alerted, unsigned",
                       "free space on the evidence volume, or check it, then drill again")
ERROR_RUN_DIR = reason("error.run_dir", ERROR, "a worker cannot write in the run directory (`DRILL_RUN_DIR`) it "
                       "shares with the restore containers, or a drill's work directory there cannot take the dump "
                       "the host writes into it (not a memory filesystem, full, the file's name already taken)",
                       "run `drill prepare-host` as root (the stack's init does); give the run directory a tmpfs "
                       "with room for engine.tmpfs per drill at once")

# A warning finding: the drill's outcome is unchanged.
RTO_TARGET = reason("rto.target", WARN, "the restore took longer than the site's RTO target: the backup restores, "
                    "late", "review the target or the restore resources")
SCHEMA_NEUTRALISED = reason("schema.neutralised", WARN, "an SQLite backup's views, triggers or virtual tables were "
                            "set aside in the restored copy before it was read (they could run code on the verifier)",
                            "nothing to do: the tables were verified; the objects are listed in the finding")
# History: a passing drill compared with the site's earlier ones (drills.checks.history). A warning
# (the site amber), or a failure where the site's checks.history.fail lists the check.
HISTORY_ROWS_DROPPED = reason("history.rows_dropped", WARN, "a table lost more than `checks.history.max_drop` of its "
                              "rows since the backup drilled before (destruction at the source: the manifest "
                              "agrees with a dump of the damaged database)", "ask the site what happened to the "
                              "table; `drill restorable SITE` finds the newest backup from before")
HISTORY_SCHEMA_CHANGED = reason("history.schema_changed", WARN, "tables or columns appeared, vanished or changed "
                                "type since the backup drilled before", "an application update explains it, or "
                                "something dropped them: ask the site")
HISTORY_RTO_REGRESSION = reason("history.rto_regression", WARN, "the restore took longer than the mean + 3 standard "
                                "deviations of the site's last 10 passing drills (and 10% and a minute more than "
                                "their mean)", "the data grew or the workers "
                                "slowed: compare the phases of the last drills")
# Hosting: where the backups and the evidence replica are stored (drills.hosting). A warning (the
# site amber), or a failure where the site's hosting.fail lists the check.
HOSTING_OUTSIDE_EEA = reason("hosting.outside_eea", WARN, "a storage location (the backups' or the evidence "
                             "replica's) is in a country outside the European Economic Area, as read from the "
                             "bucket's region or as declared", "HDS 2024: health data is stored in the EEA only; "
                             "move the storage, or correct the catalog's `hosting`")
HOSTING_MISMATCH = reason("hosting.mismatch", WARN, "the country of the S3 bucket's region, read at the drill, "
                          "differs from the country the catalog declares", "find out where the bucket really is, "
                          "then correct the storage or `hosting.country`")
HOSTING_CERTIFICATE_EXPIRED = reason("hosting.certificate_expired", WARN, "the host's HDS certificate expired "
                                     "(`hosting.expires` is past)", "ask the host for its renewed certificate "
                                     "and update `hosting.certificate` and `hosting.expires`")
HOSTING_CERTIFICATE_EXPIRING = reason("hosting.certificate_expiring", WARN, "the host's HDS certificate expires "
                                      "within `hosting.notice` (60 days by default); always a warning",
                                      "ask the host for its renewal now")
HOSTING_UNVERIFIED = reason("hosting.unverified", WARN, "where a storage location is could not be told: the "
                            "bucket's region could not be read (access denied, unreachable), no table knows its "
                            "region, or no country is declared", "allow s3:GetBucketLocation to the drill's "
                            "credentials, or declare the region under `hosting.regions` or the `hosting.country`")

# Why a site is amber on the dashboard although its last drill passed.
RTO_SLOW = reason("rto.slow", STATUS, "the last restore took longer than the RTO target", "review the target")
PROOF_OLD = reason("proof.old", STATUS, "the last passing drill is older than the site's schedule allows",
                   "check the scheduler and the workers")
CONTENTS_UNVERIFIED = reason("contents.unverified", STATUS, "the last drill restored the backup but checked it "
                             "against nothing the site declared (no manifest, no table bounds)",
                             "have the backup job write a manifest (`drill seal`)")

# Alerts whose news is no drill's reason (an alert of a red drill ends with the drill's reason).
ALERT_RECOVERED = reason("alert.recovered", ALERT, "a site that was red passed a drill again: its backup restores",
                         "nothing to do")
ALERT_DRILL_LOST = reason("alert.drill_lost", ALERT, "a drill enqueued `DRILL_LOST_AFTER_SECONDS` ago never "
                          "concluded (a message lost, a worker gone)", "check the workers and Redis, then "
                          "`drill enqueue SITE`")

# What verify-chain finds in the stored reports.
REPORT_EDITED = reason("report.edited", EVIDENCE, "a report's signature does not match its content (edited after "
                       "it was signed), or it holds no sequence number", "compare with the evidence replica's locked "
                       "copy")
REPORT_UNSIGNED = reason("report.unsigned", EVIDENCE, "a report carries no valid signature of a known key",
                         "check the keyring: `drill keys export-public`")
REPORT_UNREADABLE = reason("report.unreadable", EVIDENCE, "a report file does not hold a whole report: a write that "
                           "never completed (disk full, crash, power loss), not an edit",
                           "an evidence replica may hold the original")
CHAIN_BROKEN = reason("chain.broken", EVIDENCE, "a report does not hold the hash of the report before it (one was "
                      "edited, inserted or deleted)", "compare with the evidence replica's locked copies")
CHAIN_GAP = reason("chain.gap", EVIDENCE, "a sequence number is missing (a report was deleted)",
                   "compare with the evidence replica's locked copies")
CHAIN_MISPLACED = reason("chain.misplaced", EVIDENCE, "a report's file name and its signed sequence number differ "
                         "(renamed or reordered), or it is filed under another site's folder",
                         "compare with the evidence replica's locked copies")
CHAIN_REPLAYED = reason("chain.replayed", EVIDENCE, "a drill id appears twice in the chain: an old report copied in "
                        "again (a retry has an id of its own, `attempt_of`)", "compare with the evidence replica's "
                        "locked copies")
REPLICA_MISSING = reason("replica.missing", EVIDENCE, "a local report is not in the evidence replica",
                         "`drill evidence sync` copies what the replica lacks")
REPLICA_DIFFERS = reason("replica.differs", EVIDENCE, "a local report differs from the replica's locked copy",
                         "the local copy was changed: the replica's is the original")
REPLICA_ONLY = reason("replica.only", EVIDENCE, "the replica holds a report the local store lacks (deleted here)",
                      "restore it from the replica")
AUDIT_REWRITTEN = reason("audit.rewritten", EVIDENCE, "a line of the audit journal is not the one a signed anchor "
                         "holds: the journal was rewritten at or before it (even if chained again)",
                         "the anchors locked in the evidence replica date the last intact state")
AUDIT_TRUNCATED = reason("audit.truncated", EVIDENCE, "the audit journal has fewer lines than a signed anchor holds: "
                         "its end was cut", "the anchors locked in the evidence replica date the lines lost")

# Why `drill certificate` refuses.
CERTIFICATE_NOT_PASSED = reason("certificate.not_passed", CERTIFICATE, "the drill did not pass: nothing to certify",
                                "certify a drill that passed (`drill history SITE`)")
CERTIFICATE_CONTENTS_UNVERIFIED = reason("certificate.contents_unverified", CERTIFICATE, "the drill passed without "
                                         "checking the contents against anything the site declared",
                                         "have the backup job write a manifest, then drill again")
CERTIFICATE_INVALID_REPORT = reason("certificate.invalid_report", CERTIFICATE, "the report's signature does not "
                                    "verify with the trusted keys", "run `drill verify-chain SITE`")

# Why `drill api` refuses a request (the HTTP status in the meaning); the body is {"error": code, "message": ...}.
API_UNAUTHORIZED = reason("api.unauthorized", API, "401: no bearer token, or one unknown or revoked",
                          "`drill tokens add` makes a token; `drill tokens list` shows which are revoked")
API_NOT_FOUND = reason("api.not_found", API, "404: no such route, site, drill, signature or badge, or a site outside "
                       "the token's scope (the same answer: it does not tell which)",
                       "`GET /v1/sites` lists the sites the token sees")
API_FORBIDDEN = reason("api.forbidden", API, "403: the token's role may not do this (a drill now takes an operator "
                       "token)", "ask for a token of the tenant's operator: `drill tokens add --role operator`")
API_INVALID_REQUEST = reason("api.invalid_request", API, "422: a parameter is malformed (a language other than fr or "
                             "en, a sequence that is no number, a body that is not the documented JSON)",
                             "docs/api.md and /openapi.json give each route's parameters")
API_QUEUE_UNREACHABLE = reason("api.queue_unreachable", API, "503: the drill now could not be queued (Redis "
                               "unreachable or refusing)", "check Redis and DRILL_REDIS_URL, then ask again")

# The catalog, a key or the command line is wrong (exit 3).
CONFIG_INVALID = reason("config.invalid", CONFIG, "the catalog or a setting is wrong (each problem with its line)",
                        "`drill check` lists every problem; `drill schema` documents every option")
CONFIG_USAGE = reason("config.usage", CONFIG, "the command line is wrong", "`drill COMMAND --help`")
CONFIG_UNKNOWN_SITE = reason("config.unknown_site", CONFIG, "no site of the catalog has that id", "`drill sites`")
CONFIG_NO_SUCH_DRILL = reason("config.no_such_drill", CONFIG, "no report of that drill id", "`drill history SITE`")
CONFIG_SECRET_UNREADABLE = reason("config.secret_unreadable", CONFIG, "a key, identity or password file cannot be "
                                  "read or holds nothing usable", "check the file's path and content")
CONFIG_SECRET_EXPOSED = reason("config.secret_exposed", CONFIG, "a secret file is readable by others",
                               "chmod 600 the file")
CONFIG_BAD_IDENTITY = reason("config.bad_identity", CONFIG, "an age identity file holds no valid identity",
                             "age-keygen writes one")
CONFIG_BAD_RECIPIENT = reason("config.bad_recipient", CONFIG, "an age recipient is not valid (age1...)",
                              "copy the recipient from `age-keygen -y IDENTITY`")
CONFIG_NO_SIGNING_KEY = reason("config.no_signing_key", CONFIG, "the report signing key does not exist",
                               "`drill keys init`")
CONFIG_NO_PUBLIC_KEY = reason("config.no_public_key", CONFIG, "the public half of the signing key is missing",
                              "`drill keys export-public` on the machine that signs")
CONFIG_KEY_EXISTS = reason("config.key_exists", CONFIG, "`drill keys init` would overwrite a signing key",
                           "`drill keys rotate` replaces a key and keeps the old one verifiable")
CONFIG_MISSING_FONTS = reason("config.missing_fonts", CONFIG, "the certificate's PDF fonts are not installed",
                              "run `make setup`")
CONFIG_STAGING_NOT_IN_MEMORY = reason("config.staging_not_in_memory", CONFIG, "the export staging directory is not "
                                      "in memory (plaintext would reach a disk)", "point DRILL_EXPORT_STAGING at a tmpfs")
CONFIG_RUN_DIR = reason("config.run_dir", CONFIG, "the run directory cannot be made private to the restore "
                        "containers' user", "run `drill prepare-host` as root")


def markdown_table() -> str:
    rows = ["| code | outcome | meaning | next step |", "|---|---|---|---|"]
    rows += [f"| `{r.code}` | {r.outcome} | {r.meaning} | {r.hint} |" for r in REASONS.values()]
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(markdown_table(), end="")
