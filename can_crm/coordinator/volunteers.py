"""Volunteer profiles as coordinators keep them."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from can_crm.access import STAFF, roles
from can_crm.coordinator.blueprint import bp
from can_crm.coordinator.forms import SelfServiceForm, VettingForm, VolunteerFilterForm, VolunteerForm
from can_crm.forms import show_errors
from can_crm.page_links import pagination, positive_int
from can_crm.services.common import times
from can_crm.services.common.errors import FieldErrors
from can_crm.services.volunteers import nearby, tasks, vetting
from can_crm.services.volunteers import profiles as volunteer_service


@bp.get("/volunteers")
@roles(*STAFF)
def volunteers() -> Any:
    form = VolunteerFilterForm(formdata=request.args)
    page_no = positive_int(request.args.get("page"), 1)
    try:
        page = volunteer_service.volunteers_page(form.status.data, page_no)
    except FieldErrors as exc:
        show_errors(form, exc)
        page = volunteer_service.volunteers_page(None, 1)
    kept = {"status": form.status.data} if form.status.data and not form.errors else {}
    today = times.today()
    return render_template(
        "coordinator/volunteers.html",
        form=form,
        page=page,
        pagination=pagination(page, lambda n: url_for("coordinator.volunteers", **kept, page=n)),
        today=today,
        checks=vetting.expiring_checks(page.items, today),
        alerts=tasks.open_alerts(),
        open_types=nearby.open_types(),
        title="Volunteers",
    ), (400 if form.errors else 200)


@bp.route("/volunteers/new", methods=["GET", "POST"])
@roles(*STAFF)
def new_volunteer() -> Any:
    form = VolunteerForm()
    if form.is_submitted():
        try:
            volunteer = volunteer_service.create_volunteer(form.data_for_service())
        except FieldErrors as exc:
            form.dbs_certificate_date.process_errors = []
            form.paused_until.process_errors = []
            show_errors(form, exc)
        else:
            flash(f"Volunteer {volunteer.name} added", "success")
            return redirect(url_for("coordinator.volunteers"))
    return render_template("coordinator/volunteer_form.html", form=form, volunteer=None, title="Add a volunteer"), (
        400 if form.errors else 200
    )


@bp.route("/volunteers/<int:volunteer_id>", methods=["GET", "POST"])
@roles(*STAFF)
def edit_volunteer(volunteer_id: int) -> Any:
    volunteer = volunteer_service.get_volunteer(volunteer_id)
    if request.method == "GET":
        data = {
            "name": volunteer.name,
            "phone": volunteer.phone,
            "email": volunteer.email,
            "home_postcode": volunteer.home_postcode,
            "max_km": f"{volunteer.max_km:g}",
            "capacity": str(volunteer.capacity),
            "max_per_day": "" if volunteer.max_per_day is None else str(volunteer.max_per_day),
            "offers_by": volunteer.offers_by,
            "skills": list(volunteer.skills or []),
            "dbs_level": volunteer.dbs_level,
            "dbs_certificate_date": volunteer.dbs_certificate_date,
            "active": "yes" if volunteer.active else "no",
            "paused_until": volunteer.paused_until,
            "organisation": volunteer.organisation,
            **{f"avail_{day}": slots for day, slots in (volunteer.availability or {}).items()},
        }
        form = VolunteerForm(formdata=None, data=data)
    else:
        form = VolunteerForm()
        try:
            volunteer_service.update_volunteer(volunteer, form.data_for_service())
        except FieldErrors as exc:
            form.dbs_certificate_date.process_errors = []
            form.paused_until.process_errors = []
            show_errors(form, exc)
        else:
            flash("Volunteer saved", "success")
            return redirect(url_for("coordinator.volunteers"))
    return render_template(
        "coordinator/volunteer_form.html",
        form=form,
        volunteer=volunteer,
        volunteer_id=volunteer_id,
        title="Edit a volunteer",
    ), (400 if form.errors else 200)


@bp.route("/volunteers/<int:volunteer_id>/vetting", methods=["GET", "POST"])
@roles(*STAFF)
def vet_volunteer(volunteer_id: int) -> Any:
    volunteer = volunteer_service.get_volunteer(volunteer_id)
    if request.method == "GET":
        form = VettingForm(
            formdata=None,
            data={
                "identity_checked": volunteer.identity_checked,
                "references_checked": volunteer.references_checked,
                "training_done": volunteer.training_done,
                "dbs_level": volunteer.dbs_level,
                "dbs_certificate_number": volunteer.dbs_certificate_number,
                "dbs_certificate_date": volunteer.dbs_certificate_date,
            },
        )
    else:
        form = VettingForm()
        try:
            vetting.vet(volunteer, form.data_for_service(), current_user.id)
        except FieldErrors as exc:
            form.dbs_certificate_date.process_errors = []
            show_errors(form, exc)
        else:
            flash(f"{volunteer.name}: {'approved' if volunteer.status == 'active' else 'rejected'}", "success")
            return redirect(url_for("coordinator.volunteers"))
    return render_template("coordinator/vetting.html", form=form, volunteer=volunteer, title="Vet a volunteer"), (
        400 if form.errors else 200
    )


@bp.route("/volunteers/self-service", methods=["GET", "POST"])
@roles(*STAFF)
def self_service() -> Any:
    if request.method == "GET":
        form = SelfServiceForm(formdata=None, data={"types": nearby.open_types()})
    else:
        form = SelfServiceForm()
        try:
            nearby.set_open_types(list(form.types.data or []), current_user.id)
        except FieldErrors as exc:
            show_errors(form, exc)
        else:
            flash("Self-service types saved", "success")
            return redirect(url_for("coordinator.volunteers"))
    return render_template("coordinator/self_service.html", form=form, title="Self-service"), (
        400 if form.errors else 200
    )
