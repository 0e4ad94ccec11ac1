"""`drill history` and `drill index`: past drills, from a site's reports or the compacted index."""

import sys

from drills.commands.common import catalog_of, usage
from drills.commands.output import emit, seconds_text, summary_row, table
from drills.reports.evidence import EvidenceStore


def register(add) -> None:
    history = add("history", site_history, "past drills of a site, or of every site (--all, --since, --outcome)")
    history.add_argument("site", nargs="?", metavar="SITE")
    history.add_argument("--all", action="store_true", help="every site, from the compacted index")
    history.add_argument("--since", help="only drills started within this duration, e.g. 30d")
    history.add_argument("--outcome", choices=["pass", "fail", "error", "unreadable"])
    history.add_argument("--limit", type=int, default=20)
    index = add("index", compact_index, "compact every site's index into one Parquet file for DuckDB")
    index.add_argument("--rebuild", action="store_true", help="first rebuild each site's index from its signed reports")


def site_history(arguments) -> int:
    catalog = catalog_of(arguments)
    if arguments.all or arguments.since or arguments.outcome:
        return fleet_history(arguments, catalog)
    if not arguments.site:
        raise usage("name a site, or --all")
    site = catalog.site(arguments.site)
    reports = EvidenceStore(catalog.evidence).history(site.id)[-arguments.limit:]
    emit(arguments, [summary_row(r) | {"drill_id": r["drill_id"], "started_at": r["started_at"]} for r in reports],
         table([{"started": r["started_at"], "drill": r["drill_id"]} | summary_row(r) for r in reports])
         if reports else f"no drill yet for {site.id}: run `drill run {site.id}`")
    return 0


def fleet_history(arguments, catalog) -> int:
    """Drills across sites from the compacted index (DuckDB), newest first."""
    from drills.options import UNITS, parse_amount
    from drills.reports import compaction

    since = parse_amount(arguments.since, UNITS) if arguments.since else None
    if arguments.since and not since:
        raise usage(f"--since expects a duration such as 30d or 12h, got {arguments.since!r}")
    filters, values = ["TRUE"], []
    for column, value in (("site", arguments.site), ("outcome", arguments.outcome)):
        if value:
            filters.append(f"{column} = ?")
            values.append(value)
    if since:
        filters.append("started_at >= now() - to_seconds(?)")
        values.append(since)
    with compaction.connect(catalog.evidence) as connection:
        rows = connection.execute(
            "SELECT site, started_at::VARCHAR AS started_at, drill_id, upper(outcome) AS outcome, "
            "coalesce(reason, '-') AS reason, rto_seconds FROM summaries WHERE " + " AND ".join(filters) +
            f" ORDER BY started_at DESC LIMIT {int(arguments.limit)}", values).fetchall()
    found = [dict(zip(("site", "started", "drill", "outcome", "reason", "rto"), row)) for row in rows]
    emit(arguments, found, table([{**row, "rto": seconds_text(row["rto"])} for row in found]))
    return 0


def compact_index(arguments) -> int:
    """Rebuild the sites' indexes from their signed reports (if asked), then compact them."""
    from drills.reports import compaction

    catalog = catalog_of(arguments)
    if arguments.rebuild:
        for site in catalog.sites:
            site_dir = catalog.evidence / site.id
            if site_dir.is_dir():
                print(f"{site.id}: {compaction.rebuild_site_index(site_dir)} summaries rebuilt from the reports",
                      file=sys.stderr)
    rows = compaction.compact(catalog.evidence)
    emit(arguments, {"summaries": rows}, f"{catalog.evidence / compaction.FOLDER / compaction.PARQUET}: "
                                         f"{rows} drill summaries")
    return 0
