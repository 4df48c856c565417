"""The request lifecycle through the one state machine, on the real PostgreSQL database."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from can_crm import unit_of_work
from can_crm.models.request import HelpRequest, RequestEvent
from can_crm.services.common.errors import TransitionRefused
from can_crm.services.requests import lifecycle
from can_crm.services.requests import operations as requests
from can_crm.services.requests.events import RESIDENT, Actor

COORD = Actor(role="coordinator", user_id=None)


def events(db: Any, request: HelpRequest) -> list[tuple[str | None, str | None]]:
    query = select(RequestEvent).where(RequestEvent.request_id == request.id).order_by(RequestEvent.id)
    rows = db.session.scalars(query)
    return [(e.from_status, e.to_status) for e in rows if e.kind == "transition"]


def test_request_walks_the_whole_lifecycle(db: Any, make_request: Any, make_volunteer: Any) -> None:
    req = make_request()
    volunteer = make_volunteer()
    requests.triage(req, {"urgency": "3", "required_skills": ["shopping"]}, COORD)
    requests.assign_volunteer(req, volunteer.id, COORD)
    own = Actor(role="volunteer", user_id=None, volunteer_id=volunteer.id)
    for to in ("accepted", "in_progress", "delivered"):
        lifecycle.transition(req, to, own)
    lifecycle.transition(req, "confirmed", Actor(role=RESIDENT))
    lifecycle.transition(req, "closed", COORD)
    unit_of_work.commit()
    assert req.status == "closed" and req.closed_at is not None
    assert events(db, req) == [
        ("new", "triaged"),
        ("triaged", "matched"),
        ("matched", "accepted"),
        ("accepted", "in_progress"),
        ("in_progress", "delivered"),
        ("delivered", "confirmed"),
        ("confirmed", "closed"),
    ]


def test_invalid_transition_is_refused_and_changes_nothing(db: Any, make_request: Any) -> None:
    req = make_request()
    with pytest.raises(TransitionRefused, match="cannot move from new to delivered"):
        lifecycle.transition(req, "delivered", COORD)
    assert req.status == "new"
    assert events(db, req) == []


def test_decline_returns_request_to_triage_without_volunteer(db: Any, make_request: Any, make_volunteer: Any) -> None:
    req = make_request()
    volunteer = make_volunteer()
    requests.triage(req, {}, COORD)
    requests.assign_volunteer(req, volunteer.id, COORD)
    lifecycle.transition(req, "triaged", Actor(role="volunteer", volunteer_id=volunteer.id), "Not free today")
    assert req.status == "triaged" and req.volunteer_id is None


def test_other_volunteer_cannot_accept(db: Any, make_request: Any, make_volunteer: Any) -> None:
    req = make_request()
    mine, other = make_volunteer(), make_volunteer(name="Other Person")
    requests.triage(req, {}, COORD)
    requests.assign_volunteer(req, mine.id, COORD)
    with pytest.raises(TransitionRefused, match="Your role"):
        lifecycle.transition(req, "accepted", Actor(role="volunteer", volunteer_id=other.id))


def test_help_did_not_arrive_raises_priority(db: Any, make_request: Any, make_volunteer: Any) -> None:
    req = make_request(request={"urgency": 1})
    volunteer = make_volunteer()
    requests.triage(req, {}, COORD)
    requests.assign_volunteer(req, volunteer.id, COORD)
    for to in ("accepted", "in_progress", "delivered"):
        lifecycle.transition(req, to, COORD)
    lifecycle.transition(req, "triaged", Actor(role=RESIDENT), "Nobody came")
    assert req.status == "triaged" and req.urgency == 2


def test_reason_is_required_to_cancel(db: Any, make_request: Any) -> None:
    req = make_request()
    with pytest.raises(TransitionRefused, match="Give a reason"):
        lifecycle.transition(req, "cancelled", COORD, "  ")


def test_recurring_request_generates_next_occurrence_once(db: Any, make_request: Any, make_volunteer: Any) -> None:
    req = make_request(request={"recurrence": "weekly"})
    volunteer = make_volunteer()
    requests.triage(req, {}, COORD)
    requests.assign_volunteer(req, volunteer.id, COORD)
    for to in ("accepted", "in_progress", "delivered", "confirmed", "closed"):
        lifecycle.transition(req, to, COORD)
    unit_of_work.commit()
    followers = db.session.scalars(select(HelpRequest).where(HelpRequest.previous_occurrence_id == req.id)).all()
    assert len(followers) == 1
    assert followers[0].status == "triaged" and followers[0].reference != req.reference


def test_event_history_is_append_only(db: Any, make_request: Any) -> None:
    make_request()
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text("UPDATE request_events SET reason = 'rewritten'"))
    db.session.rollback()
