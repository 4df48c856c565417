"""The one intake path: every channel (web form, phone, partner, councillor, API, campaign) validates a new
request and its resident once, decides consent and the lawful basis here (so the API records them exactly as
the forms do), warns of a likely duplicate when the channel asks for it, and creates.

Nobody is turned away by our data: a well-formed postcode the installed directory does not list is accepted,
and the resident's location is recorded as unknown for a coordinator to set (see residents.profiles).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from can_crm.extensions import db
from can_crm.models.base import utcnow
from can_crm.models.enums import OPEN_STATUSES, Channel, EventKind, LawfulBasis, Role, Status
from can_crm.models.request import HelpRequest
from can_crm.models.resident import Resident
from can_crm.services.common.errors import DomainError, FieldErrors
from can_crm.services.notifications import outgoing
from can_crm.services.requests.events import Actor, record_event
from can_crm.services.requests.occurrences import sla_due, unique_reference
from can_crm.services.requests.rules import clean_request
from can_crm.services.residents import profiles as residents
from can_crm.services.residents import request_location
from can_crm.unit_of_work import atomic

# Who must confirm consent, and in what words: the resident on the public form, the partner or councillor
# raising on a resident's behalf. Staff taking a call record consent as given or not, under the lawful basis
# they choose (public task by default).
_CONSENT_NEEDED = {
    Channel.WEB: "Confirm that we can use your details to arrange help",
    Channel.PARTNER: "Confirm that the resident agreed we can use their details",
    Channel.COUNCILLOR: "Confirm that the resident agreed we can use their details",
}
_RAISERS_ON_BEHALF = {Role.PARTNER.value, Role.COUNCILLOR.value}


class LikelyDuplicate(DomainError):
    """The new request looks like one that is still open; the person must confirm it is not a duplicate."""

    code = "likely_duplicate"
    http_status = 409

    def __init__(self, matches: list[HelpRequest]) -> None:
        super().__init__("This looks like a request that is already open", "not_duplicate")
        self.matches = matches


@dataclass(frozen=True)
class Checked:
    request: dict[str, Any]
    resident: dict[str, Any] | None
    resident_id: int | None


def _consent_rule(channel: Channel, actor: Actor) -> str | None:
    """The message to show when consent is missing, or None when consent is not a condition of intake."""
    if channel in _CONSENT_NEEDED:
        return _CONSENT_NEEDED[channel]
    if actor.role in _RAISERS_ON_BEHALF:
        return _CONSENT_NEEDED[Channel.PARTNER]
    return None


def check(
    request_data: Mapping[str, Any],
    actor: Actor,
    channel: Channel,
    *,
    resident_data: Mapping[str, Any] | None = None,
    resident_id: int | None = None,
) -> Checked:
    """Validate the request and its resident once, refusing with every field's message at once."""
    errors: dict[str, str] = {}
    cleaned_request: dict[str, Any] = {}
    try:
        cleaned_request = clean_request(request_data)
    except FieldErrors as exc:
        errors.update(exc.fields)
    cleaned_resident: dict[str, Any] | None = None
    if resident_id is not None:
        if db.session.get(Resident, resident_id) is None:
            errors["resident_id"] = "No resident with that id"
    else:
        data = dict(resident_data or {})
        consent_message = _consent_rule(channel, actor)
        if consent_message is not None:
            # Consent is the basis when the resident (or someone for them) gives it on a form of their own.
            data["lawful_basis"] = LawfulBasis.CONSENT.value
        try:
            cleaned_resident = residents.clean_resident(data)
        except FieldErrors as exc:
            errors.update({f"resident.{k}": v for k, v in exc.fields.items()})
        else:
            if consent_message is not None and not cleaned_resident["consent_given"]:
                errors["resident.consent_given"] = consent_message
    if errors:
        raise FieldErrors(errors)
    return Checked(cleaned_request, cleaned_resident, resident_id)


def likely_duplicates(resident: Mapping[str, Any], request_type: str) -> list[HelpRequest]:
    """Open requests of the same type for what looks like the same resident (same name and postcode, or phone).
    `resident` is already cleaned."""
    same_person = (func.lower(Resident.name) == resident["name"].lower()) & (Resident.postcode == resident["postcode"])
    if resident.get("phone"):
        same_person = same_person | (Resident.phone == resident["phone"])
    query = (
        select(HelpRequest)
        .join(Resident, HelpRequest.resident_id == Resident.id)
        .where(same_person, HelpRequest.type == request_type, HelpRequest.status.in_([s.value for s in OPEN_STATUSES]))
        .options(joinedload(HelpRequest.resident))
        .order_by(HelpRequest.created_at.desc(), HelpRequest.id.desc())
        .limit(5)
    )
    return list(db.session.scalars(query).unique())


@atomic
def submit(
    request_data: Mapping[str, Any],
    actor: Actor,
    channel: Channel,
    *,
    resident_data: Mapping[str, Any] | None = None,
    resident_id: int | None = None,
    warn_duplicates: bool = False,
) -> HelpRequest:
    """Take a request from any channel. Validates everything first, so a refusal changes nothing.

    With `warn_duplicates`, a request that looks like an open one is refused with `LikelyDuplicate` (staff then
    confirm and submit again without the warning)."""
    checked = check(request_data, actor, channel, resident_data=resident_data, resident_id=resident_id)
    if warn_duplicates and checked.resident is not None:
        matches = likely_duplicates(checked.resident, checked.request["type"])
        if matches:
            raise LikelyDuplicate(matches)
    if checked.resident is not None:
        resident = residents.create_checked(checked.resident, actor.user_id)
    else:
        assert checked.resident_id is not None
        resident = residents.get_resident(checked.resident_id)
    now = utcnow()
    request = HelpRequest(
        reference=unique_reference(),
        resident_id=resident.id,
        status=Status.NEW.value,
        channel=channel.value,
        raised_by_id=actor.user_id,
        created_at=now,
        sla_due_at=sla_due(checked.request["type"], now, checked.request["due_by"]),
        **checked.request,
    )
    db.session.add(request)
    db.session.flush()
    request_location.follow([resident.id])
    record_event(request, actor, EventKind.CREATED, None, Status.NEW.value, f"Received by {channel.value}")
    outgoing.on_request_created(request)
    return request
