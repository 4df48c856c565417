"""Sign in and sign out for staff, partners, councillors and volunteers.

Staff roles (TWO_FACTOR_ROLES) sign in in two steps: the password, then a TOTP code (or a recovery
code). Between the steps the session holds only the pending user's id; Flask-Login signs them in after the
second factor. A staff user with no second factor yet enrols at that point."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from can_crm import unit_of_work
from can_crm.access import public, signed_in
from can_crm.auth import sensitive, sessions
from can_crm.auth.forms import CodeForm, InvitationForm, LoginForm, PasswordChangeForm, PasswordConfirmForm
from can_crm.auth.throttle import throttled
from can_crm.extensions import db, limiter
from can_crm.forms import ConfirmForm
from can_crm.models.user import User
from can_crm.services.accounts import invitations, users
from can_crm.services.accounts import two_factor as totp
from can_crm.services.common.errors import Conflict, ValidationError

bp = Blueprint("auth", __name__, url_prefix="/auth")
PENDING = "pending_user"
PENDING_SECRET = "pending_totp_secret"  # noqa: S105 - a session key name
PENDING_NEXT = "pending_next"
NEW_CODES = "new_recovery_codes"
# The password step is good for this long; after it the user starts again.
PENDING_SECONDS = 300


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _finish(user: User) -> Any:
    target = session.pop(PENDING_NEXT, None)
    for key in (PENDING, PENDING_SECRET):
        session.pop(key, None)
    login_user(user)
    sessions.start()
    sensitive.mark_password_confirmed()
    return redirect(_safe_next(target) or url_for("main.index"))


def _pending_user() -> User | None:
    pending = session.get(PENDING)
    if not isinstance(pending, list) or len(pending) != 3:
        return None
    user_id, version, at = pending
    if sessions.now_ts() - float(at) > PENDING_SECONDS:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_version != version:
        return None
    return user


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
            session.clear()
            session[PENDING_NEXT] = _safe_next(request.args.get("next"))
            if not totp.required_for(user, current_app.config["TWO_FACTOR_ROLES"]):
                return _finish(user)
            session[PENDING] = [user.id, user.session_version, sessions.now_ts()]
            if user.totp_enrolled_at is None:
                return redirect(url_for("auth.two_factor_setup"))
            return redirect(url_for("auth.two_factor"))
        if not errors:
            errors["email"] = "Enter a correct email address and password"
        for name, message in errors.items():
            form[name].errors = [message]
    return render_template("auth/login.html", form=form, title="Sign in"), 200 if not form.errors else 400


@bp.route("/two-factor", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["TWO_FACTOR_RATE_LIMIT"], methods=["POST"])
def two_factor() -> Any:
    user = _pending_user()
    if user is None or user.totp_enrolled_at is None:
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        checked = totp.verify(user, form.code.data or "")
        if checked == totp.Check.OK:
            return _finish(user)
        form.code.errors = [
            "That code has been used already. Wait for your authenticator app to show a new code, then enter it"
            if checked == totp.Check.USED
            else "Enter the 6-digit code from your authenticator app, or a recovery code"
        ]
    status = 400 if form.errors else 200
    return render_template("auth/two_factor.html", form=form, title="Enter your security code"), status


@bp.route("/two-factor/setup", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["TWO_FACTOR_RATE_LIMIT"], methods=["POST"])
def two_factor_setup() -> Any:
    user = _pending_user()
    if user is None:
        return redirect(url_for("auth.login"))
    if user.totp_enrolled_at is not None:
        return redirect(url_for("auth.two_factor"))
    secret = session.get(PENDING_SECRET) or totp.new_secret()
    session[PENDING_SECRET] = secret
    form = CodeForm()
    if form.validate_on_submit():
        codes = totp.enrol(user, secret, form.code.data or "")
        if codes is not None:
            _finish(user)
            # Shown once on the next page, then gone from the session.
            session[NEW_CODES] = codes
            return redirect(url_for("auth.recovery_codes"))
        form.code.errors = ["Enter the 6-digit code your authenticator app shows for CAN CRM"]
    return render_template(
        "auth/two_factor_setup.html",
        form=form,
        secret=secret,
        uri=totp.provisioning_uri(user, secret),
        title="Set up two-factor sign-in",
    ), 400 if form.errors else 200


@bp.get("/recovery-codes")
@signed_in
def recovery_codes() -> Any:
    codes = session.pop(NEW_CODES, None)
    if not codes:
        return redirect(url_for("main.index"))
    return render_template("auth/recovery_codes.html", codes=codes, title="Your recovery codes")


@bp.route("/confirm-password", methods=["GET", "POST"])
@signed_in
def confirm_password() -> Any:
    """Sensitive actions (role change, export, erasure) ask for the password again."""
    form = PasswordConfirmForm()
    if form.validate_on_submit():
        if users.check_password(current_user, form.password.data or ""):
            sensitive.mark_password_confirmed()
            return redirect(_safe_next(request.args.get("next")) or url_for("main.index"))
        form.password.errors = ["Your password is not right"]
    return render_template(
        "auth/confirm_password.html", form=form, title="Confirm your password"
    ), 400 if form.errors else 200


@bp.route("/password", methods=["GET", "POST"])
@signed_in
def change_password() -> Any:
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            users.change_password(current_user, form.current_password.data or "", form.new_password.data or "")
        except ValidationError as exc:
            form[exc.field or "new_password"].errors = [exc.message]
        else:
            logout_user()
            session.clear()
            flash("Password changed: sign in again with the new one", "success")
            return redirect(url_for("auth.login"))
    return render_template(
        "auth/change_password.html", form=form, title="Change your password"
    ), 400 if form.errors else 200


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
        session.clear()
        flash("You have signed out", "success")
        response = redirect(url_for("auth.login"))
        # The volunteer app keeps accepted tasks (residents' details) and queued updates on the phone: wipe them.
        response.headers["Clear-Site-Data"] = '"cache", "storage"'
        return response
    return redirect(url_for("auth.login"))


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["TWO_FACTOR_RATE_LIMIT"], methods=["POST"])
def invitation(token: str) -> Any:
    """Someone a partner organisation added chooses their password here, from the link in their message."""
    state = invitations.resolve(token).state
    form = InvitationForm()
    if state == "ok" and form.is_submitted():
        try:
            account = invitations.accept(token, form.password.data)
        except ValidationError as exc:
            form.password.errors = [exc.message]
        except Conflict as exc:
            state = exc.message
        else:
            unit_of_work.commit()
            session.clear()
            if totp.required_for(account, current_app.config["TWO_FACTOR_ROLES"]):
                flash("Password set: sign in with it", "success")
                return redirect(url_for("auth.login"))
            login_user(account)
            sessions.start()
            flash("Password set. A coordinator will check your details before offering you anything to do", "success")
            return redirect(url_for("main.index"))
    status = {"ok": 400 if form.errors else 200, "unknown": 404}.get(state, 410)
    return render_template("auth/invitation.html", form=form, state=state, title="Set your password"), status
