"""Property: for generated requests, export -> import -> export gives the same bundle (everything it says about the
need and the person; the envelope's ids, parties and times are new by design)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import federation_helpers
from federation_helpers import Instance
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from can_crm import unit_of_work
from can_crm.extensions import db
from can_crm.models.enums import SKILLS, Channel, ContactChannel, DbsLevel, Recurrence, RequestType, values
from can_crm.models.request import HelpRequest
from can_crm.services.federation import bundle as bundles
from can_crm.services.federation import receiving, sending
from can_crm.services.requests import intake
from can_crm.services.requests.events import Actor
from tests.conftest import postcode_in

two_authorities = federation_helpers.two_authorities

# Text as people type it: letters (any script), digits, punctuation, spaces; no markup or control characters.
_TEXT = st.text(
    st.characters(categories=["L", "N", "Zs", "Pd", "Po"], exclude_characters="<>&\u2028\u2029"), max_size=60
).map(str.strip)
_NAME = st.from_regex(r"[A-Z][a-zéö]{1,12}([ '\-][A-Z][a-z]{1,12}){1,2}", fullmatch=True)


@st.composite
def requests_and_residents(draw: Any, postcodes: list[str]) -> tuple[dict[str, Any], dict[str, Any], str | None]:
    channel = draw(st.sampled_from(values(ContactChannel)))
    request = {
        "type": draw(st.sampled_from(values(RequestType))),
        "urgency": draw(st.integers(1, 3)),
        "details": draw(_TEXT),
        "due_by": draw(
            st.one_of(
                st.none(), st.integers(0, 300).map(lambda d: (datetime.now(UTC) + timedelta(days=d)).date().isoformat())
            )
        ),
        "required_skills": draw(st.lists(st.sampled_from(sorted(SKILLS)), unique=True, max_size=3)),
        "min_dbs": draw(st.sampled_from(values(DbsLevel))),
        "recurrence": draw(st.sampled_from(values(Recurrence))),
    }
    resident = {
        "name": draw(_NAME),
        "address_line1": draw(_TEXT.filter(bool)),
        "address_line2": draw(_TEXT),
        "town": draw(st.sampled_from(["", "London"])),
        "postcode": draw(st.sampled_from(postcodes)),
        "phone": "07911 123456" if channel in ("phone", "sms") or draw(st.booleans()) else "",
        "email": "someone@example.org" if channel == "email" or draw(st.booleans()) else "",
        "preferred_channel": channel,
        "language": draw(st.sampled_from(["English", "Polish", "Bengali", "Somali"])),
        "accessibility_needs": draw(_TEXT),
        "vulnerabilities": draw(_TEXT),
        "shielding": draw(st.booleans()),
        "consent_given": draw(st.booleans()),
        "lawful_basis": draw(st.sampled_from(["public_task", "consent", "vital_interests"])),
    }
    notes = draw(st.one_of(st.none(), _TEXT.filter(bool)))
    return request, resident, notes


def test_export_import_export_gives_the_same_bundle(
    two_authorities: tuple[Instance, Instance], postcode_index: Path
) -> None:
    hf, kc = two_authorities
    federation_helpers.link(hf, kc)
    postcodes = [postcode_in(postcode_index, "E09000013"), postcode_in(postcode_index, "E09000020")]

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(requests_and_residents(postcodes))
    def round_trip(case: tuple[dict[str, Any], dict[str, Any], str | None]) -> None:
        request_data, resident_data, notes = case
        with hf.app.app_context():
            made = intake.submit(request_data, Actor(role="coordinator"), Channel.PHONE, resident_data=resident_data)
            unit_of_work.commit()
            first = sending.export_file(None, made.reference, kc.gss, "Moved across the border", notes)
            unit_of_work.commit()
        with kc.app.app_context():
            received = receiving.receive(first, channel="file")
            unit_of_work.commit()
            assert received.created
            second = sending.export_file(None, received.reference, hf.gss, "Moved across the border", notes)
            unit_of_work.commit()
            arrived = db.session.scalars(select(HelpRequest).where(HelpRequest.reference == received.reference)).one()
            assert arrived.status == "handed_off"
        assert bundles.content(second) == bundles.content(first)
        assert second["request"]["history"][0]["kind"] == "created"

    try:
        round_trip()
    finally:
        hf.reset()
        kc.reset()
