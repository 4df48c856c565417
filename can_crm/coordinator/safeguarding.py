"""Safeguarding: flag a concern on a request (any role that can see it), and the coordinators' queue."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from can_crm.access import STAFF, roles
from can_crm.coordinator.blueprint import bp
from can_crm.coordinator.forms import (
    CloseConcernForm,
    ConcernForm,
)
from can_crm.coordinator.requests import render_request
from can_crm.forms import show_errors
from can_crm.models.enums import Role
from can_crm.services.common import policy
from can_crm.services.common.errors import Conflict, FieldErrors
from can_crm.services.requests import safeguarding as safeguarding_service

ALL_ROLES = tuple(Role)


@bp.route("/requests/<reference>/concern", methods=["GET", "POST"])
@roles(*ALL_ROLES)
def flag_concern(reference: str) -> Any:
    """Anyone signed in may flag a concern on a request they can see; the details go to coordinators only."""
    form = ConcernForm()
    if form.is_submitted():
        try:
            safeguarding_service.raise_concern(current_user, reference, form.details.data)
        except FieldErrors as exc:
            show_errors(form, exc)
            if current_user.role == Role.COORDINATOR.value:
                return render_request(reference, 400, concern_form=form, error_form=form)
            return render_template(
                "coordinator/concern.html", form=form, reference=reference, title="Flag a safeguarding concern"
            ), 400
        flash("Safeguarding concern sent to the coordinators", "success")
        if current_user.role == Role.COORDINATOR.value:
            return redirect(url_for("coordinator.request_detail", reference=reference))
        if current_user.role in (Role.PARTNER.value, Role.COUNCILLOR.value):
            return redirect(url_for("partner.request_detail", reference=reference))
        return render_template("coordinator/concern_sent.html", title="Concern sent")
    policy.require_request(current_user, reference)
    return render_template(
        "coordinator/concern.html", form=form, reference=reference, title="Flag a safeguarding concern"
    )


@bp.get("/safeguarding")
@roles(*STAFF)
def safeguarding() -> Any:
    return _render_safeguarding()


def _render_safeguarding(status: int = 200, failed_id: int | None = None, failed_form: Any = None) -> Any:
    rows = safeguarding_service.queue(current_user)
    return render_template(
        "coordinator/safeguarding.html",
        rows=rows,
        failed_id=failed_id,
        failed_form=failed_form,
        form=failed_form,
        title="Safeguarding concerns",
    ), status


@bp.post("/safeguarding/<int:concern_id>/close")
@roles(*STAFF)
def close_concern(concern_id: int) -> Any:
    form = CloseConcernForm()
    try:
        safeguarding_service.close_concern(current_user, concern_id, form.outcome.data)
    except FieldErrors as exc:
        show_errors(form, exc)
        return _render_safeguarding(400, concern_id, form)
    except Conflict as exc:
        form.outcome.errors = [exc.message]
        return _render_safeguarding(409, concern_id, form)
    flash("Concern closed", "success")
    return redirect(url_for("coordinator.safeguarding"))
