"""The fast +44 phone check in the shielded import agrees with phonenumbers.is_valid_number."""

from __future__ import annotations

import random

import phonenumbers
import pytest

from can_crm.services.common.errors import ValidationError
from can_crm.services.outreach.shielded_csv import _phone


def library(text: str) -> str | None:
    try:
        number = phonenumbers.parse(text, "GB")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def fast(text: str) -> str | None:
    try:
        return _phone(text, "phone")
    except ValidationError:
        return None


def test_fast_check_matches_the_library_on_random_uk_numbers() -> None:
    rng = random.Random(44)
    samples = ["07911 123456", "020 7946 0000", "07700 900123", "+44 7911 123456", "0044 20 7946 0000"]
    samples += ["07781 123456", "01624 612345", "0800 123 4567", "09012 345678", "012345", "+1 202 555 0143"]
    for _ in range(5000):
        lead = rng.choice(["01", "02", "03", "05", "07", "08", "09"])
        samples.append(lead + "".join(rng.choice("0123456789") for _ in range(rng.choice([8, 9]))))
    disagreements = [s for s in samples if fast(s) != library(s)]
    assert disagreements == []


@pytest.mark.parametrize("text", ["0791112345a", "07", "+44 12"])
def test_nonsense_is_refused(text: str) -> None:
    assert fast(text) is None
