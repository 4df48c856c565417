"""The bytes a bundle is signed over are RFC 8785 (JCS) canonical JSON: checked against the rfc8785 library for
generated documents of the kinds a bundle holds."""

from __future__ import annotations

from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from can_crm.services.federation.bundle import NotCanonical, canonical

# Any text (any script, emoji, control characters, U+2028), but no lone surrogates: JSON text is UTF-8.
_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(2**53) + 1, 2**53 - 1), _TEXT)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(_TEXT, inner, max_size=5)),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(_TEXT, _JSON, max_size=8))
def test_signed_bytes_are_rfc8785_canonical_json(document: dict[str, Any]) -> None:
    document.pop("signature", None)
    assert canonical(document) == rfc8785.dumps(document)


def test_the_signature_member_is_not_signed() -> None:
    assert canonical({"a": 1, "signature": {"value": "x"}}) == b'{"a":1}'


def test_floats_are_refused_not_signed_in_a_form_another_reader_might_not_reproduce() -> None:
    with pytest.raises(NotCanonical):
        canonical({"request": {"urgency": 1.5}})
