"""Offers: a request in `matched` with a volunteer is offered to them; they accept or decline.

How an offer reaches the volunteer is a channel (`OfferChannel`). The offers page shows every offer with no
channel; the text channel sends volunteers who chose texts an SMS made from the `OfferView` (which never names
the resident), and their YES or NO comes back through `texts.reply`, which calls `accept` or `decline` here.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import Row, Select, bindparam, select

from can_crm.extensions import db
from can_crm.models.enums import REQUEST_TYPE_LABELS, OffersBy, RequestType, Status
from can_crm.models.request import HelpRequest
from can_crm.models.resident import Resident
from can_crm.models.volunteer import Volunteer
from can_crm.services.common import times
from can_crm.services.common.errors import NotFound
from can_crm.services.common.sql import fixed, read
from can_crm.services.common.validation import clean_text
from can_crm.services.notifications import outgoing
from can_crm.services.requests import lifecycle
from can_crm.services.requests.events import Actor
from can_crm.services.volunteers.profiles import distance_km
from can_crm.unit_of_work import atomic
from geo.postcodes import postcode_district


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
    """A way to tell a volunteer about an offer. `send` runs in the transaction that makes the offer and only
    queues (a message goes out from a job after the commit, so an offer rolled back is never sent); it must not
    change the request. `key` names this offer (the same request offered again is a new key)."""

    name: str

    def serves(self, volunteer: Volunteer) -> bool:
        """Whether this channel has anything to send this volunteer."""
        ...

    def send(self, volunteer: Volunteer, request: HelpRequest, offer: OfferView, key: str) -> None: ...


class TextChannel:
    """A text message to a volunteer who chose offers by text (no smartphone needed): what, roughly where, by
    when, and the reference to answer YES or NO with (`texts.reply`). Never who or the exact address."""

    name = "sms"

    def serves(self, volunteer: Volunteer) -> bool:
        return volunteer.offers_by == OffersBy.SMS.value

    def send(self, volunteer: Volunteer, request: HelpRequest, offer: OfferView, key: str) -> None:
        where = offer.district + (f", {offer.distance_km:.1f} km from you" if offer.distance_km is not None else "")
        due = offer.due_by or times.today(offer.sla_due_at)
        params = {"what": offer.type_label, "where": where, "due": f"{due:%A} {due.day} {due:%B}"}
        outgoing.send("volunteer_offer", volunteer_id=volunteer.id, request=request, dedupe_key=key, params=params)


# The channels that send offers; each decides whether it serves the volunteer. The offers page needs none: an
# offer is there the next time the volunteer looks. A new way to reach volunteers is one more class here.
CHANNELS: tuple[OfferChannel, ...] = (TextChannel(),)


def distance_from(volunteer: Volunteer, lat: float | None, lon: float | None) -> float | None:
    """How far a place is from the volunteer's home, in km to one decimal as shown; None where either is unknown."""
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


def view(request: HelpRequest | Row[Any], postcode: str, km: float | None) -> OfferView:
    """The offer of a request (or of a row of OFFER_COLUMNS), its resident's postcode and how far it is from the
    volunteer (`distance_from`)."""
    return OfferView(
        reference=request.reference,
        type=request.type,
        type_label=REQUEST_TYPE_LABELS[RequestType(request.type)],
        urgency=request.urgency,
        due_by=request.due_by,
        sla_due_at=request.sla_due_at,
        district=postcode_district(postcode),
        distance_km=km,
        required_skills=tuple(request.required_skills or ()),
    )


@functools.cache
def _offers_statement() -> Select[Any]:
    """The SELECT behind "Offered to me", built once per process (the volunteer is a parameter of each execution):
    building it afresh took about as long as running it, profiled."""
    return (
        select(*OFFER_COLUMNS, Resident.lat, Resident.lon)
        .join(Resident, Resident.id == HelpRequest.resident_id)
        .where(HelpRequest.volunteer_id == bindparam("volunteer_id"), HelpRequest.status == fixed(Status.MATCHED.value))
        .order_by(HelpRequest.urgency.desc(), HelpRequest.sla_due_at, HelpRequest.id)
    )


def list_offers(volunteer: Volunteer) -> list[OfferView]:
    """Requests offered to this volunteer (matched with them), most urgent and soonest due first."""
    rows = read(_offers_statement(), {"volunteer_id": volunteer.id}).all()
    return [view(row, row.postcode, distance_from(volunteer, row.lat, row.lon)) for row in rows]


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


def announce(volunteer: Volunteer, request: HelpRequest, key: str) -> None:
    """Tell the volunteer of the offer just made, on every channel that serves them (in the transaction that
    made it)."""
    serving = [channel for channel in CHANNELS if channel.serves(volunteer)]
    if not serving:
        return
    # Where the resident is, as the offers page reads it.
    postcode, lat, lon = db.session.execute(
        select(Resident.postcode, Resident.lat, Resident.lon).where(Resident.id == request.resident_id)
    ).one()
    offer = view(request, postcode, distance_from(volunteer, lat, lon))
    for channel in serving:
        channel.send(volunteer, request, offer, key)
