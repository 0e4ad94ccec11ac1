"""`drill backups` and `drill restorable`: the questions of disaster day. Which backups does the
site have, which did we prove, and which is the newest one that restores?"""

from datetime import datetime, timezone

from drills.commands.common import catalog_of, usage
from drills.commands.drilling import drill_in_foreground
from drills.commands.output import emit, recovery_point_text, table, tried_text
from drills.redaction import printable


def register(add) -> None:
    listing = add("backups", backups, "a site's backups, newest first, with the last verdict of a drill of each "
                                      "name (said changed when its size differs since)")
    listing.add_argument("site", metavar="SITE")
    finder_command = add("restorable", restorable, "find the newest backup that restores: drill the site's "
                                                   "backups from the newest down until one passes")
    finder_command.add_argument("site", metavar="SITE")
    finder_command.add_argument("--max", type=int, default=10, metavar="N",
                                help="look at the N newest backups at most (default: 10)")
    finder_command.add_argument("--again", action="store_true",
                                help="drill every backup again, even one whose verdict a signed report holds")


def backups(arguments) -> int:
    from drills import sources
    from drills.reports import index

    catalog = catalog_of(arguments)
    site = catalog.site(arguments.site)
    summaries = index.read_all(catalog.evidence / site.id)
    last = {}
    for entry in summaries:  # oldest first: the newest drill of each name stays
        if entry.get("outcome") in ("pass", "fail", "error"):
            last[entry.get("backup_name")] = entry
    rows = []
    for backup in sources.listing(site.source, site):
        drilled = last.get(backup.name) or {}
        rows.append({"name": printable(backup.name), "size": backup.size,
                     "modified": backup.modified.isoformat(timespec="seconds"),
                     "last_verdict": drilled.get("outcome"), "reason": drilled.get("reason"),
                     "drill_id": drilled.get("drill_id"), "drilled_at": drilled.get("started_at"),
                     "sha256": drilled.get("backup_sha256"),
                     "changed_since": bool(drilled) and drilled.get("backup_size") not in (None, backup.size)})
    emit(arguments, rows, table([{"backup": row["name"], "size": f"{row['size']:,}", "modified": row["modified"],
                                  "last verdict": verdict_text(row), "drill": row["drill_id"] or "-"} for row in rows]))
    return 0


def verdict_text(row: dict) -> str:
    if not row["last_verdict"]:
        return "never drilled"
    said = row["last_verdict"].upper() + (f" {row['reason']}" if row["reason"] else "")
    return said + (" (the backup changed since: drill it again)" if row["changed_since"] else "")


def restorable(arguments) -> int:
    """Exit 0 when a backup restores, 1 when none of those tried does, 2 when a drill ended in error."""
    from drills import finder

    if arguments.max < 1:
        raise usage("--max must be at least 1")
    catalog = catalog_of(arguments)
    site = catalog.site(arguments.site)

    def drill(name: str):
        return drill_in_foreground(catalog, site, arguments, backup_name=name)

    def said(tried) -> None:
        if not arguments.json:
            print(tried_text(tried.as_dict()), flush=True)

    answer = finder.find(catalog, site, drill, lambda: datetime.now(timezone.utc), arguments.max, arguments.again,
                         said)
    found = answer["found"]
    emit(arguments, answer, recovery_point_text(answer))
    return 0 if found else 2 if answer["stopped_by"] else 1
