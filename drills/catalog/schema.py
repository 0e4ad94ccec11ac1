"""The one schema of the site catalog: every option, its type, its doc and an example.

`docs/catalog.md` is rendered from it (`drill schema`), so the documentation cannot drift.
"""

from croniter import croniter

from drills.catalog import model
from drills.catalog.hosting import REPLICA_HOSTING, SITE_HOSTING, TENANT_HOSTING
from drills.engines import ENGINES
from drills.options import (
    Choice, Custom, Duration, FilePath, Flag, ListOf, MapOf, Number, Record, Text, Variants,
)

SITE_ID_PATTERN = r"[a-z0-9][a-z0-9-]{0,62}"
LOCALE = Choice("Language of the alerts: fr or en (a site's overrides its tenant's; French when neither says).",
                model.LOCALES, example="fr")


def cron_expression(value):
    if not isinstance(value, str) or not croniter.is_valid(value):
        raise ValueError(f"{value!r} is not a valid cron expression (minute hour day month weekday)")
    return value


def single_select(value):
    """Parse the assertion now, not at 2 a.m.: exactly one SELECT statement."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("expected an SQL query")
    try:
        import duckdb  # here: `drill --help` and the catalog's other readers need no SQL engine
    except ImportError:  # a site-side install (`drill seal`) has no DuckDB: the drill service parses it
        return value
    try:
        statements = duckdb.extract_statements(value)
    except duckdb.Error as error:
        raise ValueError(f"not valid SQL: {str(error).splitlines()[0]}") from None
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        raise ValueError("an assertion must be exactly one SELECT statement (the restored database is read-only)")
    return value


def fingerprint_choice(value):
    if value in ("all", "off") or (isinstance(value, list) and value and all(isinstance(t, str) and t for t in value)):
        return value
    raise ValueError(f"expected all, off or a list of tables, got {value!r}")


def scalar(value):
    if isinstance(value, (dict, list)) or value is None:
        raise ValueError(f"expect must be a number or a string, got {value!r}")
    return value


PICK_OPTIONS = {
    "pick": Choice("Which backup to drill: the newest, or one at random within the retention window "
                   "(proves retention; freshness is then not checked).", ("newest", "random"),
                   default="newest", example="random"),
    "retention": Duration("With pick: random, how far back backups are kept.", example="30d"),
}

LOCAL_SOURCE = Record(
    "Backups in a directory or a mounted share (NFS, SMB).",
    {
        "type": Choice("Source plug-in.", ("local",), required=True, example="local"),
        "path": FilePath("Directory holding the site's backups.", required=True,
                         example="backups/pharmacie-du-port"),
        "pattern": Text("Glob of backup file names; the newest by modification time wins, ties by name.",
                        default="*.age", example="*.dump.age"),
        **PICK_OPTIONS,
    },
    build=model.LocalSource,
)

S3_LOCATION = {
    "bucket": Text("Bucket name.", required=True, example="restore-drill-evidence"),
    "prefix": Text("Key prefix inside the bucket.", default="", example="infogest/"),
    "endpoint": Text("Endpoint URL of an S3-compatible service (default: AWS).", example="https://s3.fr-par.scw.cloud"),
    "region": Text("Region.", example="fr-par"),
    "access_key_env": Text("Environment variable holding the access key id (default: the SDK's own chain).",
                           example="EVIDENCE_S3_ACCESS_KEY"),
    "secret_key_env": Text("Environment variable holding the secret access key.", example="EVIDENCE_S3_SECRET_KEY"),
}


def s3_location(fields: dict) -> dict:
    """Record fields -> the S3Location they describe, beside the remaining fields."""
    location = model.S3Location(**{name: fields.pop(name) for name in list(fields) if name in S3_LOCATION})
    return {**fields, "location": location}


S3_SOURCE = Record(
    "Backups in S3-compatible object storage (the certified host's bucket).",
    {
        "type": Choice("Source plug-in.", ("s3",), required=True, example="s3"),
        **S3_LOCATION,
        "pattern": Text("Glob of object names under the prefix; the newest by last-modified time wins, ties by key.",
                        default="*.age", example="pharmacie-du-port/*.dump.age"),
        "sse_customer_key_env": Text("Environment variable holding the base64 256-bit key of objects encrypted "
                                     "server-side with a customer key (SSE-C); SSE-S3 and SSE-KMS need nothing.",
                                     example="PHARMACIE_SSE_KEY"),
        "server_side_encryption": Choice("Server-side encryption asked for when `drill seal` uploads (on top of "
                                         "age: the host's own layer).", ("AES256", "aws:kms"), example="aws:kms"),
        "sse_kms_key_id": Text("KMS key of aws:kms server-side encryption.", example="arn:aws:kms:...:key/..."),
        **PICK_OPTIONS,
    },
    build=lambda **fields: model.S3Source(**s3_location(fields)),
)

SFTP_SOURCE = Record(
    "Backups on an SSH server, read over SFTP with a key; host keys checked against known_hosts only.",
    {
        "type": Choice("Source plug-in.", ("sftp",), required=True, example="sftp"),
        "host": Text("Server name or address.", required=True, example="backup.hds-host.fr"),
        "port": Number("SSH port.", minimum=1, default=22, example=2222),
        "user": Text("Login.", required=True, example="drill"),
        "key_file": FilePath("Private key (mode 600) of the login; no agent, no password.", required=True,
                             example="keys/drill_ed25519"),
        "known_hosts": FilePath("known_hosts file holding the server's host key: an unknown or changed key is "
                                "refused (error.source_host_key).", required=True, example="keys/known_hosts"),
        "path": Text("Remote directory of the site's backups.", required=True, example="/backups/pharmacie-du-port"),
        "pattern": Text("Glob of file names; the newest by modification time wins, ties by name.",
                        default="*.age", example="*.dump.age"),
        **PICK_OPTIONS,
    },
    build=model.SftpSource,
)

DECRYPT = Record(
    "How to decrypt the backup (age format). Secrets only by reference, never inline.",
    {
        "identity_file": FilePath("age identity file (an AGE-SECRET-KEY line), as made by age-keygen.",
                                  example="keys/drill.agekey"),
        "identity_env": Text("Environment variable holding an age identity.", example="DRILL_AGE_IDENTITY"),
        "passphrase_file": FilePath("File holding the passphrase of a passphrase-encrypted backup.",
                                    example="keys/pharmacie.pass"),
        "passphrase_env": Text("Environment variable holding that passphrase.", example="DRILL_PASSPHRASE"),
        "max_work_factor": Number("Largest scrypt work factor (log2) accepted for passphrase files; "
                                  "bounds memory and time against hostile headers.",
                                  minimum=1, default=20, example=18),
    },
    build=model.DecryptSettings,
    exactly_one_of=("identity_file", "identity_env", "passphrase_file", "passphrase_env"),
    required=True,
)

HISTORY_CHECKS = model.HISTORY_CHECKS


def percent(value):
    number = value.removesuffix("%") if isinstance(value, str) else value
    try:
        number = int(number)
    except (TypeError, ValueError):
        raise ValueError(f"expected a percentage such as 20%, got {value!r}") from None
    if not 1 <= number <= 100:
        raise ValueError(f"a percentage from 1% to 100%, got {value!r}")
    return number


HISTORY = Record(
    "How each passing drill is compared with the site's earlier ones (history.*: a warning, the site amber, "
    "unless listed in `fail`).",
    {
        "max_drop": Custom("Largest drop of a table's rows since the backup drilled before, beyond which "
                           "history.rows_dropped is found.", percent, "percentage", default=20, example="20%"),
        "min_rows": Number("Tables that had fewer rows are not compared (small tables swing widely).", minimum=0,
                           default=1000, example=1000),
        "fail": ListOf("The history checks that fail the drill (outcome fail, the site red) instead of warning: "
                       + ", ".join(HISTORY_CHECKS) + ".", Choice("A history check.", HISTORY_CHECKS),
                       default=[], example=["rows_dropped"]),
    },
    build=lambda max_drop, min_rows, fail: model.HistoryChecks(max_drop, min_rows, tuple(fail)),
)

CHECKS = Record(
    "What the restored data must show.",
    {
        "manifest": Choice("Whether the manifest beside the backup must be there.",
                           ("required", "optional", "ignore"), default="optional", example="required"),
        "tables": MapOf("Tables that must exist, with row-count bounds.",
                        Record("Bounds of one table.", {
                            "min": Number("Fewest rows accepted.", minimum=0, example=1),
                            "max": Number("Most rows accepted.", minimum=0, example=100000),
                        }, build=model.TableBounds),
                        default={}, example={"public.patients": {"min": 1}}),
        "sql": ListOf("SQL assertions run by DuckDB on the restored database (schema-qualified names).",
                      Record("One assertion.", {
                          "name": Text("What the assertion proves, in words.", required=True,
                                       example="every prescription line has a prescription"),
                          "query": Custom("One SELECT returning one value.", single_select, "SQL",
                                          required=True, example="SELECT count(*) FROM public.patients WHERE nom IS NULL"),
                          "expect": Custom("The value the query must return.", scalar, "number or text",
                                           required=True, example=0),
                      }, build=model.SqlAssertion),
                      default=[]),
        "may_be_empty": Flag("Whether a restore holding no table (no file, for a documents archive) may pass; "
                             "otherwise it fails with verify.empty.", default=False, example=False),
        "newest_record": Text("The canary: a timestamp or date column (schema.table.column) whose newest value "
                              "gives the age of the data itself; verify.stale_data above the RPO target.",
                              pattern=r"([^.\s]+\.)?[^.\s]+\.[^.\s]+", example="public.ventes.vendu_le"),
        "fingerprints": Custom("Which tables' content fingerprints (format 2 manifests, `drill seal SITE --dsn`) are "
                               "compared after the restore: all, off, or a list of tables; a difference is "
                               "verify.content_mismatch.", fingerprint_choice, "all, off or a list",
                               default="all", example=["public.patients", "public.ordonnances"]),
        "fingerprint_rows": Number("Rows above which `drill seal` fingerprints a table by a sample (the rows whose "
                                   "hash is divisible by a power of two), said in the finding.",
                                   minimum=1, default=1_000_000, example=10_000_000),
        "history": HISTORY,
    },
    build=model.Checks,
)

ALERTS = Record(
    "Alerts on state change (green to red, red to green), RTO above target and neglect.",
    {
        "urls": ListOf("apprise URLs without secrets (webhooks on a private network, syslog...).",
                       Text("An apprise URL."), default=[], example=["json://alerts.internal/restore-drill"]),
        "urls_env": Text("Environment variable holding apprise URLs with their tokens, space-separated.",
                         example="INFOGEST_ALERT_URLS"),
        "no_success_days": Number("Alert when no drill passed for this many days.", minimum=1, example=3),
    },
    build=model.Alerts,
)

SITE = Record(
    "One customer location whose backups are verified.",
    {
        "id": Text("Stable identifier (lower case, digits, dashes).", pattern=SITE_ID_PATTERN,
                   required=True, example="pharmacie-du-port"),
        "name": Text("Name shown to people.", required=True, example="Pharmacie du Port"),
        "tenant": Text("IT provider or editor serving the site.", pattern=SITE_ID_PATTERN,
                       required=True, example="infogest"),
        "source": Variants("Where the backups are.", {"local": LOCAL_SOURCE, "s3": S3_SOURCE, "sftp": SFTP_SOURCE}, required=True),
        "decrypt": DECRYPT,
        "engine": Variants("How to restore.", {name: engine.options for name, engine in ENGINES.items()},
                           required=True),
        "checks": CHECKS,
        "schedule": Custom("When to drill (cron, in the scheduler's time zone).", cron_expression, "cron",
                           default="0 2 * * *", example="0 2 * * *"),
        "targets": Record("Recovery targets.", {
            "rto": Duration("Longest acceptable restore (fetch to verified data).", required=True, example="30m"),
            "rpo": Duration("Oldest acceptable backup.", required=True, example="26h"),
        }, build=model.Targets, required=True),
        "alerts": ALERTS,
        "locale": LOCALE,
        "heartbeat": Text("URL pinged (HTTP GET) after each passing drill of the site's newest backup, never after a "
                          "fail or an error (healthchecks.io, Uptime Kuma push): silence is the alarm.",
                          pattern=r"https?://\S+", example="https://hc.example/ping/0f6c2b1e"),
        "heartbeat_env": Text("Environment variable holding that URL, where its path is a secret.",
                              example="PORT_HEARTBEAT_URL"),
        "hosting": SITE_HOSTING,
    },
    build=model.Site,
)

EVIDENCE_REPLICA = Record(
    "A write-once copy of every signed report in S3-compatible storage, with Object Lock: a report edited "
    "or deleted on the evidence directory is still there, intact, and `drill verify-chain` names it.",
    {
        "type": Choice("Replica plug-in.", ("s3",), required=True, example="s3"),
        **S3_LOCATION,
        "object_lock": Choice("Object Lock mode of each report: compliance (nobody can delete it before its "
                              "retention ends), governance (privileged users can), or none (the bucket has no "
                              "Object Lock; reports are still written only if absent).",
                              ("compliance", "governance", "none"), default="compliance", example="compliance"),
        "retention": Duration("How long each report is locked.", default=6 * 365 * 86400, example="6y"),
        "hosting": REPLICA_HOSTING,
    },
    build=lambda **fields: model.EvidenceReplica(**s3_location(fields)),
)

CATALOG = Record(
    "The catalog file. Relative paths are taken from the file's folder.",
    {
        "evidence": FilePath("Directory of the evidence store (signed reports).", required=True,
                             example="evidence/"),
        "evidence_replica": EVIDENCE_REPLICA,
        "signing_key": FilePath("Ed25519 private key signing the reports (drill keys init).",
                                required=True, example="keys/signing.ed25519"),
        "sites": ListOf("The sites (more may come from `include`).", SITE, required=True),
        "include": ListOf("Directories of site files (every *.yaml and *.yml in them, one site a file, the way "
                          "providers generate them) or single files (a site, or a list of sites), added to `sites`; "
                          "a problem in one names that file and its line. Their relative paths are taken from this "
                          "file's folder.", Text("A directory or a file, from the catalog's folder."), default=[],
                          example=["sites.d/"]),
        "tenants": MapOf("Settings per tenant (IT provider or editor), by tenant id.",
                         Record("One tenant.", {
                             "alerts": ALERTS,
                             "locale": LOCALE,
                             "contact": Text("Whom a site's people call when their backup is red, as shown on "
                                             "their status page.", example="Infogest, 01 23 45 67 89"),
                             "hosting": TENANT_HOSTING,
                         }, build=model.Tenant), default={}),
    },
    required=True,
)
