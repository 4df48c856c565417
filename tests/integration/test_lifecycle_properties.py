"""A hypothesis state machine over transitions and roles: whatever anyone tries, in any order,
the request only ever moves along the lifecycle of PRODUCT.md, and a refusal changes nothing."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from sqlalchemy import func, select

from can_crm import unit_of_work
from can_crm.models.enums import Status
from can_crm.models.request import RequestEvent
from can_crm.services.common.errors import TransitionRefused
from can_crm.services.requests import lifecycle
from can_crm.services.requests.events import Actor

# Written from PRODUCT.md independently of the TRANSITIONS table: the edges anyone may ever take.
SIDE_EXITS = {"cancelled", "unable_to_fulfil", "handed_off", "escalated"}
LIFECYCLE = {
    "new": {"triaged"} | SIDE_EXITS,
    "triaged": {"matched"} | SIDE_EXITS,
    "matched": {"accepted", "triaged"} | SIDE_EXITS,
    "accepted": {"in_progress", "triaged"} | SIDE_EXITS,
    "in_progress": {"delivered", "triaged"} | SIDE_EXITS,
    "delivered": {"confirmed", "triaged", "closed", "escalated"},
    "confirmed": {"closed", "escalated"},
    "escalated": {"triaged", "cancelled", "closed", "handed_off"},
    "unable_to_fulfil": {"triaged"},
    "closed": set(),
    "cancelled": set(),
    "handed_off": set(),
}
# Who may take an edge at all (own object assumed); anything else must be refused.
ROLE_MAY = {
    "coordinator": None,  # every lifecycle edge except a resident's own answer
    "volunteer": {
        ("matched", "accepted"),
        ("matched", "triaged"),
        ("accepted", "in_progress"),
        ("accepted", "triaged"),
        ("in_progress", "delivered"),
        ("in_progress", "triaged"),
    },
    "resident": {("delivered", "confirmed"), ("delivered", "triaged")},
    "partner": {("new", "cancelled"), ("triaged", "cancelled")},
    "councillor": {("new", "cancelled"), ("triaged", "cancelled")},
    "admin": set(),
    "system": {("triaged", "matched"), ("confirmed", "closed")},
}
WITH_VOLUNTEER = {"matched", "accepted", "in_progress", "delivered", "confirmed"}


def make_machine(
    db: Any, make_request: Any, volunteer_id: int, other_volunteer_id: int, partner_id: int
) -> type[RuleBasedStateMachine]:
    class Lifecycle(RuleBasedStateMachine):
        @initialize()
        def new_request(self) -> None:
            self.request = make_request(actor=Actor(role="partner", user_id=partner_id))
            self.successes = 0

        def _events(self) -> int:
            return db.session.scalar(
                select(func.count())
                .select_from(RequestEvent)
                .where(RequestEvent.request_id == self.request.id, RequestEvent.kind == "transition")
            )

        @rule(
            to=st.sampled_from([s.value for s in Status] + ["nonsense"]),
            role=st.sampled_from(sorted(ROLE_MAY)),
            own=st.booleans(),
            reason=st.sampled_from([None, "", "  ", "Because"]),
        )
        def attempt(self, to: str, role: str, own: bool, reason: str | None) -> None:
            before_volunteer = self.request.volunteer_id
            if to == "matched" and before_volunteer is None:
                self.request.volunteer_id = volunteer_id  # a coordinator's proposal, as assign_volunteer does
            before_status, before_urgency = self.request.status, self.request.urgency
            before_events = self._events()
            actor = Actor(
                role=role,
                user_id=partner_id if (own and role in ("partner", "councillor")) else None,
                volunteer_id=volunteer_id if own else other_volunteer_id,
            )
            try:
                lifecycle.transition(self.request, to, actor, reason)
            except TransitionRefused:
                self.request.volunteer_id = before_volunteer
                assert self.request.status == before_status
                assert self.request.urgency == before_urgency
                assert self._events() == before_events
                return
            edge = (before_status, to)
            assert to in LIFECYCLE[before_status], f"illegal edge {edge} was allowed"
            allowed = ROLE_MAY[role]
            if allowed is not None:
                assert edge in allowed, f"{role} was allowed {edge}"
            else:
                assert edge not in {("delivered", "confirmed")} or role == "coordinator"
            if role in ("volunteer", "partner", "councillor"):
                assert own, f"{role} acted on someone else's request: {edge}"
            unit_of_work.commit()
            self.successes += 1
            assert self._events() == before_events + 1

        @invariant()
        def consistent(self) -> None:
            if not hasattr(self, "request"):
                return
            status = self.request.status
            assert status in LIFECYCLE
            if status in WITH_VOLUNTEER:
                assert self.request.volunteer_id is not None
            if status in ("new", "triaged"):
                assert self.request.volunteer_id is None
            if status in ("closed", "cancelled", "unable_to_fulfil", "handed_off"):
                assert self.request.closed_at is not None
            assert 1 <= self.request.urgency <= 3

    return Lifecycle


def test_no_sequence_of_attempts_breaks_the_lifecycle(
    db: Any, make_request: Any, make_volunteer: Any, make_user: Any
) -> None:
    volunteer, other = make_volunteer(), make_volunteer(name="Other Volunteer")
    partner = make_user("partner")
    machine = make_machine(db, make_request, volunteer.id, other.id, partner.id)
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=60,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
