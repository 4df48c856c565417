"""Administration: users, roles, disabling accounts, API tokens. Admins never see residents or requests."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from can_crm.access import roles
from can_crm.admin.forms import ActiveForm, NewUserForm, RoleForm, TokenForm
from can_crm.auth import sensitive
from can_crm.forms import show_errors
from can_crm.models.enums import Role
from can_crm.services.accounts import users as user_service
from can_crm.services.common.errors import Conflict, FieldErrors, ValidationError
from can_crm.services.notifications import sending as outbox_service

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/users")
@roles(Role.ADMIN)
def users() -> Any:
    return render_template("admin/users.html", rows=user_service.list_users(), title="Users")


@bp.route("/users/new", methods=["GET", "POST"])
@roles(Role.ADMIN)
def new_user() -> Any:
    form = NewUserForm()
    if form.is_submitted():
        try:
            user = user_service.create_user(
                form.email.data or "",
                form.name.data or "",
                form.role.data or "",
                form.password.data or "",
                form.organisation.data,
                form.ward_code.data,
            )
        except FieldErrors as exc:
            show_errors(form, exc)
        except Conflict as exc:
            show_errors(form, FieldErrors({exc.field or "email": exc.message}))
        else:
            flash(f"User {user.email} created", "success")
            return redirect(url_for("admin.user_detail", user_id=user.id))
    return render_template("admin/new_user.html", form=form, title="Add a user"), 400 if form.errors else 200


def _render_user(user_id: int, status: int = 200, **extra: Any) -> Any:
    user = user_service.get_user(user_id)
    role_form = extra.get("role_form") or RoleForm(formdata=None, role=user.role)
    return render_template(
        "admin/user.html",
        user=user,
        tokens=user_service.tokens_of(user),
        role_form=role_form,
        token_form=extra.get("token_form") or TokenForm(formdata=None),
        active_form=ActiveForm(formdata=None),
        plain_token=extra.get("plain_token"),
        form=extra.get("role_form") or extra.get("token_form"),
        problem=extra.get("problem"),
        title=f"User {user.email}",
    ), status


@bp.get("/users/<int:user_id>")
@roles(Role.ADMIN)
def user_detail(user_id: int) -> Any:
    return _render_user(user_id)


@bp.post("/users/<int:user_id>/role")
@roles(Role.ADMIN)
def change_role(user_id: int) -> Any:
    form = RoleForm()
    user = user_service.get_user(user_id)
    if not sensitive.password_recently_confirmed():
        # A role change is sensitive: the admin confirms their password first, then sends it again.
        flash("Confirm your password, then change the role again", "info")
        return redirect(url_for("auth.confirm_password", next=url_for("admin.user_detail", user_id=user_id)))
    try:
        if user.id == current_user.id:
            raise ValidationError("You cannot change your own role", "role")
        user_service.set_role(user, form.role.data or "")
    except ValidationError as exc:
        show_errors(form, FieldErrors({"role": exc.message}))
        return _render_user(user_id, 400, role_form=form)
    flash("Role changed. The user must sign in again", "success")
    return redirect(url_for("admin.user_detail", user_id=user_id))


@bp.post("/users/<int:user_id>/active")
@roles(Role.ADMIN)
def set_active(user_id: int) -> Any:
    form = ActiveForm()
    user = user_service.get_user(user_id)
    if form.active.data not in ("yes", "no"):
        return _render_user(user_id, 400, problem="Choose whether to enable or disable the account")
    if user.id == current_user.id and form.active.data == "no":
        return _render_user(user_id, 400, problem="You cannot disable your own account")
    user_service.set_active(user, form.active.data == "yes")
    flash(
        "Account enabled" if form.active.data == "yes" else "Account disabled: their sessions and tokens ended",
        "success",
    )
    return redirect(url_for("admin.user_detail", user_id=user_id))


@bp.post("/users/<int:user_id>/tracing")
@roles(Role.ADMIN)
def set_tracing(user_id: int) -> Any:
    form = ActiveForm()
    user = user_service.get_user(user_id)
    if form.active.data not in ("yes", "no"):
        return _render_user(user_id, 400, problem="Choose whether to give or withdraw the tracing permission")
    try:
        user_service.set_tracing(user, form.active.data == "yes", current_user.id)
    except ValidationError as exc:
        return _render_user(user_id, 400, problem=exc.message)
    flash("Tracing permission given" if form.active.data == "yes" else "Tracing permission withdrawn", "success")
    return redirect(url_for("admin.user_detail", user_id=user_id))


@bp.post("/users/<int:user_id>/tokens")
@roles(Role.ADMIN)
def issue_token(user_id: int) -> Any:
    form = TokenForm()
    user = user_service.get_user(user_id)
    try:
        days = int(current_app.config["API_TOKEN_DAYS"])
        scopes = [s for s in request.form.getlist("scopes") if s]
        _token, plain = user_service.issue_token(user, form.name.data or "", scopes, days)
    except ValidationError as exc:
        show_errors(form, FieldErrors({"name": exc.message}))
        return _render_user(user_id, 400, token_form=form)
    # Shown on this response only: the database keeps a hash and the prefix.
    return _render_user(user_id, 200, plain_token=plain)


@bp.post("/users/<int:user_id>/tokens/<int:token_id>/revoke")
@roles(Role.ADMIN)
def revoke_token(user_id: int, token_id: int) -> Any:
    user_service.revoke_user_token(user_service.get_user(user_id), token_id)
    flash("Token revoked", "success")
    return redirect(url_for("admin.user_detail", user_id=user_id))


@bp.get("/outbox")
@roles(Role.ADMIN)
def outbox() -> Any:
    """Messages the outbox provider stored (no NOTIFY_API_KEY): what residents would have received."""
    return render_template(
        "admin/outbox.html",
        rows=outbox_service.recent(),
        notify=bool(current_app.config.get("NOTIFY_API_KEY")),
        title="Outbox",
    )
