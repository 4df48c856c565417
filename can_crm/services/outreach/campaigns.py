"""Campaigns: contact a cohort of shielded residents by text, email, letter, automated call or a coordinator's
call list; record outcomes; "needs help" raises a request in one step; and the live funnel."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import func, insert, literal, select

from can_crm.clients.calls import call_provider_for
from can_crm.extensions import db
from can_crm.models.base import utcnow
from can_crm.models.enums import CampaignChannel, Channel, ContactOutcome, EventKind, Status, values
from can_crm.models.outreach import Campaign, CampaignContact
from can_crm.models.request import HelpRequest
from can_crm.models.resident import Resident
from can_crm.services.common.errors import FieldErrors, NotFound, ValidationError
from can_crm.services.common.jobs import start_job
from can_crm.services.common.validation import apply_rules, clean_choice, clean_text
from can_crm.services.notifications import outgoing
from can_crm.services.requests import intake
from can_crm.services.requests.events import Actor, record_event
from can_crm.unit_of_work import atomic

REACHED = (ContactOutcome.NEEDS_HELP.value, ContactOutcome.NO_HELP_NEEDED.value, ContactOutcome.DECLINED.value)
RESPONDED = (ContactOutcome.NEEDS_HELP.value, ContactOutcome.NO_HELP_NEEDED.value)
SERVED = (Status.DELIVERED.value, Status.CONFIRMED.value, Status.CLOSED.value)
CONFIRMED = (Status.CONFIRMED.value,)


@atomic
def create_campaign(data: Mapping[str, Any], user_id: int | None) -> Campaign:
    """A campaign over shielded residents (optionally one ward); everyone in the cohort gets a contact row."""
    rules: dict[str, Callable[[Any], Any]] = {
        "name": lambda v: clean_text(v, "name", "a name for the campaign", max_length=120, required=True),
        "channel": lambda v: clean_choice(v, values(CampaignChannel), "channel", "how to contact people"),
        "ward_code": lambda v: clean_text(v, "ward_code", "ward code", max_length=12) or None,
    }
    cleaned, errors = apply_rules(rules, data)
    if errors:
        raise FieldErrors(errors)
    campaign = Campaign(**cleaned, created_by_id=user_id, created_at=utcnow())
    db.session.add(campaign)
    db.session.flush()
    cohort = select(literal(campaign.id, db.Integer), Resident.id, literal(0, db.Integer), func.now()).where(
        Resident.shielding.is_(True)
    )
    if campaign.ward_code:
        cohort = cohort.where(Resident.ward_code == campaign.ward_code)
    db.session.execute(
        insert(CampaignContact).from_select(["campaign_id", "resident_id", "attempts", "updated_at"], cohort)
    )
    db.session.flush()
    return campaign


def get_campaign(campaign_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound("No campaign with that id")
    return campaign


def list_campaigns() -> list[Campaign]:
    return list(db.session.scalars(select(Campaign).order_by(Campaign.id.desc())))


@atomic
def launch(campaign: Campaign) -> int:
    """Send the campaign's message (or start its automated calls) to everyone not yet contacted."""
    query = select(CampaignContact).where(
        CampaignContact.campaign_id == campaign.id, CampaignContact.contacted_at.is_(None)
    )
    contacts = list(db.session.scalars(query))
    now = utcnow()
    for contact in contacts:
        if campaign.channel == CampaignChannel.AUTOMATED_CALL.value:
            start_job("campaign_contact", {"contact_id": contact.id}, None)
            continue
        if campaign.channel == CampaignChannel.PHONE.value:
            continue  # a coordinator's call list: contacted when they record the call
        outgoing.send(
            "campaign_check_in", resident_id=contact.resident_id, dedupe_key=f"campaign:{campaign.id}:{contact.id}"
        )
        contact.contacted_at = now
    db.session.flush()
    return len(contacts)


def make_contact(contact_id: int) -> dict[str, Any]:
    """One automated call (the `campaign_contact` job). A contact already made is not called again."""
    contact = db.session.get(CampaignContact, contact_id)
    if contact is None:
        return {"outcome": "gone"}
    if contact.outcome is not None and contact.outcome != ContactOutcome.NO_ANSWER.value:
        return {"outcome": contact.outcome}
    resident = db.session.get(Resident, contact.resident_id)
    number = resident.mobile or resident.phone if resident else None
    if not number:
        contact.outcome = ContactOutcome.WRONG_NUMBER.value
        return {"outcome": contact.outcome}
    result = call_provider_for(current_app._get_current_object()).place_call(number, f"c{contact.id}")  # type: ignore[attr-defined]
    contact.provider_call_id = result.call_id
    contact.contacted_at = utcnow()
    contact.attempts += 1
    contact.outcome = result.outcome
    db.session.flush()
    return {"outcome": result.outcome}


_HELP_WORDS = {"help", "yes", "pomoc", "ayuda", "caawimaad", "caawi", "مساعدة"}
_NO_HELP_WORDS = {"no", "nie", "maya", "لا", "fine", "ok"}


