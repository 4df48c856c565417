from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from geo.postcodes import InvalidPostcode, is_valid_postcode, normalise_postcode, parse_postcode, postcode_district


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("w69ju", "W6 9JU"),
        ("W6 9JU", "W6 9JU"),
        ("  sw1a   1aa ", "SW1A 1AA"),
        ("ec1a1bb", "EC1A 1BB"),
        ("M11AE", "M1 1AE"),
        ("cr2 6xh", "CR2 6XH"),
        ("dn551pt", "DN55 1PT"),
        ("W1A\t0AX", "W1A 0AX"),
    ],
)
def test_normalise_formats_postcodes_the_royal_mail_way(raw: str, expected: str) -> None:
    assert normalise_postcode(raw) == expected
    assert parse_postcode(raw) == expected


@pytest.mark.parametrize("raw", ["", "   "])
def test_empty_postcode_asks_for_one(raw: str) -> None:
    with pytest.raises(InvalidPostcode) as err:
        parse_postcode(raw)
    assert err.value.message == "Enter a postcode"


@pytest.mark.parametrize("raw", ["SW1A", "w6", "EC1A"])
def test_outward_code_alone_asks_for_a_full_postcode(raw: str) -> None:
    with pytest.raises(InvalidPostcode) as err:
        parse_postcode(raw)
    assert err.value.message == "Enter a full UK postcode, like SW1A 1AA"


@pytest.mark.parametrize("raw", ["hello", "12345", "W6 9JC", "W6 JJU", "SW1A 1AAA", "W6-9JU", "ЅW1A 1AA", "9W6 9JU"])
def test_malformed_postcode_is_rejected_with_a_form_message(raw: str) -> None:
    with pytest.raises(InvalidPostcode) as err:
        parse_postcode(raw)
    assert err.value.message == "Enter a real postcode"
    assert not is_valid_postcode(raw)


@given(st.text())
def test_normalise_is_idempotent_for_any_text(text: str) -> None:
    once = normalise_postcode(text)
    assert normalise_postcode(once) == once


@given(
    st.from_regex(r"\A[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][ABD-HJLNP-UW-Z]{2}\Z"),
    st.lists(st.sampled_from([" ", "\t", ""]), min_size=0, max_size=3),
    st.booleans(),
)
def test_any_spacing_and_case_of_a_valid_postcode_parses_to_one_form(
    compact: str, spaces: list[str], lower: bool
) -> None:
    text = "".join(spaces) + (compact.lower() if lower else compact) + "".join(spaces)
    parsed = parse_postcode(text)
    assert parsed.replace(" ", "") == compact
    assert parsed[-4] == " "
    assert parse_postcode(parsed) == parsed


def test_a_postcodes_district_is_its_outward_code() -> None:
    assert postcode_district("W6 9AB") == "W6"
    assert postcode_district("SW1A 1AA") == "SW1A"
    assert postcode_district("W69AB") == "W6"  # not normalised: still the outward code
