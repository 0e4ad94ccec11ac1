"""`drill manifest` and `drill seal`: what runs on the site's side, beside the backup job."""

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
    seal_command = add("seal", seal, "site side: encrypt a dump and its manifest with age and upload both to the "
                                     "site's source")
    seal_command.add_argument("site", metavar="SITE")
    seal_command.add_argument("dump", metavar="DUMP", help="the dump or archive the backup job just wrote")
    seal_command.add_argument("--dsn", help="count the live PostgreSQL database for the manifest, e.g. 'dbname=lgo'")
    seal_command.add_argument("--manifest", help="or: the manifest the backup job wrote")
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
    from drills.seal import seal as seal_backup

    catalog = catalog_of(arguments)
    written = seal_backup(catalog.site(arguments.site), Path(arguments.dump), recipients_of(arguments),
                          arguments.dsn, arguments.manifest)
    emit(arguments, written, f"{written['site']}: {written['backup']} and {written['manifest']} uploaded "
                             f"({written['bytes']:,} bytes sealed for {written['recipients']} recipient(s), "
                             f"{written['tables']} tables in the manifest)")
    return 0
