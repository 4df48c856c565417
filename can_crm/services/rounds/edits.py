"""The coordinator's edits to a draft plan: move a stop up or down its round, to another round, or off the plan.

Every edit re-times the rounds it touches with the engine's rule book (`timing.time_round`) and is refused,
changing nothing, when a round would break its car's capacity (each stop's own parcels), a stop's own delivery
window (the resident's, cut to the plan's) or the shift; the message
says which rule and where. Edits lock the plan row, so two coordinators editing one plan take turns.
"""

from __future__ import annotations

from sqlalchemy import select

from can_crm.extensions import db
from can_crm.models.base import utcnow
from can_crm.models.rounds import DeliveryRound, RoundPlan, RoundStop
from can_crm.services.common.errors import Conflict, FieldErrors, NotFound
from can_crm.services.common.ids import parse_id
from can_crm.services.common.times import clock
from can_crm.services.requests import delivery
from can_crm.services.rounds import plans
from can_crm.services.rounds.timing import Timing, time_round
from can_crm.unit_of_work import atomic

ACTIONS = ("up", "down", "move", "remove")


def lock_draft(plan_id: int) -> RoundPlan:
    """The plan, locked for this transaction; refused unless it is still a draft."""
    plan = (
        db.session.scalar(select(RoundPlan).where(RoundPlan.id == plan_id).with_for_update())
        if 0 < plan_id < 2**31
        else None
    )
    if plan is None:
        raise NotFound("No round plan with that id")
    if plan.state != "draft":
        raise Conflict(f"This plan is {plan.state}, not a draft: nothing was changed")
    return plan


def whose(rnd: DeliveryRound) -> str:
    return f"{rnd.volunteer.name}'s" if rnd.volunteer is not None else "This"


class PlanRounds:
    """The plan's rounds and stops loaded once, and timing with the plan's settings."""

    def __init__(self, plan: RoundPlan) -> None:
        self.plan = plan
        self.rounds = plans.rounds_of(plan.id)
        self.stops = plans.stops_of(plan.id)
        self.places = plans.resident_places(self.stops)
        self.references = {s.request_id: s.request.reference for s in self.stops}

    def order(self, rnd: DeliveryRound) -> list[RoundStop]:
        return sorted((s for s in self.stops if s.round_id == rnd.id), key=lambda s: (s.position or 0, s.id))

    def time(self, rnd: DeliveryRound, order: list[RoundStop]) -> Timing:
        return time_round(self.plan, rnd, order, self.places, self.references, whose(rnd))

    def apply(self, rnd: DeliveryRound, order: list[RoundStop], timing: Timing) -> None:
        for position, (stop, arrival) in enumerate(zip(order, timing.arrivals, strict=True)):
            stop.round_id, stop.position, stop.arrival_min, stop.unserved_reason = rnd.id, position, arrival, None
        rnd.km = round(timing.km, 3)
        rnd.end_min = round(timing.end_min, 2) if order else None


def _stop(view: PlanRounds, stop_id: int) -> RoundStop:
    stop = next((s for s in view.stops if s.id == stop_id), None)
    if stop is None:
        raise NotFound("No stop with that id in this plan")
    return stop


@atomic
def edit_stop(plan_id: int, stop_id: int, action: object, round_id: object = None) -> str:
    """Apply one edit; return what changed, in words, for the coordinator. Refusals change nothing.

    A plan that is no longer a draft is refused first, whatever was posted: its page no longer offers the edit.
    """
    plan = lock_draft(plan_id)
    if action not in ACTIONS:
        raise FieldErrors(
            {"action": "Choose what to do with the stop: move it up, down, to another round, or remove it"}
        )
    view = PlanRounds(plan)
    stop = _stop(view, stop_id)
    reference = view.references[stop.request_id]
    current = next((r for r in view.rounds if r.id == stop.round_id), None)
    if action == "move":
        message = _move(view, stop, current, round_id)
    elif current is None:
        raise Conflict(f"{reference} is on no round: move it to a round instead")
    elif action == "remove":
        order = [s for s in view.order(current) if s.id != stop.id]
        view.apply(current, order, view.time(current, order))
        stop.round_id, stop.position, stop.arrival_min, stop.unserved_reason = None, None, None, plans.REMOVED
        message = f"{reference} was taken off {whose(current)} round"
    else:
        message = _reorder(view, stop, current, action == "up")
    plans.update_totals(plan, view.rounds, view.stops)
    plan.updated_at = utcnow()
    db.session.flush()
    return message


def _reorder(view: PlanRounds, stop: RoundStop, rnd: DeliveryRound, up: bool) -> str:
    reference = view.references[stop.request_id]
    order = view.order(rnd)
    i = order.index(stop)
    j = i - 1 if up else i + 1
    if not 0 <= j < len(order):
        raise Conflict(f"{reference} is already the {'first' if up else 'last'} stop of {whose(rnd)} round")
    order[i], order[j] = order[j], order[i]
    timing = view.time(rnd, order)
    if timing.problem:
        raise Conflict(f"{reference} cannot go {'earlier' if up else 'later'}: {timing.problem}. Nothing was changed")
    view.apply(rnd, order, timing)
    return f"{reference} is now stop {j + 1} of {whose(rnd)} round"


def _move(view: PlanRounds, stop: RoundStop, current: DeliveryRound | None, raw_round: object) -> str:
    reference = view.references[stop.request_id]
    target_id = parse_id(raw_round, "round_id", "Choose the round to move the stop to", unknown="No such round")
    target = next((r for r in view.rounds if r.id == target_id), None)
    if target is None:
        raise FieldErrors({"round_id": "Choose a round of this plan"})
    if current is not None and target.id == current.id:
        raise FieldErrors({"round_id": f"{reference} is already on {whose(target)} round: choose another"})
    if stop.request_id not in view.places:
        raise Conflict(f"{reference} has no known location: set it on the request page, then plan again")
    if stop.unserved_reason == plans.WINDOW_OUTSIDE_PLAN:
        hours = f"{clock(view.plan.window_start_min)} to {clock(view.plan.window_end_min)}"
        raise Conflict(
            f"{reference} cannot go on a round: the resident can take delivery "
            f"{delivery.describe(stop.request).lower()}, outside this plan's deliveries ({hours}). Nothing was changed"
        )
    base = view.order(target)
    # The cheapest place in the round that keeps every rule; if none does, the cheapest place says why not.
    tried = [(base[:k] + [stop] + base[k:]) for k in range(len(base) + 1)]
    timed = [(view.time(target, order), order) for order in tried]
    fits = [(t, order) for t, order in timed if t.problem is None]
    if not fits:
        cheapest = min(timed, key=lambda pair: pair[0].km)[0]
        raise Conflict(f"{reference} cannot go on {whose(target)} round: {cheapest.problem}. Nothing was changed")
    timing, order = min(fits, key=lambda pair: pair[0].km)
    if current is not None:
        rest = [s for s in view.order(current) if s.id != stop.id]
        view.apply(current, rest, view.time(current, rest))
    view.apply(target, order, timing)
    return f"{reference} is now stop {order.index(stop) + 1} of {whose(target)} round"
