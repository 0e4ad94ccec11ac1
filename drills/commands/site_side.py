"""`drill manifest` and `drill seal`: what runs on the site's side, beside the backup job."""

import sys
from pathlib import Path

from drills.commands.common import add_recipients, catalog_of, recipients_of, usage
from drills.commands.output import emit
from drills.engines import ENGINES


def register(add) -> None:
    manifest = add("manifest", print_manifest,
                   "print the manifest of a live database (exact row counts) or of a backup file")
    manifest.add_argument("engine", choices=list(ENGINES))
    manifest.add_argument("--dsn", help="postgres: libpq connection string, e.g. 'host=/run/pg dbname=lgo'; "
                                        "mariadb: 'host=localhost socket=/run/mysqld/mysqld.sock user=root "
                                        "database=lgo'")
    manifest.add_argument("--file", help="sqlite: the database file; files: the tar archive (plain, gzip, zstd)")
    manifest.add_argument("--site", required=True)
    seal_command = add("seal", seal, "site side: dump the live database with its manifest in one snapshot (--dsn, "
                                     "no DUMP), or take the job's DUMP; encrypt both with age and upload them to the "
                                     "site's source")
    seal_command.add_argument("site", metavar="SITE")
    seal_command.add_argument("dump", metavar="DUMP", nargs="?",
                              help="the dump or archive the backup job wrote (leave out with --dsn: drill seal dumps)")
    seal_command.add_argument("--dsn", help="the live database (PostgreSQL: 'dbname=lgo'; MariaDB: 'host=localhost "
                                            "socket=/run/mysqld/mysqld.sock user=backup database=lgo'): without DUMP, "
                                            "dumped, counted and fingerprinted in one snapshot")
    seal_command.add_argument("--format", choices=["custom", "plain", "directory"],
                              help="without DUMP, PostgreSQL: pg_dump's format (default custom; directory: dumped by "
                                   "parallel jobs on /dev/shm, uploaded as a tar); MariaDB dumps plain SQL")
    seal_command.add_argument("--manifest", help="with DUMP: the manifest the backup job wrote")
    add_recipients(seal_command)


def print_manifest(arguments) -> int:
    from drills.manifest import of_backup_file, of_live_database

    if ENGINES[arguments.engine].manifest == "live":
        if not arguments.dsn:
            raise usage(f"{arguments.engine} counts a live database: give --dsn")
        print(of_live_database(arguments.dsn, arguments.site, engine=arguments.engine))
    else:
        if not arguments.file:
            raise usage(f"{arguments.engine} reads the backup itself: give --file")
        print(of_backup_file(arguments.engine, Path(arguments.file), arguments.site))
    return 0


def seal(arguments) -> int:
    from drills.seal import seal as seal_backup, seal_snapshot
    from drills.sealing import SNAPSHOTS

    catalog = catalog_of(arguments)
    site = catalog.site(arguments.site)
    if arguments.dump is None:
        if not arguments.dsn:
            raise usage("give --dsn (drill seal dumps the live database) or the DUMP the backup job wrote")
        written = seal_snapshot(site, arguments.dsn, recipients_of(arguments), arguments.format)
    else:
        if arguments.dsn:
            better = f" Let drill seal make the dump: drill seal {site.id} --dsn DSN" \
                if site.engine.type in SNAPSHOTS else ""
            print(f"drill: warning: {site.id}'s counts are taken now, after the dump: rows written in between make "
                  f"the drill red although the backup is good.{better}", file=sys.stderr)
        written = seal_backup(site, Path(arguments.dump), recipients_of(arguments), arguments.dsn, arguments.manifest)
    emit(arguments, written, f"{written['site']}: {written['backup']} and {written['manifest']} uploaded "
                             f"({written['bytes']:,} bytes sealed for {written['recipients']} recipient(s), "
                             f"{written['tables']} tables and {written['fingerprints']} fingerprints in the manifest)")
    return 0
