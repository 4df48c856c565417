"""A partner organisation's own volunteers: the list, adding one person, adding many from a CSV file.

Partner accounts only (councillors are not organisations). Each sees the people its organisation added and of
them only what `organisations.PersonRow` holds; coordinators vet them as anyone else.
"""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from can_crm.access import roles
from can_crm.extensions import limiter
from can_crm.forms import show_errors
from can_crm.models.enums import SKILLS, Role
from can_crm.partner.forms import PeopleUploadForm, PersonForm
from can_crm.partner.routes import bp
from can_crm.services.common.errors import Conflict, FieldErrors
from can_crm.services.volunteers import organisations

PARTNERS = (Role.PARTNER,)


@bp.get("/volunteers")
@roles(*PARTNERS)
def volunteers() -> Any:
    return render_template(
        "partner/volunteers.html",
        rows=organisations.people(current_user),
        organisation=organisations.organisation_of(current_user),
        title="Your volunteers",
    )


@bp.route("/volunteers/new", methods=["GET", "POST"])
@roles(*PARTNERS)
def new_volunteer() -> Any:
    organisation = organisations.organisation_of(current_user)
    form = PersonForm()
    if form.is_submitted():
        try:
            volunteer = organisations.add_person(current_user, form.profile_data())
        except FieldErrors as exc:
            show_errors(form, exc)
        else:
            flash(f"{volunteer.name} added. We have sent them a link to set their password", "success")
            return redirect(url_for("partner.volunteers"))
    return render_template(
        "partner/volunteer_form.html", form=form, organisation=organisation, title="Add a volunteer"
    ), (400 if form.errors else 200)


@bp.post("/volunteers/<int:volunteer_id>/invitation")
@roles(*PARTNERS)
@limiter.limit("30 per hour")
def invite_again(volunteer_id: int) -> Any:
    """A new link to set a password for one of the organisation's people (the old one stops working)."""
    try:
        row = organisations.invite_again(current_user, volunteer_id)
    except Conflict as exc:
        flash(exc.message, "info")
    else:
        flash(f"We have sent {row.name} a new link to set their password. The old link no longer works", "success")
    return redirect(url_for("partner.volunteers"))


def _upload_page(form: PeopleUploadForm, report: organisations.ImportReport | None = None, status: int = 200) -> Any:
    return render_template(
        "partner/volunteers_upload.html",
        form=form,
        report=report,
        skills=SKILLS,
        columns=organisations.COLUMNS,
        required=organisations.REQUIRED_COLUMNS,
        organisation=organisations.organisation_of(current_user),
        title="Add volunteers from a file",
    ), status


@bp.route("/volunteers/upload", methods=["GET", "POST"])
@roles(*PARTNERS)
def upload_volunteers() -> Any:
    if request.method == "GET":
        return _upload_page(PeopleUploadForm(formdata=None))
    form = PeopleUploadForm()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        show_errors(form, FieldErrors({"file": "Select a CSV file of volunteers"}))
        return _upload_page(form, status=400)
    # One byte over the limit is enough to refuse the file without reading all of a huge upload.
    report = organisations.import_people(current_user, upload.read(organisations.MAX_BYTES + 1))
    if report.file_error:
        show_errors(form, FieldErrors({"file": report.file_error}))
        return _upload_page(form, status=400)
    if report.refused:
        return _upload_page(form, report, status=400)
    flash(f"{len(report.added)} volunteers added. We have sent each a link to set their password", "success")
    return _upload_page(PeopleUploadForm(formdata=None), report)


@bp.get("/volunteers/template.csv")
@roles(*PARTNERS)
def volunteers_template() -> Any:
    return Response(
        organisations.sample_csv(),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="volunteers.csv"'},
    )
