"""Sign in and sign out for staff, partners, councillors and volunteers."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

from can_crm.access import public, signed_in
from can_crm.auth.forms import LoginForm
from can_crm.auth.throttle import throttled
from can_crm.forms import ConfirmForm
from can_crm.services.accounts import users

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/sign-in", methods=["GET", "POST"])
@public
@throttled
def login() -> Any:
    form = LoginForm()
    if form.validate_on_submit():
        errors = {}
        if not (form.email.data or "").strip():
            errors["email"] = "Enter your email address"
        if not form.password.data:
            errors["password"] = "Enter your password"  # noqa: S105 - a message, not a password
        user = users.authenticate(form.email.data or "", form.password.data or "") if not errors else None
        if user is not None:
            login_user(user)
            return redirect(_safe_next(request.args.get("next")) or url_for("main.index"))
        if not errors:
            errors["email"] = "Enter a correct email address and password"
        for name, message in errors.items():
            form[name].errors = [message]
    return render_template("auth/login.html", form=form, title="Sign in"), 200 if not form.errors else 400


@bp.get("/sign-out")
@public
def logout_confirm() -> Any:
    return render_template("auth/logout.html", form=ConfirmForm(), title="Sign out")


@bp.post("/sign-out")
@signed_in
def logout() -> Any:
    form = ConfirmForm()
    if form.validate_on_submit():
        users.end_sessions(current_user._get_current_object())
        logout_user()
        flash("You have signed out", "success")
        response = redirect(url_for("auth.login"))
        # The volunteer app keeps accepted tasks (residents' details) and queued updates on the phone: wipe them.
        response.headers["Clear-Site-Data"] = '"cache", "storage"'
        return response
    return redirect(url_for("auth.login"))
