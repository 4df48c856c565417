"""Offers: a request in `matched` with a volunteer is offered to them; they accept or decline.

How an offer reaches the volunteer is a channel (`OfferChannel`). The web channel is the offers page itself; an
SMS channel (YES/NO replies, from the notifications work) is one more adapter: it sends `OfferView` text
(which never names the resident) and turns the reply into `reply(...)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import Row, select

from can_crm.extensions import db
from can_crm.models.enums import REQUEST_TYPE_LABELS, RequestType, Status
from can_crm.models.request import HelpRequest
from can_crm.models.resident import Resident
from can_crm.models.volunteer import Volunteer
from can_crm.services.common.errors import NotFound, ValidationError
from can_crm.services.common.validation import clean_text
from can_crm.services.requests import lifecycle
from can_crm.services.requests.events import Actor
from can_crm.services.volunteers.profiles import distance_km
from can_crm.unit_of_work import atomic


@dataclass(frozen=True)
class OfferView:
    """What a volunteer may know before accepting: what, when, roughly where. Never who or the exact address."""

    reference: str
    type: str
    type_label: str
    urgency: int
    due_by: date | None
    sla_due_at: datetime
    district: str
    distance_km: float | None
    required_skills: tuple[str, ...]


class OfferChannel(Protocol):
    """A way to tell a volunteer about an offer. `send` runs after the commit; it must not change the request."""

    name: str

    def send(self, volunteer: Volunteer, offer: OfferView) -> None: ...


class WebChannel:
    """The offers page: the offer is there the next time the volunteer looks. Nothing to send."""

    name = "web"

    def send(self, volunteer: Volunteer, offer: OfferView) -> None:
        return None


_CHANNELS: dict[str, OfferChannel] = {"web": WebChannel()}


def register_channel(channel: OfferChannel) -> None:
    """Add a channel (e.g. SMS from the notifications work); offers go out on every registered channel."""
    _CHANNELS[channel.name] = channel


def channels() -> list[OfferChannel]:
    return list(_CHANNELS.values())


def district(postcode: str) -> str:
    """The postcode district ("W6 9AB" -> "W6"): roughly where, never the exact address."""
    return postcode.split(" ", 1)[0] if " " in postcode else postcode[:-3] or postcode


def _distance(volunteer: Volunteer, lat: float | None, lon: float | None) -> float | None:
    if volunteer.lat is None or volunteer.lon is None or lat is None or lon is None:
        return None
    return round(distance_km(volunteer.lat, volunteer.lon, lat, lon), 1)


# What an offer shows, read as plain columns (no HelpRequest objects: a list page builds none it does not change).
OFFER_COLUMNS = (
    HelpRequest.reference,
    HelpRequest.type,
    HelpRequest.urgency,
    HelpRequest.due_by,
    HelpRequest.sla_due_at,
    HelpRequest.required_skills,
    HelpRequest.min_dbs,
    Resident.postcode,
)


def view(
    volunteer: Volunteer, request: HelpRequest | Row[Any], postcode: str, lat: float | None, lon: float | None
) -> OfferView:
    """The offer of a request (or of a row of OFFER_COLUMNS), its resident's postcode and where it is."""
    return OfferView(
        reference=request.reference,
        type=request.type,
        type_label=REQUEST_TYPE_LABELS[RequestType(request.type)],
        urgency=request.urgency,
        due_by=request.due_by,
        sla_due_at=request.sla_due_at,
        district=district(postcode),
        distance_km=_distance(volunteer, lat, lon),
        required_skills=tuple(request.required_skills or ()),
    )


def list_offers(volunteer: Volunteer) -> list[OfferView]:
    """Requests offered to this volunteer (matched with them), most urgent and soonest due first."""
    rows = db.session.execute(
        select(*OFFER_COLUMNS, Resident.lat, Resident.lon)
        .join(Resident, Resident.id == HelpRequest.resident_id)
        .where(HelpRequest.volunteer_id == volunteer.id, HelpRequest.status == Status.MATCHED.value)
        .order_by(HelpRequest.urgency.desc(), HelpRequest.sla_due_at, HelpRequest.id)
    ).all()
    return [view(volunteer, row, row.postcode, row.lat, row.lon) for row in rows]


def _offered(volunteer: Volunteer, reference: str) -> HelpRequest:
    request = db.session.scalar(
        select(HelpRequest).where(
            HelpRequest.reference == reference,
            HelpRequest.volunteer_id == volunteer.id,
            HelpRequest.status == Status.MATCHED.value,
        )
    )
    if request is None:
        raise NotFound("That offer is not open to you any more: it may have been given to someone else")
    return request


@atomic
def accept(volunteer: Volunteer, reference: str, actor: Actor) -> HelpRequest:
    request = _offered(volunteer, reference)
    lifecycle.transition(request, Status.ACCEPTED.value, actor)
    return request


@atomic
def decline(volunteer: Volunteer, reference: str, actor: Actor, reason: str | None = None) -> HelpRequest:
    """Turn an offer down: the request goes back to triage for rematching (matching skips this volunteer)."""
    request = _offered(volunteer, reference)
    text = clean_text(reason, "reason", "reason", max_length=500)
    lifecycle.transition(
        request,
        Status.TRIAGED.value,
        actor,
        f"Declined by the volunteer: {text}" if text else "Declined by the volunteer",
    )
    return request


@atomic
def reply(volunteer: Volunteer, reference: str, answer: str, actor: Actor) -> HelpRequest:
    """A channel's YES/NO reply (e.g. an SMS), said the way people say it."""
    word = answer.strip().lower()
    if word in ("yes", "y", "accept"):
        return accept(volunteer, reference, actor)
    if word in ("no", "n", "decline"):
        return decline(volunteer, reference, actor)
    raise ValidationError("Reply YES to accept or NO to decline", "answer")


def announce(volunteer: Volunteer, request: HelpRequest, postcode: str, lat: float | None, lon: float | None) -> None:
    """Send an offer on every channel (call after the commit that made it)."""
    offer = view(volunteer, request, postcode, lat, lon)
    for channel in channels():
        channel.send(volunteer, offer)
