"""Offers, my tasks and nearby: the volunteer's phone screens. Every action is a plain form post."""

from __future__ import annotations

import secrets
from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from can_crm import http
from can_crm.access import roles
from can_crm.models.enums import NOT_DELIVERED_REASONS, Role
from can_crm.models.volunteer import Volunteer
from can_crm.services.common.errors import Conflict, FieldErrors, NotFound
from can_crm.services.requests.events import Actor
from can_crm.services.rounds import mine
from can_crm.services.volunteers import nearby, offers, profiles, tasks
from can_crm.volunteer.blueprint import bp
from can_crm.volunteer.forms import DeclineForm, ProgressForm

VOLUNTEER = Role.VOLUNTEER


def _me() -> tuple[Volunteer, Actor]:
    volunteer = profiles.for_user(current_user)
    if volunteer is None:
        volunteer = profiles.empty_profile(current_user)
    return volunteer, Actor(role=VOLUNTEER.value, user_id=current_user.id, volunteer_id=volunteer.id)


def _mine() -> Volunteer:
    """For a page that only reads: an account with the volunteer role but no profile yet goes to the profile page,
    which makes one for it to fill in."""
    volunteer = profiles.for_user(current_user)
    if volunteer is None:
        abort(redirect(url_for("volunteer.profile")))
    return volunteer


def _waiting(volunteer: Volunteer) -> bool:
    return volunteer.status != "active"


@bp.get("/")
@http.reading
@roles(VOLUNTEER)
def offers_page() -> Any:
    volunteer = _mine()
    rows = offers.list_offers(volunteer)
    return render_template(
        "volunteer/offers.html",
        rows=rows,
        volunteer=volunteer,
        title="Offered to me",
    )


@bp.post("/offers/<reference>/accept")
@roles(VOLUNTEER)
def accept(reference: str) -> Any:
    volunteer, actor = _me()
    try:
        offers.accept(volunteer, reference[:20], actor)
    except NotFound as exc:
        flash(exc.message, "info")
        return redirect(url_for("volunteer.offers_page"))
    flash("Accepted. Thank you: the address and phone number are below", "success")
    return redirect(url_for("volunteer.tasks_page", _anchor=f"task-{reference[:20]}"))


@bp.post("/offers/<reference>/decline")
@roles(VOLUNTEER)
def decline(reference: str) -> Any:
    volunteer, actor = _me()
    form = DeclineForm()
    try:
        offers.decline(volunteer, reference[:20], actor, form.reason.data)
    except (NotFound, FieldErrors) as exc:
        flash(getattr(exc, "message", "Check your reason"), "info")
        return redirect(url_for("volunteer.offers_page"))
    flash("Declined. Thank you for letting us know", "success")
    return redirect(url_for("volunteer.offers_page"))


@bp.get("/tasks")
@http.reading
@roles(VOLUNTEER)
def tasks_page() -> Any:
    volunteer = _mine()
    rows = tasks.list_tasks(volunteer)
    # One fresh key per task per drawing of the page (the step is added to it): posting twice records one step.
    keys = {t.reference: secrets.token_urlsafe(12) for t in rows}
    return render_template(
        "volunteer/tasks.html",
        rows=rows,
        keys=keys,
        step_labels=tasks.STEP_LABELS,
        reasons=NOT_DELIVERED_REASONS,
        hours=tasks.details_hours(),
        title="My tasks",
    )


@bp.post("/tasks/<reference>/progress")
@roles(VOLUNTEER)
def progress(reference: str) -> Any:
    volunteer, actor = _me()
    form = ProgressForm()
    step = form.step.data
    reason = form.reason.data if step == "could_not_deliver" else None
    # A stop of a delivery round reports through this same service and endpoint, and returns to the round.
    page = "volunteer.round_page" if form.back_to.data == "round" else "volunteer.tasks_page"
    anchor = "stop" if page == "volunteer.round_page" else "task"
    try:
        result = tasks.report_progress(
            volunteer, reference[:20], step, reason, tasks.step_key(form.idempotency_key.data, step), actor
        )
    except (Conflict, FieldErrors) as exc:
        message = exc.message if not isinstance(exc, FieldErrors) else next(iter(exc.fields.values()))
        flash(message, "info")
        return redirect(url_for(page))
    flash(f"{tasks.STEP_LABELS[result['step']]}: saved", "success")
    return redirect(url_for(page, _anchor=f"{anchor}-{reference[:20]}"))


@bp.post("/tasks/<reference>/ok")
@roles(VOLUNTEER)
def i_am_ok(reference: str) -> Any:
    volunteer, actor = _me()
    tasks.answer_ok(volunteer, reference[:20], actor)
    flash("Thank you. Glad you are OK", "success")
    return redirect(url_for("volunteer.tasks_page"))


@bp.get("/nearby")
@http.reading
@roles(VOLUNTEER)
def nearby_page() -> Any:
    volunteer = _mine()
    # At their own limit (at once, or today), nothing they could not claim is listed: the page says why instead.
    full, rows = nearby.shown(volunteer)
    return render_template("volunteer/nearby.html", rows=rows, full=full, volunteer=volunteer, title="Nearby")


@bp.post("/nearby/<reference>/claim")
@roles(VOLUNTEER)
def claim(reference: str) -> Any:
    volunteer, actor = _me()
    try:
        nearby.claim(volunteer, reference[:20], actor)
    except Conflict as exc:
        flash(exc.message, "info")
        return redirect(url_for("volunteer.nearby_page"))
    flash("It is yours. Thank you: the address and phone number are below", "success")
    return redirect(url_for("volunteer.tasks_page", _anchor=f"task-{reference[:20]}"))


@bp.get("/round")
@http.reading
@roles(VOLUNTEER)
def round_page() -> Any:
    volunteer = _mine()
    views = mine.my_rounds(volunteer)
    # One fresh key per stop per drawing of the page, as on My tasks: posting twice records one step.
    keys = {s.reference: secrets.token_urlsafe(12) for v in views for s in v.stops}
    return render_template(
        "volunteer/round.html",
        views=views,
        keys=keys,
        reasons=NOT_DELIVERED_REASONS,
        decline_form=DeclineForm(),
        hours=tasks.details_hours(),
        title="My round",
    )


@bp.post("/round/<int:round_id>/accept")
@roles(VOLUNTEER)
def round_accept(round_id: int) -> Any:
    volunteer, actor = _me()
    try:
        accepted = mine.accept_round(volunteer, round_id, actor)
    except NotFound as exc:
        flash(exc.message, "info")
        return redirect(url_for("volunteer.round_page"))
    flash(
        f"Round accepted ({accepted} stop{'' if accepted == 1 else 's'}). Thank you: the addresses are below", "success"
    )
    return redirect(url_for("volunteer.round_page"))


@bp.post("/round/<int:round_id>/decline")
@roles(VOLUNTEER)
def round_decline(round_id: int) -> Any:
    volunteer, actor = _me()
    form = DeclineForm()
    try:
        mine.decline_round(volunteer, round_id, actor, form.reason.data)
    except (NotFound, FieldErrors) as exc:
        flash(getattr(exc, "message", "Check your reason"), "info")
        return redirect(url_for("volunteer.round_page"))
    flash("Round declined. Thank you for letting us know", "success")
    return redirect(url_for("volunteer.round_page"))