def reply_from(resident_id: int, text: str) -> str | None:
    """A text reply to a campaign message: "HELP" marks them as asking for help (a coordinator then calls and
    raises the request), "no"/"fine" as needing none. Returns the outcome recorded, or None."""
    words = text.strip().lower().split()
    first = words[0].strip(".,!?") if words else ""
    outcome = (
        ContactOutcome.NEEDS_HELP.value
        if first in _HELP_WORDS
        else ContactOutcome.NO_HELP_NEEDED.value
        if first in _NO_HELP_WORDS
        else None
    )
    if outcome is None:
        return None
    query = (
        select(CampaignContact)
        .join(Campaign, Campaign.id == CampaignContact.campaign_id)
        .where(
            CampaignContact.resident_id == resident_id,
            Campaign.channel == CampaignChannel.SMS.value,
            CampaignContact.contacted_at.is_not(None),
            CampaignContact.request_id.is_(None),
        )
        .order_by(CampaignContact.id.desc())
        .limit(1)
    )
    contact = db.session.scalar(query)
    if contact is None:
        return None
    contact.outcome = outcome
    db.session.flush()
    return outcome


def call_list(campaign: Campaign, limit: int = 100) -> list[tuple[CampaignContact, Resident]]:
    """Who a coordinator should call next: never reached, or no answer last time (fewest attempts first)."""
    query = (
        select(CampaignContact, Resident)
        .join(Resident, Resident.id == CampaignContact.resident_id)
        .where(
            CampaignContact.campaign_id == campaign.id,
            (CampaignContact.outcome.is_(None))
            | (CampaignContact.outcome == ContactOutcome.NO_ANSWER.value)
            | (CampaignContact.outcome == ContactOutcome.NEEDS_HELP.value) & CampaignContact.request_id.is_(None),
        )
        .order_by(CampaignContact.attempts, CampaignContact.id)
        .limit(limit)
    )
    return [(c, r) for c, r in db.session.execute(query)]


def call_entry(contact_id: int) -> tuple[CampaignContact, Resident]:
    """One person of a campaign's call list, whether or not they are still on it (to show a refused outcome)."""
    found = db.session.execute(
        select(CampaignContact, Resident)
        .join(Resident, Resident.id == CampaignContact.resident_id)
        .where(CampaignContact.id == contact_id)
    ).one_or_none()
    if found is None:
        raise NotFound("No such person in this campaign")
    return found[0], found[1]


def campaign_of(contact_id: int) -> int:
    found = db.session.scalar(select(CampaignContact.campaign_id).where(CampaignContact.id == contact_id))
    if found is None:
        raise NotFound("No such person in this campaign")
    return int(found)


@atomic
def record_outcome(contact_id: int, data: Mapping[str, Any], actor: Actor) -> CampaignContact:
    """A call's outcome. "Needs help" with a type of help raises the request there and then."""
    contact = db.session.get(CampaignContact, contact_id)
    if contact is None:
        raise NotFound("No such person in this campaign")
    try:
        outcome = clean_choice(data.get("outcome"), values(ContactOutcome), "outcome", "what happened on the call")
        note = clean_text(data.get("note"), "note", "notes", max_length=1000) or None
    except ValidationError as exc:
        raise FieldErrors({exc.field or "outcome": exc.message}) from None
    if outcome == ContactOutcome.NEEDS_HELP.value and contact.request_id is None:
        if not data.get("type"):
            raise FieldErrors({"type": "Select what help they need"})
        try:
            request = intake.submit(
                {"type": data.get("type"), "details": data.get("details") or note or "Asked for help when we called"},
                actor,
                Channel.CAMPAIGN,
                resident_id=contact.resident_id,
            )
        except FieldErrors as exc:  # the request's details are the call's notes: say so by the notes box
            raise FieldErrors({("note" if k == "details" else k): v for k, v in exc.fields.items()}) from None
        contact.request_id = request.id
        record_event(request, actor, EventKind.CAMPAIGN, reason=f"Raised on a call in campaign #{contact.campaign_id}")
    contact.outcome = outcome
    contact.note = note
    contact.attempts += 1
    contact.contacted_at = contact.contacted_at or utcnow()
    db.session.flush()
    return contact


@dataclass(frozen=True)
class Funnel:
    cohort: int
    contacted: int
    reached: int
    responded: int
    asked_for_help: int
    served: int
    confirmed: int

    def steps(self) -> list[tuple[str, int]]:
        return [
            ("Contacted", self.contacted),
            ("Reached", self.reached),
            ("Responded", self.responded),
            ("Asked for help", self.asked_for_help),
            ("Served", self.served),
            ("Confirmed", self.confirmed),
        ]


def funnel(campaign_id: int | None = None) -> Funnel:
    """Counted live from the contacts and their requests (one query)."""
    c, r = CampaignContact, HelpRequest
    query = (
        select(
            func.count(c.id),
            func.count(c.contacted_at),
            func.count(c.id).filter(c.outcome.in_(REACHED)),
            func.count(c.id).filter(c.outcome.in_(RESPONDED)),
            func.count(c.id).filter(c.outcome == ContactOutcome.NEEDS_HELP.value),
            func.count(r.id).filter(r.status.in_(SERVED)),
            func.count(r.id).filter(
                r.status.in_(CONFIRMED) | ((r.status == Status.CLOSED.value) & r.delivered_at.is_not(None))
            ),
        )
        .select_from(c)
        .outerjoin(r, r.id == c.request_id)
    )
    if campaign_id is not None:
        query = query.where(c.campaign_id == campaign_id)
    row = db.session.execute(query).one()
    return Funnel(*(int(v or 0) for v in row))
