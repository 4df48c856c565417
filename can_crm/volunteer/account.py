"""Sign up to volunteer (public) and the volunteer's own profile: details, pause, hours, leaving."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_login import current_user, login_user

from can_crm import unit_of_work
from can_crm.access import public, roles
from can_crm.auth import sessions
from can_crm.extensions import limiter
from can_crm.forms import ConfirmForm, date_value, show_errors
from can_crm.models.enums import Role
from can_crm.services.common.errors import FieldErrors
from can_crm.services.volunteers import profiles
from can_crm.volunteer.blueprint import bp
from can_crm.volunteer.forms import HoursForm, ProfileForm, SignUpForm


@bp.route("/sign-up", methods=["GET", "POST"])
@public
@limiter.limit("10 per hour", methods=["POST"])
def sign_up() -> Any:
    form = SignUpForm()
    if form.is_submitted():
        try:
            volunteer = profiles.sign_up(form.profile_data(), form.email.data, form.password.data)
        except FieldErrors as exc:
            show_errors(form, exc)
        else:
            user = volunteer.user_id
            unit_of_work.commit()
            account = profiles.user_of(user)
            login_user(account)
            sessions.start()
            return redirect(url_for("volunteer.profile", signed_up=1))
    return render_template("volunteer/sign_up.html", form=form, title="Sign up to volunteer"), (
        400 if form.errors else 200
    )


@bp.route("/profile", methods=["GET", "POST"])
@roles(Role.VOLUNTEER)
def profile() -> Any:
    volunteer = profiles.for_user(current_user) or profiles.empty_profile(current_user)
    if not ProfileForm().is_submitted():
        data = {
            "name": volunteer.name,
            "phone": volunteer.phone,
            "home_postcode": volunteer.home_postcode,
            "max_km": f"{volunteer.max_km:g}",
            "transport": volunteer.transport,
            "capacity": str(volunteer.capacity),
            "max_per_day": "" if volunteer.max_per_day is None else str(volunteer.max_per_day),
            "offers_by": volunteer.offers_by,
            "skills": list(volunteer.skills or []),
            "organisation": volunteer.organisation,
            "paused_until": volunteer.paused_until,
            **{f"avail_{day}": slots for day, slots in (volunteer.availability or {}).items()},
        }
        form = ProfileForm(formdata=None, data=data)
    else:
        form = ProfileForm()
        try:
            profiles.update_own(volunteer, form.profile_data())
        except FieldErrors as exc:
            form.paused_until.process_errors = []
            show_errors(form, exc)
        else:
            flash("Your details are saved", "success")
            return redirect(url_for("volunteer.profile"))
    return render_template(
        "volunteer/profile.html",
        form=form,
        volunteer=volunteer,
        hours_form=HoursForm(formdata=None),
        leave_form=ConfirmForm(formdata=None),
        minutes=profiles.total_minutes(volunteer),
        title="My details",
    ), (400 if form.errors else 200)


@bp.post("/profile/hours")
@roles(Role.VOLUNTEER)
def log_hours() -> Any:
    volunteer = profiles.require_for_user(current_user)
    form = HoursForm()
    try:
        profiles.log_hours(volunteer, date_value(form.worked_on), form.minutes.data)
    except FieldErrors as exc:
        flash(next(iter(exc.fields.values())), "info")
    else:
        flash("Hours logged. Thank you", "success")
    return redirect(url_for("volunteer.profile", _anchor="hours"))


@bp.post("/profile/leave")
@roles(Role.VOLUNTEER)
def leave() -> Any:
    profiles.leave(profiles.require_for_user(current_user))
    flash("You have left. Thank you for everything you did. Nothing more will be offered to you", "success")
    return redirect(url_for("volunteer.profile"))
