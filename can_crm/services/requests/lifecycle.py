"""The one state machine for a request's lifecycle.

Every change of status goes through `transition()`: it checks the state and the actor's role,
applies the side effects, and appends an event, or raises `TransitionRefused` and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from can_crm.extensions import db
from can_crm.models.base import utcnow
from can_crm.models.enums import RECURRENCE_DAYS, EventKind, Recurrence, Role, Status
from can_crm.models.request import HelpRequest, RequestEvent
from can_crm.services.common.errors import TransitionRefused
from can_crm.services.common.validation import clean_text
from can_crm.services.notifications import outgoing
from can_crm.services.requests.events import RESIDENT, SYSTEM, Actor, record_event
from can_crm.services.requests.occurrences import create_next_occurrence
from can_crm.services.tracing import interactions


@dataclass(frozen=True)
class Rule:
    roles: frozenset[str]
    reason_required: bool = False
    # A volunteer may only act on a request offered to them.
    own_volunteer_only: bool = True
    # Taken only by the service named here (e.g. a handoff needs a partner, an agreement and a bundle), never as
    # a bare status change, so no button or API call can mark a request handed off without handing it off.
    via: str | None = None


C = Role.COORDINATOR.value
V = Role.VOLUNTEER.value
P = Role.PARTNER.value
CL = Role.COUNCILLOR.value


HANDOFF = "handoff"


def _r(*roles: str, reason: bool = False, via: str | None = None) -> Rule:
    return Rule(frozenset(roles), reason, via=via)


_SIDE_EXITS = {
    Status.CANCELLED: _r(C, reason=True),
    Status.UNABLE_TO_FULFIL: _r(C, reason=True),
    Status.HANDED_OFF: _r(C, reason=True, via=HANDOFF),
    Status.ESCALATED: _r(C, reason=True),
}

TRANSITIONS: dict[Status, dict[Status, Rule]] = {
    Status.NEW: {Status.TRIAGED: _r(C), **_SIDE_EXITS, Status.CANCELLED: _r(C, P, CL, reason=True)},
    Status.TRIAGED: {Status.MATCHED: _r(C, SYSTEM), **_SIDE_EXITS, Status.CANCELLED: _r(C, P, CL, reason=True)},
    Status.MATCHED: {
        Status.ACCEPTED: _r(C, V),
        # A decline (volunteer) or an unassignment (coordinator) returns the request for rematching.
        Status.TRIAGED: _r(C, V, reason=True),
        **_SIDE_EXITS,
    },
    Status.ACCEPTED: {Status.IN_PROGRESS: _r(C, V), Status.TRIAGED: _r(C, V, reason=True), **_SIDE_EXITS},
    Status.IN_PROGRESS: {
        Status.DELIVERED: _r(C, V),
        # "Could not deliver" is a reason, and the request goes back for rematching.
        Status.TRIAGED: _r(C, V, reason=True),
        **_SIDE_EXITS,
    },
    Status.DELIVERED: {
        Status.CONFIRMED: _r(C, RESIDENT),
        # The resident says help did not arrive: back to triage with a higher priority.
        Status.TRIAGED: _r(C, RESIDENT, reason=True),
        Status.CLOSED: _r(C),
        Status.ESCALATED: _r(C, reason=True),
    },
    Status.CONFIRMED: {Status.CLOSED: _r(C, SYSTEM), Status.ESCALATED: _r(C, reason=True)},
    Status.ESCALATED: {
        Status.TRIAGED: _r(C, reason=True),
        Status.CANCELLED: _r(C, reason=True),
        Status.CLOSED: _r(C, reason=True),
        Status.HANDED_OFF: _r(C, reason=True, via=HANDOFF),
    },
    Status.UNABLE_TO_FULFIL: {Status.TRIAGED: _r(C, reason=True)},
    Status.CLOSED: {},
    Status.CANCELLED: {},
    # The partner refused the handoff (or could not be reached): the request comes back for triage.
    Status.HANDED_OFF: {Status.TRIAGED: _r(SYSTEM, C, reason=True, via=HANDOFF)},
}

_WITH_VOLUNTEER = {Status.MATCHED, Status.ACCEPTED, Status.IN_PROGRESS, Status.DELIVERED, Status.CONFIRMED}


def allowed_targets(request: HelpRequest, actor: Actor) -> list[Status]:
    """The states `actor` may move `request` to now with a plain status change, in a stable order (for buttons
    and the API); moves that only a service makes (a handoff) are not among them."""
    current = Status(request.status)
    return [to for to, rule in TRANSITIONS[current].items() if rule.via is None and _permits(rule, request, actor)]


def may_move(request: HelpRequest, to: Status, actor: Actor, *, via: str | None = None) -> bool:
    """Whether `actor` may move `request` to `to` now through the service `via` (e.g. offer "hand off to ...")."""
    rule = TRANSITIONS[Status(request.status)].get(to)
    return rule is not None and rule.via == via and _permits(rule, request, actor)


def _permits(rule: Rule, request: HelpRequest, actor: Actor) -> bool:
    if actor.role not in rule.roles:
        return False
    if actor.role == V and rule.own_volunteer_only:
        return actor.volunteer_id is not None and request.volunteer_id == actor.volunteer_id
    if actor.role in (P, CL):
        return request.raised_by_id is not None and request.raised_by_id == actor.user_id
    return True


def transition(
    request: HelpRequest, to: str, actor: Actor, reason: str | None = None, *, via: str | None = None
) -> RequestEvent:
    """Move `request` to `to` for `actor`, or raise `TransitionRefused` having changed nothing. `via` names the
    service making the move, for the moves only a service may make (see `Rule.via`)."""
    try:
        target = Status(to)
    except ValueError:
        raise TransitionRefused(f"'{to}' is not a request status", "to") from None
    current = Status(request.status)
    if target == current:
        raise TransitionRefused(f"The request is already {current.value}", "to")
    rule = TRANSITIONS[current].get(target)
    if rule is None:
        allowed = ", ".join(TRANSITIONS[current]) or "none: it is finished"
        raise TransitionRefused(
            f"A request cannot move from {current.value} to {target.value} (allowed: {allowed})", "to"
        )
    if rule.via is not None and via != rule.via:
        raise TransitionRefused(
            f"A request moves to {target.value} only through a {rule.via}: use the {rule.via} action"
        )
    if not _permits(rule, request, actor):
        raise TransitionRefused(f"Your role ({actor.role}) cannot move a {current.value} request to {target.value}")
    # The reason is shown in every timeline: the same text rules as any other field (no HTML, bounded).
    reason = clean_text(reason, "reason", "reason", max_length=2000) or None
    if rule.reason_required and not reason:
        raise TransitionRefused(f"Give a reason for moving the request to {target.value}", "reason")
    if target == Status.MATCHED and request.volunteer_id is None:
        raise TransitionRefused("Choose a volunteer before marking the request matched", "volunteer")

    now = utcnow()
    concerned = request.volunteer_id  # offered to, declining, or delivering: recorded before it is cleared
    if (target == Status.TRIAGED and current in _WITH_VOLUNTEER) or target == Status.HANDED_OFF:
        # Another authority's volunteers take a handed-off request: ours is released.
        request.volunteer_id = None
    if current == Status.DELIVERED and target == Status.TRIAGED:
        request.urgency = min(3, request.urgency + 1)
    if target == Status.DELIVERED:
        request.delivered_at = now
    if target in (Status.CLOSED, Status.CANCELLED, Status.UNABLE_TO_FULFIL, Status.HANDED_OFF):
        request.closed_at = now
    elif current == Status.HANDED_OFF:
        request.closed_at = None
    request.status = target.value
    event = record_event(
        request, actor, EventKind.TRANSITION, current.value, target.value, reason, volunteer_id=concerned
    )
    if target == Status.DELIVERED:
        # The visit is a contact for Track and Trace: recorded once per occurrence and volunteer.
        interactions.record_visit(request, now)
    if target in (Status.CONFIRMED, Status.CLOSED):
        _schedule_next_occurrence(request, actor)
    # The one place the resident hears of a move: "volunteer on the way", "did help arrive?".
    outgoing.on_transition(request, event)
    return event


def _schedule_next_occurrence(request: HelpRequest, actor: Actor) -> None:
    """A recurring request generates its next occurrence once, when it is confirmed or closed."""
    if request.recurrence == Recurrence.NONE.value:
        return
    exists = db.session.query(HelpRequest.id).filter_by(previous_occurrence_id=request.id).first()
    if exists:
        return
    days = RECURRENCE_DAYS[Recurrence(request.recurrence)]
    create_next_occurrence(request, timedelta(days=days), actor)
