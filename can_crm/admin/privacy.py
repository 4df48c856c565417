"""Admin pages for data protection and sign-in security: the audit log review (with users flagged for
unusual reading), the Art. 30 record of processing, the privacy permission and second-factor resets."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from can_crm.access import roles
from can_crm.admin.routes import bp
from can_crm.auth import sensitive
from can_crm.models.enums import Role
from can_crm.services.accounts import two_factor
from can_crm.services.accounts import users as user_service
from can_crm.services.common import audit
from can_crm.services.privacy import processing, reads


@bp.get("/audit")
@roles(Role.ADMIN)
def audit_log() -> Any:
    raw = request.args.get("resident_id") or ""
    if raw and not (raw.isascii() and raw.isdigit() and len(raw) <= 9):
        abort(400, "A resident id is a whole number")
    raw_actor = request.args.get("actor_id") or ""
    if raw_actor and not (raw_actor.isascii() and raw_actor.isdigit() and len(raw_actor) <= 9):
        abort(400, "A user id is a whole number")
    entries = reads.entries(int(raw) if raw else None, int(raw_actor) if raw_actor else None)
    return render_template(
        "admin/audit.html",
        entries=entries,
        flagged=reads.flagged(),
        resident_id=raw,
        actor_id=raw_actor,
        alert_records=current_app.config["READ_ALERT_RECORDS"],
        alert_minutes=current_app.config["READ_ALERT_MINUTES"],
        title="Audit log",
    )


@bp.get("/processing-record")
@roles(Role.ADMIN, Role.COORDINATOR)
def processing_record() -> Any:
    return render_template(
        "admin/processing_record.html", record=processing.record(), title="Record of processing activities"
    )


@bp.post("/users/<int:user_id>/two-factor/reset")
@roles(Role.ADMIN)
def reset_two_factor(user_id: int) -> Any:
    if not sensitive.password_recently_confirmed():
        return redirect(url_for("auth.confirm_password", next=url_for("admin.user_detail", user_id=user_id)))
    user = user_service.get_user(user_id)
    two_factor.reset(user, current_user)
    flash("Two-factor sign-in reset: they set it up again at their next sign-in", "success")
    return redirect(url_for("admin.user_detail", user_id=user_id))


@bp.post("/users/<int:user_id>/privacy")
@roles(Role.ADMIN)
def set_privacy_permission(user_id: int) -> Any:
    if not sensitive.password_recently_confirmed():
        return redirect(url_for("auth.confirm_password", next=url_for("admin.user_detail", user_id=user_id)))
    user = user_service.get_user(user_id)
    grant = request.form.get("grant") == "yes"
    if grant and user.role != Role.COORDINATOR.value:
        flash("Only coordinators can hold the privacy permission", "error")
        return redirect(url_for("admin.user_detail", user_id=user_id))
    user.privacy_officer = grant
    audit.record(current_user.id, "grant_privacy" if grant else "revoke_privacy", "user", user.id)
    flash("Privacy permission granted" if grant else "Privacy permission removed", "success")
    return redirect(url_for("admin.user_detail", user_id=user_id))
