"""Food-parcel delivery rounds: plan today's rounds, watch the planning, edit the draft, approve or discard it."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from can_crm.access import STAFF, roles
from can_crm.coordinator.blueprint import bp
from can_crm.services.common import times
from can_crm.services.common.errors import Conflict, FieldErrors, NotFound
from can_crm.services.common.times import clock
from can_crm.services.requests import delivery
from can_crm.services.rounds import approval, edits, plans

REFRESH_SECONDS = 2
REASON_LABELS = {
    "location_unknown": "The resident's location is unknown",
    "removed_by_coordinator": "Taken off by a coordinator",
    "no_room_on_any_round": "No room on any round",
    "more_parcels_than_any_vehicle_carries": "More parcels than any car takes",
    "window_out_of_reach_of_every_shift": "No shift can reach it in its delivery window",
    "window_outside_plan": "The resident cannot take delivery while this plan delivers",
}
STATE_LABELS = {
    "planning": ("Planning", "govuk-tag--blue"),
    "draft": ("Draft: waiting for approval", "govuk-tag--yellow"),
    "approved": ("Approved", "govuk-tag--green"),
    "discarded": ("Discarded", "govuk-tag--grey"),
    "failed": ("Failed", "govuk-tag--red"),
}


def _form_values(form: Any) -> dict[str, Any]:
    """What the planning form posted, for the service and to show again on an error (nothing is lost)."""
    return {
        "hub": form.get("hub"),
        "window_start": form.get("window_start"),
        "window_end": form.get("window_end"),
        "vehicles": plans.rows_from_form(form),
    }


def _defaults(drivers: list[Any]) -> dict[str, Any]:
    start, end = plans.DEFAULT_SHIFT
    return {
        "hub": None,
        "window_start": plans.DEFAULT_WINDOW[0],
        "window_end": plans.DEFAULT_WINDOW[1],
        "vehicles": {
            v.id: {"include": None, "capacity": plans.DEFAULT_CAPACITY, "shift_start": start, "shift_end": end}
            for v in drivers
        },
    }


@bp.route("/rounds", methods=["GET", "POST"])
@roles(*STAFF)
def rounds() -> Any:
    drivers = plans.drivers(times.today())
    values, errors, status = _defaults(drivers), {}, 200
    if request.method == "POST":
        values = _form_values(request.form)
        try:
            plan = plans.start_plan(current_user, values)
        except FieldErrors as exc:
            errors, status = exc.fields, 400
        else:
            return redirect(url_for("coordinator.round_plan", plan_id=plan.id))
    waiting = plans.waiting_requests()
    return render_template(
        "coordinator/rounds.html",
        hubs=plans.hubs(),
        drivers=drivers,
        values=values,
        errors=errors,
        waiting=len(waiting),
        unplaced=sum(1 for r in waiting if r.resident.lat is None or r.resident.lon is None),
        plans=plans.recent_plans(),
        state_labels=STATE_LABELS,
        title="Delivery rounds",
    ), status


def _failed_edit(view: plans.PlanView, stop_id: int, field: str | None, round_id: str | None) -> dict[str, Any] | None:
    """Where a refused edit of a draft's stop is shown: by the "move to" choice (with the round chosen kept) when
    the round was the problem or the stop has no other control, else by the stop's up, down and remove buttons.
    None when the page shows no controls for the stop (the plan is no longer a draft, or has no such stop)."""
    stop = view.stop(stop_id) if view.status == "draft" else None
    if stop is None:
        return None
    movable = view.can_move(stop)
    if movable and (field == "round_id" or stop.round_id is None):
        return {"stop": stop_id, "by": "move", "href": f"#move-{stop_id}", "round_id": round_id}
    return {"stop": stop_id, "by": "buttons" if stop.round_id is not None else "row", "href": f"#stop-{stop_id}"}


def _render_plan(
    plan_id: int,
    status: int = 200,
    problem: str | None = None,
    stop_id: int | None = None,
    field: str | None = None,
    round_id: str | None = None,
) -> Any:
    """The plan's page; `problem`: why a post was refused, shown in the error summary and, for an edit of stop
    `stop_id` (`field`: the posted value at fault, `round_id`: the round chosen), by that stop's controls. A refusal
    the page has no control for (the plan is no longer a draft) links to the plan's state instead."""
    view = plans.plan_view(plan_id)
    failed = _failed_edit(view, stop_id, field, round_id) if problem and stop_id is not None else None
    return render_template(
        "coordinator/round_plan.html",
        view=view,
        plan=view.plan,
        refresh=REFRESH_SECONDS if view.status == "planning" and not problem else None,
        problem=problem,
        page_error=bool(problem),
        failed=failed,
        error_href=failed["href"] if failed else "#plan-state",
        clock=clock,
        can_take=delivery.describe,
        reason_labels=REASON_LABELS,
        state_labels=STATE_LABELS,
        title=f"Delivery rounds: plan {view.plan.id}",
    ), status


@bp.get("/rounds/<int:plan_id>")
@roles(*STAFF)
def round_plan(plan_id: int) -> Any:
    return _render_plan(plan_id)


@bp.post("/rounds/<int:plan_id>/stops/<int:stop_id>")
@roles(*STAFF)
def round_stop_edit(plan_id: int, stop_id: int) -> Any:
    plans.get_plan(plan_id)
    action, round_id = request.form.get("action"), request.form.get("round_id")
    try:
        message = edits.edit_stop(plan_id, stop_id, action, round_id)
    except FieldErrors as exc:
        return _render_plan(plan_id, 400, exc.message, stop_id, exc.field, round_id)
    except Conflict as exc:  # a move the chosen round cannot take is shown by the choice of round
        return _render_plan(plan_id, 409, exc.message, stop_id, "round_id" if action == "move" else None, round_id)
    flash(message, "success")
    return redirect(url_for("coordinator.round_plan", plan_id=plan_id, _anchor=f"stop-{stop_id}"))


@bp.post("/rounds/<int:plan_id>/approve")
@roles(*STAFF)
def round_plan_approve(plan_id: int) -> Any:
    plans.get_plan(plan_id)
    try:
        offered = approval.approve_plan(plan_id, current_user)
    except Conflict as exc:
        return _render_plan(plan_id, 409, problem=exc.message)
    flash(
        f"Plan approved: {offered} request{'' if offered == 1 else 's'} offered to the volunteers, in round order",
        "success",
    )
    return redirect(url_for("coordinator.round_plan", plan_id=plan_id))


@bp.post("/rounds/<int:plan_id>/discard")
@roles(*STAFF)
def round_plan_discard(plan_id: int) -> Any:
    plans.get_plan(plan_id)
    try:
        approval.discard_plan(plan_id)
    except (Conflict, NotFound) as exc:
        return _render_plan(plan_id, 409, problem=exc.message)
    flash("Plan discarded: nothing was offered, the requests are still waiting", "success")
    return redirect(url_for("coordinator.rounds"))
