"""A volunteer's text messages (those who chose offers by text: no smartphone needed).

The offer itself goes out on the text channel (`offers.TextChannel`). What comes back on Notify's inbound number:
YES takes an offer on (the task's name, address and phone come back by text), NO turns it down (back to triage),
DONE marks a task delivered (the resident is then asked whether help arrived), each through the same services
and state machine as the app. With several offers or tasks open, the reference says which. Anything we cannot
read gets a text saying how to answer, and a YES or NO to an offer that has gone meanwhile is told so.
"""

from __future__ import annotations

import re

from sqlalchemy import select

from can_crm.extensions import db
from can_crm.models.enums import OffersBy, ProgressStep, Role, Status
from can_crm.models.request import HelpRequest
from can_crm.models.resident import Resident
from can_crm.models.volunteer import Volunteer
from can_crm.services.common.errors import Conflict, NotFound
from can_crm.services.notifications import outgoing
from can_crm.services.requests.events import Actor
from can_crm.services.requests.references import normalise_reference
from can_crm.services.volunteers import offers, tasks

_YES = {"yes", "y", "yeah", "yep", "ok", "okay", "accept"}
_NO = {"no", "n", "nope", "decline", "sorry"}
_DONE = {"done", "delivered", "finished"}
# What each answer acts on: offers waiting for an answer, or tasks under way.
_OPEN = {
    "yes": (Status.MATCHED.value,),
    "no": (Status.MATCHED.value,),
    "done": (Status.ACCEPTED.value, Status.IN_PROGRESS.value),
}


def _words(message: str) -> list[str]:
    return re.findall(r"[\w-]+", message.lower())


def _answer(words: list[str]) -> str | None:
    """YES, NO or DONE as the text's first word; None for anything else."""
    first = words[0] if words else ""
    return "yes" if first in _YES else "no" if first in _NO else "done" if first in _DONE else None


def too_late(number: str, message: str, message_id: int) -> str | None:
    """A YES or NO from a volunteer who gets offers by text but has nothing open (the offer withdrawn or given to
    someone else before they answered): they are told nothing is waiting, so nobody is left wondering whether they
    are expected somewhere. Returns "late", or None when the text is not that (a DONE sent again after the task
    was delivered is left unanswered: it was recorded the first time). The caller asks only after the residents'
    handling found nothing for the number."""
    if _answer(_words(message)) not in ("yes", "no"):
        return None
    volunteer = db.session.scalar(
        select(Volunteer)
        .where(Volunteer.phone == number, Volunteer.offers_by == OffersBy.SMS.value)
        .order_by(Volunteer.id)
        .limit(1)
    )
    if volunteer is None:
        return None
    outgoing.send("volunteer_nothing_open", volunteer_id=volunteer.id, dedupe_key=f"volunteer_reply:i{message_id}")
    return "late"


def reply(number: str, message: str, message_id: int) -> str | None:
    """Act on a text from `number` (E.164). Returns what it was understood as (accepted, declined, done, unclear,
    gone), or None when no volunteer with that number has an offer or a task open: the caller tries residents
    (the number may be one's too)."""
    open_items: dict[str, tuple[int, str]] = {
        reference: (volunteer_id, status)
        for reference, volunteer_id, status in db.session.execute(
            select(HelpRequest.reference, Volunteer.id, HelpRequest.status)
            .join(Volunteer, Volunteer.id == HelpRequest.volunteer_id)
            .where(Volunteer.phone == number, HelpRequest.status.in_(_OPEN["yes"] + _OPEN["done"]))
            .order_by(HelpRequest.id)
        ).tuples()
    }
    if not open_items:
        return None
    words = _words(message)
    answer = _answer(words)
    named = {ref for ref in (normalise_reference(w) for w in words) if ref}
    candidates = [ref for ref, (_, status) in open_items.items() if answer and status in _OPEN[answer]]
    chosen = sorted(named)[0] if len(named) == 1 else candidates[0] if len(candidates) == 1 and not named else None
    # The owner of the offer or task named; the first owner on the number when none is (the text to them says how).
    owner, _ = open_items[chosen] if chosen in open_items else next(iter(open_items.values()))
    volunteer = db.session.get(Volunteer, owner)
    assert volunteer is not None  # the request's foreign key
    key = f"volunteer_reply:i{message_id}"

    def tell(template: str, request: HelpRequest | None = None, **params: str) -> None:
        outgoing.send(template, volunteer_id=volunteer.id, request=request, dedupe_key=key, params=params)

    if answer is None or chosen is None:
        listed = candidates or list(open_items)
        tell("volunteer_reply_unclear", references=", ".join(listed), reference=listed[0])
        return "unclear"
    actor = Actor(role=Role.VOLUNTEER.value, user_id=volunteer.user_id, volunteer_id=volunteer.id)
    try:
        if answer == "done":
            tasks.report_progress(volunteer, chosen, ProgressStep.DELIVERED.value, None, f"text-{message_id}", actor)
            request = db.session.scalar(select(HelpRequest).where(HelpRequest.reference == chosen))
            tell("volunteer_done", request)
            return "done"
        if answer == "no":
            tell("volunteer_declined", offers.decline(volunteer, chosen, actor, "By text"))
            return "declined"
        request = offers.accept(volunteer, chosen, actor)
    except (NotFound, Conflict):
        tell("volunteer_no_offer", reference=chosen)
        return "gone"
    resident = db.session.get(Resident, request.resident_id)
    assert resident is not None  # the request's foreign key
    lines = (resident.address_line1, resident.address_line2, resident.town, resident.postcode)
    notes = " ".join(p for p in (request.details, request.volunteer_notes) if p)
    tell(
        "volunteer_task",
        request,
        name=resident.name,
        address=", ".join(line for line in lines if line),
        phone=resident.phone or "none given",
        notes=notes[:300],
    )
    return "accepted"
