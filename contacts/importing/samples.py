"""PropertyRadar-shaped files with made-up people, for tests, benchmarks and demos.

Real exports hold real people's data and are never committed; this writes the same shape:
39 columns, CRLF, no trailing newline, the licence footer, ALL CAPS text, owners written
"LAST,FIRST & FIRST2", households sharing a cell phone, numbers repeated across rows, leading-zero
ZIPs, negative equity, blank primary names.
"""

import csv
import random
from dataclasses import dataclass, field
from typing import TextIO

from contacts.phones import normalize_phone

HEADER = (  # noqa: SIM905 -- the header exactly as PropertyRadar writes it
    "Type,Address,City,ZIP,Subdivision,Longitude,Latitude,APN,Yr Built,Purchase Date,Purchase Mos Since,"
    "Sq Ft,Beds,Baths,Est Value,Est Equity $,Owner,Mail Address,Mail City,Mail State,Mail ZIP,Owner Occ?,"
    "Listed for Sale?,Listing Status,Foreclosure?,Est Equity %,High Equity?,Primary Name,Primary Mobile Phone1,"
    "Primary Mobile 1 Status,Primary Email1,Primary Email 1 Status,Primary Email1 Hash,Secondary Name,"
    "Secondary Mobile Phone1,Secondary Mobile 1 Status,Secondary Email1,Secondary Email 1 Status,"
    "Secondary Email1 Hash"
).split(",")
FOOTER = (
    "The information contained in this report is subject to the license restrictions and all other terms "
    "contained in PropertyRadar.com's User Agreement."
)
AREA_CODES = ("617", "781", "339", "857", "508", "774", "978")
TOWNS = (("QUINCY", "02169"), ("BRAINTREE", "02184"), ("MILTON", "02186"), ("WEYMOUTH", "02188"),
         ("DEDHAM", "02026"), ("NEEDHAM", "02492"), ("NORWOOD", "02062"), ("CANTON", "02021"))  # fmt: skip
FIRST = ("MARY", "JOHN", "PATRICIA", "MICHAEL", "LINDA", "JAMES", "KATHLEEN", "BRIAN", "MAUREEN", "SEAN")
LAST = (
    "SULLIVAN",
    "MURPHY",
    "O'BRIEN",
    "MCCARTHY",
    "KELLY",
    "WALSH",
    "RYAN",
    "DOYLE",
    "SMITH-JONES",
    "NGUYEN",
)
STREETS = ("ELM ST", "MAIN ST", "HANCOCK ST", "ADAMS ST", "WASHINGTON ST", "BEALE ST", "SEA ST", "OAK AVE")


@dataclass
class SampleStats:
    rows: int = 0
    phone_cells: int = 0
    invalid_phone_cells: int = 0
    rows_without_phone: int = 0
    distinct_phones: set[str] = field(default_factory=set)

    @property
    def entries(self) -> int:
        return self.phone_cells + self.rows_without_phone

    @property
    def folded(self) -> int:
        return self.phone_cells - self.invalid_phone_cells - len(self.distinct_phones)


def _fresh_number(index: int) -> str:
    # Spread sequential indexes over valid-looking exchanges (200-999, never N11) and lines.
    area = AREA_CODES[index % len(AREA_CODES)]
    rest = (index // len(AREA_CODES)) * 7919 % (800 * 10000)
    exchange = 200 + rest // 10000
    if exchange % 100 == 11:
        exchange += 1
    return f"{area}-{exchange:03d}-{rest % 10000:04d}"


def write_propertyradar_csv(out: TextIO, *, rows: int, seed: int = 7) -> SampleStats:
    """Write ``rows`` property rows and the footer to ``out`` (opened with newline='')."""
    rng = random.Random(seed)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    stats = SampleStats(rows=rows)
    issued: list[str] = []
    for i in range(rows):
        town, zip_code = TOWNS[i % len(TOWNS)]
        first, last = rng.choice(FIRST), rng.choice(LAST)
        roll = rng.random()
        if roll < 0.08 and issued:
            primary = rng.choice(issued)  # the same owner on another house
        elif roll < 0.09:
            primary = f"617-1{i % 100:02d}-{i % 10000:04d}"  # no exchange starts with 1: invalid
        elif roll < 0.11:
            primary = ""  # no mobile on record
        else:
            primary = _fresh_number(len(issued) * 2)
            issued.append(primary)
        second = rng.random()
        if second < 0.07 and primary:
            secondary, second_first = primary, rng.choice(FIRST)  # spouses on one cell
        elif second < 0.45:
            secondary, second_first = _fresh_number(len(issued) * 2 + 1), rng.choice(FIRST)
            issued.append(secondary)
        else:
            secondary, second_first = "", ""
        # PropertyRadar leaves Primary Name blank now and then while Owner is always filled.
        primary_name = "" if rng.random() < 0.03 else f"{first} {last}"
        owner = f"{last},{first} & {second_first}" if second_first else f"{last},{first}"
        if rng.random() < 0.02:
            primary_name = owner = f"{last} FAMILY TRUST"
        equity = rng.randint(-80_000, 900_000)
        value = rng.randint(250_000, 1_500_000)
        street = f"{rng.randint(1, 999)} {rng.choice(STREETS)}"
        email = f"{first}.{last}{i}@example.com".lower().replace("'", "") if rng.random() < 0.5 else ""
        writer.writerow([
            "SFR", street, town, zip_code, "",
            f"-71.{rng.randint(0, 999999):06d}", f"42.{rng.randint(0, 999999):06d}",
            f"RAND-{i:06d}-B000000-{seed:06d}", rng.randint(1950, 2023),
            "" if rng.random() < 0.2 else f"{rng.randint(1990, 2024)}-{rng.randint(1, 12):02d}-{rng.randint(10, 28)}",
            "", rng.randint(900, 4000), "" if rng.random() < 0.1 else rng.randint(1, 6),
            rng.choice(["1", "1.5", "2", "2.5"]),
            value, equity, owner,
            street, town, "MA", zip_code, rng.choice("01"), "0", "", "0", round(equity / value * 100, 2),
            "1" if equity > 0.5 * value else "0",
            primary_name, primary, "", email, "", "", f"{second_first} {last}" if second_first else "",
            secondary, "", "", "", "",
        ])  # fmt: skip
        cells = [p for p in (primary, secondary) if p]
        stats.phone_cells += len(cells)
        stats.rows_without_phone += not cells
        for cell in cells:
            phone = normalize_phone(cell)
            if phone is None:
                stats.invalid_phone_cells += 1
            else:
                stats.distinct_phones.add(phone)
    out.write(FOOTER)  # one cell, no trailing newline, as PropertyRadar writes it
    return stats
