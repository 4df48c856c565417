"""Shielded-list CSV files for tests and the benchmark: valid NHS numbers, real postcodes, UK phones."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterable

HEADER = ["NHS Number", "First Name", "Last Name", "Date of Birth", "Address Line 1", "Address Line 2",
          "Address Line 3", "Postcode", "Phone", "Mobile", "Email"]  # fmt: skip


def nhs_number(seed: int) -> str:
    """The `seed`-th valid NHS number (modulus 11 check digit) in a fixed order."""
    n = 400_000_000 + seed * 7
    while True:
        digits = f"{n:09d}"
        total = sum(int(d) * w for d, w in zip(digits, range(10, 1, -1), strict=True))
        check = 11 - total % 11
        if check != 10:
            return digits + str(0 if check == 11 else check)
        n += 1


def rows(count: int, postcodes: list[str], seed: int = 1) -> list[list[str]]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        mobile = f"07911 {i % 1000000:06d}" if i % 3 else ""
        out.append([
            nhs_number(i), f"Resident{chr(65 + i % 26)}", f"Test{chr(65 + (i // 26) % 26)}",
            f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(1930, 1990)}",
            f"{i % 200 + 1} Test Street", "", "London", rng.choice(postcodes),
            "020 7946 0000" if i % 2 else "", mobile, "",
        ])  # fmt: skip
    return out


def csv_bytes(data: Iterable[list[str]], header: list[str] = HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(data)
    return out.getvalue().encode("utf-8")
