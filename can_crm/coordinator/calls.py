"""Call tasks and failed messages (what coordinators must do by phone), and answers taken on the phone."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from can_crm.access import STAFF, roles
from can_crm.coordinator.blueprint import bp
from can_crm.services.common import policy
from can_crm.services.common.errors import FieldErrors, TransitionRefused
from can_crm.services.notifications import calltasks, feedback, sending


@bp.get("/call-tasks")
@roles(*STAFF)
def call_tasks() -> Any:
    return render_template(
        "coordinator/call_tasks.html",
        tasks=calltasks.open_tasks(),
        failed=sending.failed_messages(),
        labels={k.value: v for k, v in calltasks.TASK_LABELS.items()},
        title="Calls to make",
    )


@bp.post("/call-tasks/<int:task_id>/done")
@roles(*STAFF)
def call_task_done(task_id: int) -> Any:
    calltasks.complete(task_id, current_user.id)
    flash("Call marked as done", "success")
    return redirect(url_for("coordinator.call_tasks"))


@bp.post("/requests/<reference>/feedback")
@roles(*STAFF)
def phone_feedback(reference: str) -> Any:
    """The resident said on the phone whether help arrived."""
    help_request = policy.require_request(current_user, reference)
    try:
        feedback.record_by_phone(
            help_request, request.form.get("answer"), request.form.get("comment"), current_user.id, current_user.role
        )
    except (FieldErrors, TransitionRefused) as exc:
        message = "; ".join(exc.fields.values()) if isinstance(exc, FieldErrors) else exc.message
        flash(message, "error")
        return redirect(url_for("coordinator.request_detail", reference=reference)), 303
    flash("Answer recorded", "success")
    return redirect(url_for("coordinator.request_detail", reference=reference))
