"""The demo pharmacy: rows as declared, valid and unique CIP13 codes, deterministic for a seed."""

import re
from datetime import datetime, timezone

from drills.demo.generator import pharmacy_sql, table_sizes

AS_OF = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)


def copied_rows(patients: int, seed: int = 1, as_of: datetime = AS_OF) -> dict[str, list[list[str]]]:
    text = b"".join(pharmacy_sql(patients, seed, as_of)).decode()
    tables = {}
    for table, body in re.findall(r"COPY (\w+) \([^)]*\) FROM stdin;\n(.*?)\\\.\n", text, re.S):
        tables[table] = [line.split("\t") for line in body.splitlines()]
    return tables


def ean13_valid(code: str) -> bool:
    total = sum(int(digit) * (3 if index % 2 else 1) for index, digit in enumerate(code[:12]))
    return (10 - total % 10) % 10 == int(code[12])


def test_every_table_gets_the_rows_its_size_declares():
    rows = copied_rows(300)
    assert {table: len(lines) for table, lines in rows.items()} == table_sizes(300)


def test_product_codes_are_valid_unique_cip13_and_prescriber_numbers_unique_rpps():
    rows = copied_rows(3000, seed=3)
    codes = [line[1] for line in rows["produits"]]
    assert len(set(codes)) == len(codes) and all(code.startswith("34009") and ean13_valid(code) for code in codes)
    rpps = [line[1] for line in rows["prescripteurs"]]
    assert len(set(rpps)) == len(rpps) and all(len(number) == 11 for number in rpps)


def test_the_same_seed_gives_the_same_pharmacy_and_another_seed_another():
    assert copied_rows(100, seed=7) == copied_rows(100, seed=7)
    assert copied_rows(100, seed=7)["patients"] != copied_rows(100, seed=8)["patients"]


def test_the_newest_sale_is_just_before_the_pharmacy_stops_and_nothing_is_after():
    sold = [datetime.fromisoformat(line[2]) for line in copied_rows(200)["ventes"]]
    assert max(sold) <= AS_OF and (AS_OF - max(sold)).total_seconds() <= 600
