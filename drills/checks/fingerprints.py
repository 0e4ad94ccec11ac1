"""Content fingerprints: an order-independent digest of every row of a table, computed by the
database server itself (no row leaves it), at backup time in the dump's own snapshot and again
on the restored server. A count can stay right while a value changed; a fingerprint cannot.

    fingerprint(T) = ( sum over the rows r of T of u64(r) ) mod 2^64, as 16 lower-case hex digits
    u64(r)         = the first 8 bytes of MD5(text(r)), read as an unsigned big-endian integer

text(r) is the server's own text form of the whole row, under fixed session settings
(docs/fingerprints.md says exactly which, per engine, so a third party can recompute it). A table
with more rows than the cap is sampled: only the rows whose u64 is divisible by `one_in` (a power
of two, recorded in the manifest) count, the same rows on both sides; a row altered is caught
when its old or its new form falls in the sample.
"""

import hashlib
from typing import Iterable

from drills.checks.findings import FAIL, PASS, Finding
from drills import reasons

MODULUS = 2**64


def u64(text: bytes) -> int:
    return int.from_bytes(hashlib.md5(text).digest()[:8], "big")


def reference(row_texts: Iterable[bytes], one_in: int = 1) -> str:
    """The fingerprint of rows given as their text forms: what the servers compute, in Python."""
    total = sum(value for value in map(u64, row_texts) if value % one_in == 0)
    return hexadecimal(total)


def hexadecimal(total: int | str) -> str:
    """A server's sum (an integer, or its decimal text) as the fingerprint's 16 hex digits."""
    return format(int(total) % MODULUS, "016x")


def one_in(estimated_rows: int, cap: int | None) -> int:
    """The sampling of a table of about `estimated_rows` rows: 1 (every row) up to the cap, else the
    smallest power of two bringing it under the cap."""
    if not cap or estimated_rows <= cap:
        return 1
    sample = 1
    while estimated_rows / sample > cap:
        sample *= 2
    return sample


def selected(fingerprints: dict[str, dict], choice) -> dict[str, dict]:
    """The manifest's fingerprints the site checks: `all`, `off`, or a list of tables."""
    if choice == "off":
        return {}
    if choice == "all":
        return fingerprints
    return {table: value for table, value in fingerprints.items() if table in choice}


def findings(restored: dict[str, str], expected: dict[str, dict]) -> list[Finding]:
    """One finding a table: its restored fingerprint against the manifest's. A table not restored
    is left to table.present."""
    found = []
    for table, declared in sorted(expected.items()):
        if table not in restored:
            continue
        sampled = f" (1 row in {declared['one_in']} by hash)" if declared["one_in"] > 1 else ""
        if restored[table] == declared["digest"]:
            found.append(Finding("table.fingerprint", table, PASS, expected=declared["digest"], actual=restored[table],
                                 message=f"rows identical to the source at backup time{sampled}"))
        else:
            found.append(Finding("table.fingerprint", table, FAIL, expected=declared["digest"], actual=restored[table],
                                 code=reasons.VERIFY_CONTENT_MISMATCH,
                                 message=f"{table}'s rows differ from the source at backup time{sampled}, "
                                         "although counted alike or not",
                                 hint="the dump was altered after it was taken, or restores differently: check who "
                                      "can write the backups, and the backup job"))
    return found
