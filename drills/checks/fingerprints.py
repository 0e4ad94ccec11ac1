"""Content fingerprints: an order-independent digest of every row of a table, computed by the
database server itself (no row leaves it), at backup time in the dump's own snapshot and again
on the restored server. A count can stay right while a value changed; a fingerprint cannot.

    fingerprint(T) = ( sum over the rows r of T of hash(text(r)) ) mod 2^64, as 16 hex digits

text(r) is the server's own text form of the whole row under fixed session settings, hash() its
64-bit text hash (PostgreSQL: hashtextextended(text, 0), reimplemented below so that a fingerprint
can be recomputed without a server); docs/fingerprints.md says exactly which and how. A table
with more rows than the cap is sampled: only the rows whose primary key's hash (hashint8extended
for one integer column, else its text form's; the whole row's without a key) is divisible by
`one_in`, a power of two, count; both are recorded in the manifest so that both sides take the
same rows.
"""

from drills.checks.findings import FAIL, PASS, Finding
from drills import reasons

MODULUS = 2**64
WORD = 0xFFFFFFFF


def postgres_text_hash(data: bytes) -> int:
    """PostgreSQL's hashtextextended(text, 0) of `data` (the text's bytes), as a little-endian
    server computes it: Bob Jenkins' lookup3 (hash_bytes_extended, src/common/hashfn.c). So that
    anyone can recompute a fingerprint from the rows' text forms alone."""
    a = b = c = (0x9E3779B9 + len(data) + 3923095) & WORD
    whole = len(data) - len(data) % 12
    for start in range(0, whole, 12):
        a, b, c = (a + le32(data, start)) & WORD, (b + le32(data, start + 4)) & WORD, (c + le32(data, start + 8)) & WORD
        a, b, c = mix(a, b, c)
    tail = data[whole:]
    a = (a + int.from_bytes(tail[0:4], "little")) & WORD
    b = (b + int.from_bytes(tail[4:8], "little")) & WORD
    c = (c + (int.from_bytes(tail[8:11], "little") << 8)) & WORD  # the lowest byte of c is the length's
    a, b, c = final(a, b, c)
    value = (b << 32) | c
    return value - MODULUS if value >= 2**63 else value


def postgres_int8_hash(value: int) -> int:
    """PostgreSQL's hashint8extended(value, 0): how a table sampled by an integer key picks its rows."""
    low, high = value & WORD, (value >> 32) & WORD
    low ^= high if value >= 0 else ~high & WORD
    a, b, c = final((0x9E3779B9 + 4 + 3923095 + low) & WORD, (0x9E3779B9 + 4 + 3923095) & WORD,
                    (0x9E3779B9 + 4 + 3923095) & WORD)
    unsigned = (b << 32) | c
    return unsigned - MODULUS if unsigned >= 2**63 else unsigned


def le32(data: bytes, start: int) -> int:
    return int.from_bytes(data[start:start + 4], "little")


def rot(value: int, bits: int) -> int:
    return ((value << bits) | (value >> (32 - bits))) & WORD


def mix(a: int, b: int, c: int) -> tuple[int, int, int]:
    for shift_a, shift_b, shift_c in ((4, 6, 8), (16, 19, 4)):
        a = ((a - c) & WORD) ^ rot(c, shift_a)
        c = (c + b) & WORD
        b = ((b - a) & WORD) ^ rot(a, shift_b)
        a = (a + c) & WORD
        c = ((c - b) & WORD) ^ rot(b, shift_c)
        b = (b + a) & WORD
    return a, b, c


def final(a: int, b: int, c: int) -> tuple[int, int, int]:
    c = ((c ^ b) - rot(b, 14)) & WORD
    a = ((a ^ c) - rot(c, 11)) & WORD
    b = ((b ^ a) - rot(a, 25)) & WORD
    c = ((c ^ b) - rot(b, 16)) & WORD
    a = ((a ^ c) - rot(c, 4)) & WORD
    b = ((b ^ a) - rot(a, 14)) & WORD
    c = ((c ^ b) - rot(b, 24)) & WORD
    return a, b, c


def combined(row_hashes) -> str:
    """The fingerprint of rows given by their 64-bit hashes (signed or not): what the server sums."""
    return hexadecimal(sum(row_hashes))


def postgres_reference(row_texts) -> str:
    """A PostgreSQL table's fingerprint (every row) from its rows' text forms, without a server."""
    return combined(postgres_text_hash(text) for text in row_texts)


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


def query(dialect, source: str, entry: dict, columns: list[tuple[str, str]] = ()) -> str:
    """The SQL the server runs for a table's fingerprint: `entry` is {one_in, key} (a list of the
    primary key's columns, or None), `source` the table as a query names it, `columns` its columns
    and their types where the dialect has no whole-row text form."""
    every = dialect.whole_row or listed(dialect, columns)
    sample = ""
    if entry["one_in"] > 1:
        sample = f" WHERE mod({sampler(dialect, entry, columns, every)}, {int(entry['one_in'])}) = 0"
    row_hash = dialect.row_hash.format(columns=every)
    return f"SELECT {dialect.digest} AS digest FROM (SELECT {row_hash} AS h FROM {source} t{sample}) r"


def sampler(dialect, entry: dict, columns: list[tuple[str, str]], every: str) -> str:
    """The hash a sampled table's rows are picked by: its one-column integer key's (cheapest), its
    primary key's text form, or the whole row's (no primary key)."""
    key = entry.get("key")
    if key and entry.get("integer_key") and dialect.integer_key_hash:
        return dialect.integer_key_hash.format(column=f"t.{dialect.quoted(key[0])}")
    types = dict(columns)
    return dialect.row_hash.format(columns=listed(dialect, [(column, types.get(column, "")) for column in key])
                                   if key else every)


def listed(dialect, columns: list[tuple[str, str]]) -> str:
    """Each column in the text form the dialect gives its type."""
    forms = dict(dialect.column_forms)
    return ", ".join(forms.get(kind.lower(), forms[""]).format(name=dialect.quoted(name)) for name, kind in columns)


def selected(fingerprints: dict[str, dict], choice) -> dict[str, dict]:
    """The manifest's fingerprints the site checks: `all`, `off`, or a list of tables."""
    if choice == "off":
        return {}
    if choice == "all":
        return fingerprints
    return {table: value for table, value in fingerprints.items() if table in choice}


def sampling(entry: dict) -> str:
    if entry["one_in"] == 1:
        return ""
    picked_by = "primary key" if entry.get("key") else "content"
    return f" (a sample: 1 row in {entry['one_in']} by the hash of its {picked_by})"


def findings(restored: dict[str, str], expected: dict[str, dict]) -> list[Finding]:
    """One finding a table: its restored fingerprint against the manifest's entry (expected). A
    table not restored is left to table.present."""
    found = []
    for table, declared in sorted(expected.items()):
        if table not in restored:
            continue
        if restored[table] == declared["digest"]:
            found.append(Finding("table.fingerprint", table, PASS, expected=declared, actual=restored[table],
                                 message=f"rows identical to the source at backup time{sampling(declared)}"))
        else:
            found.append(Finding("table.fingerprint", table, FAIL, expected=declared, actual=restored[table],
                                 code=reasons.VERIFY_CONTENT_MISMATCH,
                                 message=f"{table}'s rows differ from the source at backup time{sampling(declared)}",
                                 hint="the dump was altered after it was taken, or restores differently: check who "
                                      "can write the backups, and the backup job"))
    return found
