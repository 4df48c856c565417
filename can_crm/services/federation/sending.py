"""Sending requests to a partner: prepare and sign the bundle, move the request to `handed_off`, push it (a job) with
retries and back-off, and apply the partner's answer; or write the signed bundle to a file.

A push that gets no answer is retried with exponential back-off (HANDOFF_RETRY_BASE_SECONDS doubling, at most six
hours) up to HANDOFF_MAX_ATTEMPTS; a rejection, or giving up, returns the request to triage with the reason in its
history. Retries re-send the very same signed bundle, and the partner's inbox is idempotent per bundle id.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Select, bindparam, or_, select
from sqlalchemy.orm import joinedload

from can_crm.clients.peer import Delivery, FakePeerClient, HttpPeerClient, PeerClient
from can_crm.extensions import db
from can_crm.models.base import utcnow
from can_crm.models.enums import OPEN_STATUSES, Role, Status
from can_crm.models.federation import Handoff, Partner
from can_crm.models.request import HelpRequest, RequestEvent
from can_crm.models.user import User
from can_crm.services.common import jobs, policy
from can_crm.services.common.errors import FieldErrors, NotFound, ValidationError
from can_crm.services.common.sql import one_of
from can_crm.services.common.validation import clean_text
from can_crm.services.federation import bundle as bundles
from can_crm.services.federation import keys, partners, sharing
from can_crm.services.requests import lifecycle
from can_crm.services.requests.events import SYSTEM, Actor, record_event
from can_crm.unit_of_work import atomic

PUSH_JOB = "push_handoffs"
# Ids per push job: the job's args must stay small (see services/common/jobs.py).
JOB_CHUNK = 200
MAX_BACKOFF_SECONDS = 6 * 3600
_CLIENT = "can_peer_client"


def peer_client() -> PeerClient:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    client = app.extensions.get(_CLIENT)
    if client is None:
        if app.config["PEER_CLIENT"] == "fake":
            client = FakePeerClient()
        else:
            client = HttpPeerClient(float(app.config["PEER_TIMEOUT_SECONDS"]), int(app.config["PEER_CONCURRENCY"]))
        app.extensions[_CLIENT] = client
    return client  # type: ignore[no-any-return]


@dataclass(frozen=True)
class HandoffInput:
    reason: str
    notes: str | None


def clean_input(reason: object, notes: object = None) -> HandoffInput:
    errors: dict[str, str] = {}
    cleaned_reason = cleaned_notes = ""
    try:
        cleaned_reason = clean_text(
            reason if isinstance(reason, str) else None,
            "reason",
            "why the request is handed off",
            max_length=2000,
            required=True,
        )
    except ValidationError as exc:
        errors["reason"] = exc.message
    try:
        cleaned_notes = clean_text(
            notes if isinstance(notes, str) else None, "notes", "notes for the receiving authority", max_length=2000
        )
    except ValidationError as exc:
        errors["notes"] = exc.message
    if errors:
        raise FieldErrors(errors)
    return HandoffInput(cleaned_reason, cleaned_notes or None)


def _events_by_request(request_ids: Sequence[int]) -> dict[int, list[RequestEvent]]:
    found: dict[int, list[RequestEvent]] = defaultdict(list)
    for chunk_start in range(0, len(request_ids), 5000):
        chunk = request_ids[chunk_start : chunk_start + 5000]
        query = select(RequestEvent).where(one_of(RequestEvent.request_id, chunk)).order_by(RequestEvent.id)
        for event in db.session.scalars(query):
            found[event.request_id].append(event)
    return found


def _prepare(
    requests: Sequence[HelpRequest], partner: Partner, given: HandoffInput, actor: Actor, channel: str
) -> list[Handoff]:
    """Sign a bundle per request, move each to handed_off, and record the outbound handoffs (state queued)."""
    config = current_app.config
    key, public = keys.signing_key(), keys.current_public_key()
    sender = (config["AUTHORITY_GSS_CODE"], config["AUTHORITY_NAME"])
    events = _events_by_request([r.id for r in requests])
    now = utcnow()
    made: list[Handoff] = []
    for request in requests:
        unsigned = bundles.build(
            request,
            request.resident,
            events.get(request.id, []),
            sender=sender,
            partner=partner,
            reason=given.reason,
            notes=given.notes,
            now=now,
            ttl_days=int(config["HANDOFF_BUNDLE_TTL_DAYS"]),
        )
        signed = bundles.sign(unsigned, key, public)
        lifecycle.transition(
            request,
            Status.HANDED_OFF.value,
            actor,
            f"Handed off to {partner.name}: {given.reason}",
            via=lifecycle.HANDOFF,
        )
        handoff = Handoff(
            bundle_id=signed["bundle_id"],
            direction="out",
            state="queued" if channel == "http" else "exported",
            request_id=request.id,
            partner_id=partner.id,
            channel=channel,
            reason=given.reason,
            notes=given.notes,
            bundle=signed,
            attempts=0,
            next_attempt_at=None,
            created_by_id=actor.user_id,
            created_at=now,
        )
        handoff.partner, handoff.request = partner, request
        db.session.add(handoff)
        made.append(handoff)
    db.session.flush()
    return made


def _requests_for(user: User | None, references: Sequence[str]) -> list[HelpRequest]:
    """The requests `user` may see (every one for a command run on the server, `user` None), or a 404."""
    query = select(HelpRequest).where(one_of(HelpRequest.reference, references))
    if user is not None:
        query = policy.restrict_requests(query, user)
    found = {r.reference: r for r in db.session.scalars(query.options(joinedload(HelpRequest.resident))).unique()}
    missing = [ref for ref in references if ref not in found]
    if missing:
        raise NotFound(f"No request with reference {missing[0][:20]}")
    return [found[ref] for ref in references]


def _actor(user: User | None) -> Actor:
    # A command run on the server acts as a coordinator with no account (its history says so).
    return policy.actor_for(user) if user is not None else Actor(role=Role.COORDINATOR.value)


def _start_push_jobs(handoffs: Sequence[Handoff], user_id: int | None) -> list[int]:
    ids = [h.id for h in handoffs]
    return [
        jobs.start_job(PUSH_JOB, {"handoff_ids": ids[i : i + JOB_CHUNK]}, user_id).id
        for i in range(0, len(ids), JOB_CHUNK)
    ]


@atomic
def hand_off(
    user: User | None, references: Sequence[str], to: object, reason: object, notes: object = None
) -> list[Handoff]:
    """Hand requests to partner `to` over HTTP: each moves to handed_off now and is pushed by a job after the
    commit. Refuses everything if any one cannot go (unknown partner, no agreement, a finished request)."""
    given = clean_input(reason, notes)
    partner = partners.for_handoff(to, over_http=True)
    actor = _actor(user)
    made = _prepare(_requests_for(user, references), partner, given, actor, "http")
    _start_push_jobs(made, actor.user_id)
    return made


@atomic
def hand_off_resident(user: User | None, resident_id: int, to: object, reason: object) -> list[Handoff]:
    """Bulk, when a resident moves: all of their open requests, in one action."""
    query = (
        select(HelpRequest.reference)
        .where(HelpRequest.resident_id == resident_id, HelpRequest.status.in_([s.value for s in OPEN_STATUSES]))
        .order_by(HelpRequest.id)
    )
    references = list(db.session.scalars(query))
    if user is not None and references:
        _requests_for(user, references)  # the same 404 if they may not see them
    if not references:
        raise ValidationError("This resident has no open requests to hand off", "resident_id")
    return hand_off(user, references, to, reason)


def export_file(user: User | None, reference: str, to: object, reason: object, notes: object = None) -> dict[str, Any]:
    """Hand a request off through a file: the signed bundle to write, recorded as disclosed now."""
    given = clean_input(reason, notes)
    partner = partners.for_handoff(to, over_http=False)
    actor = _actor(user)
    (handoff,) = _prepare(_requests_for(user, [reference]), partner, given, actor, "file")
    handoff.answered_at = utcnow()
    sharing.record(
        direction="disclosed",
        outcome="exported",
        partner=partner,
        bundle=handoff.bundle,
        request_reference=handoff.bundle["request"]["reference"],
        partner_reference=None,
        channel="file",
        actor_id=actor.user_id,
    )
    return handoff.bundle


def backoff_seconds(attempts: int) -> int:
    base = int(current_app.config["HANDOFF_RETRY_BASE_SECONDS"])
    return int(min(MAX_BACKOFF_SECONDS, base * 2 ** max(0, attempts - 1)))


def _return_to_triage(handoff: Handoff, reason: str) -> None:
    request = handoff.request
    if request.status == Status.HANDED_OFF.value:
        lifecycle.transition(request, Status.TRIAGED.value, Actor(role=SYSTEM), reason, via=lifecycle.HANDOFF)


def _apply(handoff: Handoff, answer: Delivery, now: Any) -> str:
    partner = handoff.partner
    handoff.attempts += 1
    if answer.outcome == "transient":
        handoff.last_error = f"{answer.code}: {answer.message}"[:300]
        if handoff.attempts >= int(current_app.config["HANDOFF_MAX_ATTEMPTS"]):
            handoff.state = "failed"
            handoff.next_attempt_at = None
            _return_to_triage(
                handoff, f"Could not hand off to {partner.name}: no answer after {handoff.attempts} attempts"
            )
            return "failed"
        handoff.next_attempt_at = now + timedelta(seconds=backoff_seconds(handoff.attempts))
        return "retry"
    handoff.answered_at = now
    handoff.next_attempt_at = None
    request_reference = handoff.bundle["request"]["reference"]
    if answer.outcome == "acknowledged":
        handoff.state = "acknowledged"
        handoff.partner_reference = answer.reference
        record_event(
            handoff.request,
            Actor(role=SYSTEM),
            "handoff_acknowledged",
            reason=f"{partner.name} acknowledged the handoff: their reference {answer.reference}",
        )
    else:
        handoff.state = "rejected"
        handoff.rejection_reason = f"{answer.message} ({answer.code})"[:2000]
        _return_to_triage(handoff, f"{partner.name} refused the handoff: {answer.message}")
    # Delivered either way: they hold the data now, so the disclosure is on record.
    sharing.record(
        direction="disclosed",
        outcome=handoff.state,
        partner=partner,
        bundle=handoff.bundle,
        request_reference=request_reference,
        partner_reference=handoff.partner_reference,
        channel="http",
        actor_id=handoff.created_by_id,
    )
    return handoff.state


def push(handoff_ids: Sequence[int], progress: Callable[[int, str | None], None] | None = None) -> dict[str, int]:
    """Deliver the queued handoffs among `handoff_ids` and apply the answers (the push job's work). Rows another
    worker holds are skipped; handoffs already answered are left alone, so a repeated job changes nothing."""
    query = (
        select(Handoff)
        .where(one_of(Handoff.id, handoff_ids), Handoff.direction == "out", Handoff.state == "queued")
        .options(joinedload(Handoff.partner), joinedload(Handoff.request))
        .order_by(Handoff.id)
        .with_for_update(skip_locked=True, of=Handoff)
    )
    handoffs = list(db.session.scalars(query).unique())
    by_partner: dict[int, list[Handoff]] = defaultdict(list)
    for handoff in handoffs:
        by_partner[handoff.partner_id].append(handoff)
    counts: dict[str, int] = defaultdict(int)
    client = peer_client()
    done = 0
    for group in by_partner.values():
        partner = group[0].partner
        if not partner.base_url or not partner.active:
            answers = [Delivery("rejected", code="no_inbox", message=f"{partner.name} takes files only")] * len(group)
        else:
            answers = client.deliver_many(partner.base_url, [h.bundle for h in group])
        now = utcnow()
        for handoff, answer in zip(group, answers, strict=True):
            counts[_apply(handoff, answer, now)] += 1
        done += len(group)
        if progress is not None:
            progress(int(100 * done / max(1, len(handoffs))), f"{done} of {len(handoffs)} handed over")
    db.session.flush()
    return dict(counts)


def retry_due() -> int:
    """Periodic: start push jobs for handoffs whose back-off has passed. Clearing `next_attempt_at` marks them as in
    a job's hands, so the next tick does not start them again."""
    now = utcnow()
    query = (
        select(Handoff)
        .where(Handoff.direction == "out", Handoff.state == "queued", Handoff.next_attempt_at <= now)
        .order_by(Handoff.id)
        .limit(5000)
        .with_for_update(skip_locked=True)
    )
    due = list(db.session.scalars(query))
    for handoff in due:
        handoff.next_attempt_at = None
    _start_push_jobs(due, None)
    # A job lost for good (its runner gave up) leaves its handoffs with no time set: pick them up after an hour.
    stuck = select(Handoff).where(
        Handoff.direction == "out",
        Handoff.state == "queued",
        Handoff.next_attempt_at.is_(None),
        or_(Handoff.updated_at < now - timedelta(hours=1)),
    )
    for handoff in db.session.scalars(stuck.limit(5000)):
        handoff.next_attempt_at = now
    db.session.flush()
    return len(due)


def handoffs_of(request_id: int) -> list[Handoff]:
    return list(db.session.scalars(_handoffs_statement(), {"request_id": request_id}))


@functools.cache
def _handoffs_statement() -> Select[tuple[Handoff]]:
    """Built once per process: the request page reads it on every view."""
    return (
        select(Handoff)
        .where(Handoff.request_id == bindparam("request_id"))
        .options(joinedload(Handoff.partner))
        .order_by(Handoff.id)
    )
