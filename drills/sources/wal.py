"""WAL segment names (TTTTTTTTLLLLLLLLSSSSSSSS: timeline, log, segment, hexadecimal) and the gaps
in an archive of them: a segment missing between two archived ones stops a recovery there, and a
recovery to the latest point would end at it without an error (PostgreSQL takes it for the end)."""

import re

SEGMENT = re.compile(r"^([0-9A-F]{8})([0-9A-F]{8})([0-9A-F]{8})(?![0-9A-F])")
NOT_A_SEGMENT = re.compile(r"^\.([0-9A-F]{8}\.backup|partial)")  # a backup's history file, a partial segment
DEFAULT_SEGMENT_SIZE = 16 * 1024 * 1024


def parse(name: str) -> tuple[int, int] | None:
    """(timeline, position) of a segment file's name (its first 24 characters), None for another file."""
    match = SEGMENT.match(name)
    if not match or NOT_A_SEGMENT.match(name[24:]) or name[24:25] not in ("", "-", "."):
        return None
    timeline, log, segment = (int(part, 16) for part in match.groups())
    return timeline, log << 32 | segment


def name(timeline: int, position: int) -> str:
    return f"{timeline:08X}{position >> 32:08X}{position & 0xFFFFFFFF:08X}"


def following(position: int, segment_size: int) -> int:
    """The position of the next segment: a log holds 4 GiB / segment_size segments."""
    log, segment = position >> 32, position & 0xFFFFFFFF
    return (log + 1) << 32 if segment + 1 >= (1 << 32) // segment_size else position + 1


def first_gap(names: list[str], start: str, segment_size: int = DEFAULT_SEGMENT_SIZE) -> str | None:
    """The first segment missing on `start`'s timeline between `start` and the newest one archived
    there; None if they follow one another. Partial segments and other files are not segments."""
    first = parse(start)
    if first is None:
        return None
    timeline = first[0]
    have = {parsed[1] for parsed in map(parse, names) if parsed and parsed[0] == timeline and parsed[1] >= first[1]}
    expected, last = first[1], max(have, default=first[1])
    while expected <= last:
        if expected not in have:
            return name(timeline, expected)
        expected = following(expected, segment_size)
    return None
