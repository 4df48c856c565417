"""Numbers are stored in E.164 (`+442079460189`) and shown as people read and dial them."""

from __future__ import annotations

import pytest

from can_crm.services.common.validation import clean_phone, display_phone


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("+442079460189", "020 7946 0189"),  # a London landline
        ("+447911123456", "07911 123456"),  # a +44 mobile (this range is Guernsey's: still dialled with 0)
        ("+33123456789", "+33 1 23 45 67 89"),  # another country keeps its code
        ("+447700900123", "+447700900123"),  # Ofcom's drama range is no real number: shown as stored
        ("n/a", "n/a"),  # an old record's text: shown as it is, never an error
        ("", ""),
        (None, ""),
    ],
)
def test_a_stored_number_is_shown_as_people_dial_it(stored: str | None, shown: str) -> None:
    assert display_phone(stored) == shown


def test_what_is_shown_is_read_back_as_the_same_number() -> None:
    for typed in ("020 7946 0189", "07911 123456", "+33 1 23 45 67 89"):
        stored = clean_phone(typed)
        assert clean_phone(display_phone(stored)) == stored
