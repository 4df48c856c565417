"""A person approves a draft plan (UK GDPR Article 22: the engine proposes, a coordinator decides), or discards it.

Approval checks everything first and changes nothing on a refusal: every stop's request must still be triaged and
unassigned, every round's volunteer still available, and every round still keep its capacity, windows and shift.
Then each stop's request is offered to its round's volunteer through the one state machine (triaged -> matched,
an event naming who acted and the volunteer) with a `delivery_round` history event naming the plan and the stop.
"""

from __future__ import annotations

from can_crm.extensions import db
from can_crm.models.base import utcnow
from can_crm.models.enums import EventKind, Status
from can_crm.models.rounds import RoundPlan
from can_crm.models.user import User
from can_crm.services.common import policy, times
from can_crm.services.common.errors import Conflict
from can_crm.services.common.times import clock
from can_crm.services.requests import operations
from can_crm.services.requests.events import record_event
from can_crm.services.rounds.edits import PlanRounds, lock_draft, whose
from can_crm.unit_of_work import atomic

MAX_PROBLEMS = 10


def _problems(view: PlanRounds) -> list[str]:
    today = times.today()
    problems: list[str] = []
    for rnd in view.rounds:
        order = view.order(rnd)
        if not order:
            continue
        volunteer = rnd.volunteer
        if volunteer is None or not volunteer.is_available(today):
            problems.append(
                f"{whose(rnd)} round cannot be approved: the volunteer is now paused, isolating or inactive. "
                "Move their stops to another round or remove them"
            )
        for stop in order:
            request = stop.request
            if request.status != Status.TRIAGED.value or request.volunteer_id is not None:
                status = request.status.replace("_", " ")
                problems.append(f"{request.reference} is now {status}, not waiting for a volunteer: remove it")
            elif stop.request_id not in view.places:
                problems.append(f"{request.reference} no longer has a known location: remove it")
        if all(s.request_id in view.places for s in order):
            problem = view.time(rnd, order).problem
            if problem:
                problems.append(f"{problem} (a resident's location has changed): re-plan or edit the round")
    return problems


@atomic
def approve_plan(plan_id: int, user: User) -> int:
    """Offer every stop's request to its round's volunteer, in round order; return how many were offered."""
    plan = lock_draft(plan_id)
    view = PlanRounds(plan)
    if not any(view.order(r) for r in view.rounds):
        raise Conflict("There is nothing to approve: no round has a stop")
    problems = _problems(view)
    if problems:
        more = f" (and {len(problems) - MAX_PROBLEMS} more)" if len(problems) > MAX_PROBLEMS else ""
        raise Conflict(". ".join(problems[:MAX_PROBLEMS]) + more + ". Nothing was approved.")
    actor = policy.actor_for(user)
    offered = 0
    for rnd in view.rounds:
        order = view.order(rnd)
        assert rnd.volunteer_id is not None or not order  # noqa: S101 - _problems refused a removed volunteer
        for n, stop in enumerate(order, start=1):
            vid = int(rnd.volunteer_id or 0)
            about = clock(stop.arrival_min)
            where = f"stop {n} of {len(order)} on delivery round #{rnd.id} (plan #{plan.id}), about {about}"
            operations.assign_volunteer(
                stop.request, vid, actor, reason=f"Offered as {where}", within_limits=False, announce=False
            )
            record_event(
                stop.request, actor, EventKind.DELIVERY_ROUND, reason=f"Round plan approved: {where}", volunteer_id=vid
            )
            offered += 1
    plan.state, plan.approved_by_id, plan.approved_at = "approved", user.id, utcnow()
    db.session.flush()
    return offered


@atomic
def discard_plan(plan_id: int) -> RoundPlan:
    """Set a draft aside: nothing is offered, the requests stay waiting for the next plan."""
    plan = lock_draft(plan_id)
    plan.state = "discarded"
    db.session.flush()
    return plan
