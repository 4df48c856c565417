""" "Did help arrive?": answers by link, SMS reply or a coordinator's call; follow-ups when nobody answers.

"Yes" confirms through the state machine (a recurring request then spawns its next occurrence). "No" and
"partly" reopen the request to triage (the state machine raises its urgency), tell coordinators with a call
task and record why. Every answer is a `Feedback` row and a FEEDBACK event, never parsed prose.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from can_crm.extensions import db
from can_crm.models.base import utcnow
from can_crm.models.enums import CallTaskKind, EventKind, FeedbackAnswer, MessageChannel, Status
from can_crm.models.notification import Feedback, FeedbackLink, InboundMessage, Notification
from can_crm.models.request import HelpRequest
from can_crm.services.common.errors import FieldErrors, TransitionRefused
from can_crm.services.common.validation import clean_text
from can_crm.services.notifications import calltasks, outgoing
from can_crm.services.outreach import campaigns
from can_crm.services.requests import lifecycle
from can_crm.services.requests.events import RESIDENT, Actor, record_event
from can_crm.services.volunteers import texts
from can_crm.unit_of_work import atomic

ANSWER_LABELS = {
    FeedbackAnswer.YES: "Yes, help arrived",
    FeedbackAnswer.NO: "No, help did not arrive",
    FeedbackAnswer.PARTLY: "Only partly",
}
_REOPEN_REASON = {
    FeedbackAnswer.NO: "The resident says help did not arrive",
    FeedbackAnswer.PARTLY: "The resident says help only partly arrived",
}


def clean_answer(answer: object, comment: object, rating: object) -> tuple[FeedbackAnswer, str | None, int | None]:
    errors: dict[str, str] = {}
    choice = None
    try:
        choice = FeedbackAnswer(str(answer or "").strip().lower())
    except ValueError:
        errors["answer"] = "Select whether your help arrived"
    text = None
    try:
        text = clean_text(str(comment or ""), "comment", "your comment", max_length=1000) or None
    except Exception as exc:  # noqa: BLE001 - a ValidationError: reported with the field
        errors["comment"] = getattr(exc, "message", "Check your comment")
    stars = None
    raw = str(rating or "").strip()
    if raw:
        if raw in ("1", "2", "3", "4", "5"):
            stars = int(raw)
        else:
            errors["rating"] = "Select a rating from 1 to 5"
    if errors or choice is None:
        raise FieldErrors(errors)
    return choice, text, stars


def record_answer(
    request: HelpRequest,
    answer: FeedbackAnswer,
    *,
    via: str,
    comment: str | None = None,
    rating: int | None = None,
    user_id: int | None = None,
    actor: Actor | None = None,
) -> Feedback:
    """Record the answer and act on it. Refused (TransitionRefused) unless the request is delivered."""
    if request.status != Status.DELIVERED.value:
        raise TransitionRefused("We already have an answer for this request")
    who = actor or Actor(role=RESIDENT)
    feedback = Feedback(
        request_id=request.id,
        answer=answer.value,
        rating=rating,
        comment=comment,
        via=via,
        recorded_by_id=user_id,
        created_at=utcnow(),
    )
    db.session.add(feedback)
    record_event(request, who, EventKind.FEEDBACK, reason=f"{ANSWER_LABELS[answer]} (by {via})")
    if answer == FeedbackAnswer.YES:
        lifecycle.transition(request, Status.CONFIRMED.value, who, None)
    else:
        lifecycle.transition(request, Status.TRIAGED.value, who, _REOPEN_REASON[answer])
        calltasks.open_task(
            CallTaskKind.NOT_RECEIVED, f"not_received:f{_flush_id(feedback)}", request=request, note=comment
        )
        outgoing.send(
            "not_received_reopened",
            resident_id=request.resident_id,
            request=request,
            dedupe_key=f"not_received_reopened:f{feedback.id}",
        )
    _close_links(request.id)
    db.session.flush()
    return feedback


def _flush_id(row: Feedback) -> int:
    db.session.flush()
    return row.id


def _close_links(request_id: int) -> None:
    db.session.execute(
        update(FeedbackLink)
        .where(FeedbackLink.request_id == request_id, FeedbackLink.answered_at.is_(None))
        .values(answered_at=utcnow())
        .execution_options(synchronize_session=False)
    )


@atomic
def answer_by_link(link: FeedbackLink, answer: object, comment: object, rating: object) -> Feedback:
    choice, text, stars = clean_answer(answer, comment, rating)
    request = db.session.get(HelpRequest, link.request_id, with_for_update=True)
    assert request is not None  # the link's foreign key
    return record_answer(request, choice, via="link", comment=text, rating=stars)


# -- text message replies ------------------------------------------------------------------------------------

# English first, then the words for yes/no/partly in Polish, Spanish, Somali and Arabic.
_YES = {"yes", "y", "yeah", "yep", "yup", "ok", "okay", "arrived", "received", "thanks"}
_YES |= {"tak", "si", "sí", "haa", "نعم"}
_NO = {"no", "n", "nope", "not", "nothing", "nie", "maya", "لا"}
_PARTLY = {"partly", "partially", "part", "some", "half", "częściowo", "parcialmente", "qayb", "جزئيا"}


def parse_reply(text: str) -> FeedbackAnswer | None:
    """Read a text reply: the first word decides ("yes", " Yes.", "NO", "no thanks", "partly"...)."""
    words = re.findall(r"[^\W\d_]+", (text or "").lower())
    if not words:
        return None
    first = words[0]
    if first in _PARTLY or (first in ("only", "just") and len(words) > 1 and words[1] in _PARTLY):
        return FeedbackAnswer.PARTLY
    if first in _NO:
        return FeedbackAnswer.NO
    if first in _YES:
        return FeedbackAnswer.YES
    return None


def inbound_sms(provider_id: str, source_number: str, message: str, received_at: datetime) -> InboundMessage:
    """An SMS reply (Notify's inbound callback). Idempotent per provider id: Notify may call twice."""
    existing = db.session.scalar(select(InboundMessage).where(InboundMessage.provider_id == provider_id))
    if existing is not None:
        return existing
    inbound = InboundMessage(
        provider_id=provider_id,
        source_number=source_number[:20],
        message=message[:2000],
        received_at=received_at,
        created_at=utcnow(),
    )
    db.session.add(inbound)
    db.session.flush()
    number = _e164(source_number)
    # A volunteer answering an offer, or saying a task is done, by text.
    understood = texts.reply(number, message, inbound.id)
    if understood is not None:
        inbound.understood_as = understood
        return inbound
    request = _awaiting_answer_from(number)
    if request is None:
        # Not about a delivery: perhaps a reply to an outreach text ("HELP").
        resident_id = _resident_texted(number)
        if resident_id is not None:
            outcome = campaigns.reply_from(resident_id, message)
            inbound.understood_as = {"needs_help": "help", "no_help_needed": "no_help"}.get(outcome or "")
        else:
            # Nobody's answer we wait for: a volunteer's YES to an offer that has gone meanwhile is told so.
            inbound.understood_as = texts.too_late(number, message, inbound.id)
        return inbound
    inbound.request_id = request.id
    answer = parse_reply(message)
    inbound.understood_as = answer.value if answer else None
    if answer is None:
        calltasks.open_task(
            CallTaskKind.UNCLEAR_REPLY, f"unclear_reply:i{inbound.id}", request=request, note=message[:500]
        )
    else:
        record_answer(request, answer, via="sms", comment=message[:1000] if answer != FeedbackAnswer.YES else None)
    db.session.flush()
    return inbound


def _awaiting_answer_from(number: str) -> HelpRequest | None:
    """The delivered request whose "did help arrive?" text went to this number (E.164) most recently."""
    query = (
        select(HelpRequest)
        .join(Notification, Notification.request_id == HelpRequest.id)
        .where(
            Notification.template == "delivered_check",
            Notification.channel == MessageChannel.SMS.value,
            Notification.recipient == number,
            HelpRequest.status == Status.DELIVERED.value,
        )
        .order_by(Notification.id.desc())
        .limit(1)
    )
    return db.session.scalar(query)


def _resident_texted(number: str) -> int | None:
    """The resident our latest campaign text to this number (E.164) went to."""
    query = (
        select(Notification.resident_id)
        .where(
            Notification.template == "campaign_check_in",
            Notification.recipient == number,
            Notification.resident_id.is_not(None),
        )
        .order_by(Notification.id.desc())
        .limit(1)
    )
    return db.session.scalar(query)


def _e164(number: str) -> str:
    digits = re.sub(r"[^\d+]", "", number or "")
    if digits.startswith("+"):
        return digits
    if digits.startswith("44"):
        return "+" + digits
    if digits.startswith("0"):
        return "+44" + digits[1:]
    return digits


# -- no answer in time -------------------------------------------------------------------------------------


def follow_up_unanswered(now: datetime | None = None, limit: int = 500) -> int:
    """Periodic: for each delivered request whose link has gone unanswered for FEEDBACK_FOLLOW_UP_HOURS,
    a follow-up message and a call task, once."""
    now = now or utcnow()
    cutoff = now - timedelta(hours=int(current_app.config["FEEDBACK_FOLLOW_UP_HOURS"]))
    query = (
        select(FeedbackLink)
        .join(HelpRequest, HelpRequest.id == FeedbackLink.request_id)
        .where(
            FeedbackLink.answered_at.is_(None),
            FeedbackLink.follow_up_at.is_(None),
            FeedbackLink.created_at <= cutoff,
            HelpRequest.status == Status.DELIVERED.value,
        )
        .order_by(FeedbackLink.id)
        .limit(limit)
    )
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(of=FeedbackLink, skip_locked=True)
    links = list(db.session.scalars(query))
    for link in links:
        link.follow_up_at = now
        request = db.session.get(HelpRequest, link.request_id)
        assert request is not None
        calltasks.open_task(CallTaskKind.NO_ANSWER, f"no_answer:l{link.id}", request=request)
        outgoing.send("follow_up", resident_id=request.resident_id, request=request, dedupe_key=f"follow_up:l{link.id}")
    db.session.flush()
    return len(links)


@atomic
def record_by_phone(request: HelpRequest, answer: object, comment: object, user_id: int, role: str) -> Feedback:
    """A coordinator records the answer the resident gave on the phone."""
    choice, text, _ = clean_answer(answer, comment, None)
    return record_answer(request, choice, via="phone", comment=text, user_id=user_id, actor=Actor(role, user_id))
