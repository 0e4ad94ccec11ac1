"""The starter catalog `drill init` writes: one site, every line commented, valid as written
(`drill check` passes on it; a test keeps it so). docs/catalog.md lists every option."""

STARTER = """\
# Restore Drill catalog: the sites whose backups are drilled. Written by `drill init`.
# Every option, its type, default and an example: docs/catalog.md (or `drill schema`).
# Editors: `drill schema --json-schema > catalog.schema.json` gives your YAML plugin completion
# and checks as you type. Relative paths are taken from this file's folder.
# Check it with `drill check`; drill a site now with `drill run SITE`.

evidence: evidence/                   # where the signed reports are kept (write-once)
signing_key: keys/signing.ed25519     # signs the reports: create it with `drill keys init`

# Per tenant (the IT provider or editor serving the sites): the contact shown to a site's people.
tenants:
  infogest:
    contact: "Infogest, support 01 23 45 67 89"

# Sites kept in their own files, one site a file (as your tooling may generate them):
# include: [sites.d/]

sites:
  - id: pharmacie-du-port             # stable id: lower case, digits, dashes
    name: Pharmacie du Port
    tenant: infogest
    # Where the backups are: local (a directory or mount), s3 or sftp.
    source:
      type: local
      path: backups/pharmacie-du-port
      pattern: "*.dump.age"           # the newest matching file is drilled
    # The age identity that opens the backups: a reference to a file, never the key itself.
    decrypt:
      identity_file: keys/drill.agekey   # age-keygen -o keys/drill.agekey
    # How to restore: postgres (custom, plain, directory...), mariadb, sqlite or files.
    engine:
      type: postgres
      format: custom
    # What the restored data must show.
    checks:
      manifest: required              # written beside each backup by `drill seal`
      tables:
        public.patients: {min: 1}
    schedule: "0 2 * * *"             # cron, in the scheduler's time zone
    targets:
      rto: 30m                        # longest acceptable restore
      rpo: 26h                        # oldest acceptable backup
"""
