"""Coordinator pages: the queue, a request and its actions, phone intake, safeguarding, volunteers."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from can_crm import unit_of_work
from can_crm.access import STAFF, roles
from can_crm.coordinator.forms import (
    AssignForm,
    AssistedRequestForm,
    CloseConcernForm,
    ConcernForm,
    QueueFilterForm,
    TransitionForm,
    TriageForm,
    VolunteerForm,
)
from can_crm.forms import date_value, show_errors
from can_crm.models.base import utcnow
from can_crm.models.enums import Channel, Role
from can_crm.page_cache import shared_page
from can_crm.services import policy
from can_crm.services import queue as queue_service
from can_crm.services import requests as request_service
from can_crm.services import safeguarding as safeguarding_service
from can_crm.services import volunteers as volunteer_service
from can_crm.services.errors import Conflict, FieldErrors, NotFound, TransitionRefused, ValidationError

bp = Blueprint("coordinator", __name__, url_prefix="/coordinator")

ALL_ROLES = tuple(Role)
RESIDENT_FIELDS = (
    "name",
    "address_line1",
    "address_line2",
    "town",
    "postcode",
    "phone",
    "email",
    "preferred_channel",
    "language",
    "accessibility_needs",
    "shielding",
    "nhs_number",
    "vulnerabilities",
    "lawful_basis",
)
MAX_PER_PAGE = 100


def _positive_int(raw: str | None, default: int, cap: int | None = None) -> int:
    try:
        value = int(raw) if raw not in (None, "") else default
    except ValueError:
        value = default
    value = max(1, value)
    return min(value, cap) if cap else value


@bp.get("/")
@roles(*STAFF)
@shared_page(queue_service.queue_data_version)
def queue() -> Any:
    form = QueueFilterForm(formdata=request.args if request.args else None, status="open")
    page_no = _positive_int(request.args.get("page"), 1)
    per_page = _positive_int(request.args.get("per_page"), current_app.config["QUEUE_PAGE_SIZE"], MAX_PER_PAGE)
    page = None
    try:
        filters = queue_service.clean_filters({**request.args.to_dict(), "status": form.status.data or "all"})
    except FieldErrors as exc:
        show_errors(form, exc)
    else:
        page = queue_service.queue(current_user, filters, page_no, per_page)
    kept = {k: v for k, v in request.args.items() if k not in ("page", "submit") and v}

    def page_url(number: int) -> str:
        return url_for("coordinator.queue", **kept, page=number)

    pagination = None
    if page and page.pages > 1:
        pagination = {
            "previous": {"href": page_url(page.page - 1)} if page.page > 1 else None,
            "next": {"href": page_url(page.page + 1)} if page.page < page.pages else None,
        }
    status = 400 if form.errors else 200
    return render_template(
        "coordinator/queue.html", form=form, page=page, pagination=pagination, now=utcnow(), title="Request queue"
    ), status


def _render_request(reference: str, status: int = 200, **forms: Any) -> Any:
    view = request_service.request_page(current_user, reference)
    req = view.request
    triage_form = forms.get("triage_form") or TriageForm(
        formdata=None,
        data={
            "urgency": str(req.urgency),
            "required_skills": list(req.required_skills or []),
            "min_dbs": req.min_dbs,
            "due_by": req.due_by,
            "coordinator_notes": req.coordinator_notes,
        },
    )
    assign_form = forms.get("assign_form") or AssignForm(formdata=None)
    assign_form.volunteer_id.choices = [("", "Choose a volunteer")] + [
        (str(v.id), f"{v.name}{f' – {km} km' if km is not None else ''} – up to {v.max_km:g} km")
        for v, km in view.candidates
    ]
    return render_template(
        "coordinator/request.html",
        view=view,
        req=req,
        form=forms.get("error_form"),
        triage_form=triage_form,
        assign_form=assign_form,
        concern_form=forms.get("concern_form") or ConcernForm(formdata=None),
        transition_error=forms.get("transition_error"),
        posted_to=forms.get("posted_to"),
        posted_reason=forms.get("posted_reason"),
        now=utcnow(),
        title=f"Request {req.reference}",
    ), status


@bp.get("/requests/<reference>")
@roles(*STAFF)
def request_detail(reference: str) -> Any:
    return _render_request(reference)


@bp.post("/requests/<reference>/triage")
@roles(*STAFF)
def triage(reference: str) -> Any:
    form = TriageForm()
    data = {
        "urgency": form.urgency.data,
        "required_skills": list(form.required_skills.data or []),
        "min_dbs": form.min_dbs.data,
        "due_by": date_value(form.due_by),
        "coordinator_notes": form.coordinator_notes.data,
    }
    try:
        req = policy.require_request(current_user, reference)
        request_service.triage(req, data, policy.actor_for(current_user))
    except TransitionRefused as exc:
        unit_of_work.rollback()
        return _render_request(reference, 409, transition_error=exc.message)
    except ValidationError as exc:
        unit_of_work.rollback()
        errors = exc.fields if isinstance(exc, FieldErrors) else {exc.field or "urgency": exc.message}
        show_errors(form, FieldErrors(errors))
        return _render_request(reference, 400, triage_form=form, error_form=form)
    flash("Triage saved", "success")
    return redirect(url_for("coordinator.request_detail", reference=reference))


@bp.post("/requests/<reference>/transition")
@roles(*STAFF)
def transition(reference: str) -> Any:
    form = TransitionForm()
    try:
        req = request_service.move(current_user, reference, form.to.data or "", form.reason.data)
    except TransitionRefused as exc:
        unit_of_work.rollback()
        return _render_request(
            reference, 409, transition_error=exc.message, posted_to=form.to.data, posted_reason=form.reason.data
        )
    flash(f"Request moved to {req.status.replace('_', ' ')}", "success")
    return redirect(url_for("coordinator.request_detail", reference=reference))


@bp.post("/requests/<reference>/assign")
@roles(*STAFF)
def assign(reference: str) -> Any:
    form = AssignForm()
    raw = form.volunteer_id.data or ""
    try:
        if not raw.isdigit():
            raise FieldErrors({"volunteer_id": "Choose a volunteer"})
        req = policy.require_request(current_user, reference)
        request_service.assign_volunteer(req, int(raw), policy.actor_for(current_user))
    except FieldErrors as exc:
        unit_of_work.rollback()
        show_errors(form, exc)
        return _render_request(reference, 400, assign_form=form, error_form=form)
    except NotFound as exc:
        if exc.field != "volunteer_id":
            raise
        unit_of_work.rollback()
        show_errors(form, FieldErrors({"volunteer_id": exc.message}))
        return _render_request(reference, 400, assign_form=form, error_form=form)
    except ValidationError as exc:
        unit_of_work.rollback()
        show_errors(form, FieldErrors({"volunteer_id": exc.message}))
        return _render_request(reference, 400, assign_form=form, error_form=form)
    except TransitionRefused as exc:
        unit_of_work.rollback()
        return _render_request(reference, 409, transition_error=exc.message)
    flash("Volunteer assigned: the request is matched", "success")
    return redirect(url_for("coordinator.request_detail", reference=reference))


@bp.route("/requests/<reference>/concern", methods=["GET", "POST"])
@roles(*ALL_ROLES)
def flag_concern(reference: str) -> Any:
    """Anyone signed in may flag a concern on a request they can see; the details go to coordinators only."""
    form = ConcernForm()
    if form.is_submitted():
        try:
            safeguarding_service.raise_concern(current_user, reference, form.details.data)
        except FieldErrors as exc:
            unit_of_work.rollback()
            show_errors(form, exc)
            if current_user.role == Role.COORDINATOR.value:
                return _render_request(reference, 400, concern_form=form, error_form=form)
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


@bp.route("/requests/new", methods=["GET", "POST"])
@roles(*STAFF)
def new_request() -> Any:
    form = AssistedRequestForm()
    duplicates: list[Any] = []
    if form.is_submitted():
        resident_data = {f: form[f].data for f in RESIDENT_FIELDS}
        resident_data["consent_given"] = bool(form.consent_given.data)
        request_data = {
            "type": form.type.data,
            "urgency": form.urgency.data,
            "details": form.details.data,
            "due_by": date_value(form.due_by),
            "volunteer_notes": form.volunteer_notes.data,
            "recurrence": form.recurrence.data,
        }
        try:
            created = request_service.create_checked(
                request_data,
                resident_data,
                policy.actor_for(current_user),
                Channel.PHONE,
                not_duplicate=bool(form.not_duplicate.data),
            )
        except request_service.LikelyDuplicate as exc:
            duplicates = exc.matches
            if form.duplicate_checked.data:
                form.not_duplicate.errors = ["Tick ‘This is not a duplicate’ to create a new request anyway"]
            form.duplicate_checked.data = "1"
        except FieldErrors as exc:
            unit_of_work.rollback()
            form.due_by.process_errors = []
            show_errors(form, exc, prefix="resident.")
        else:
            flash(f"Request {created.reference} created", "success")
            return redirect(url_for("coordinator.request_detail", reference=created.reference))
    status = 400 if form.errors else 200
    return render_template(
        "coordinator/new_request.html", form=form, duplicates=duplicates, title="Enter a request from a phone call"
    ), status


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
        unit_of_work.rollback()
        show_errors(form, exc)
        return _render_safeguarding(400, concern_id, form)
    except Conflict as exc:
        unit_of_work.rollback()
        form.outcome.errors = [exc.message]
        return _render_safeguarding(409, concern_id, form)
    flash("Concern closed", "success")
    return redirect(url_for("coordinator.safeguarding"))


@bp.get("/volunteers")
@roles(*STAFF)
def volunteers() -> Any:
    rows = volunteer_service.list_volunteers()
    return render_template("coordinator/volunteers.html", rows=rows, today=utcnow().date(), title="Volunteers")


@bp.route("/volunteers/new", methods=["GET", "POST"])
@roles(*STAFF)
def new_volunteer() -> Any:
    form = VolunteerForm()
    if form.is_submitted():
        try:
            volunteer = volunteer_service.create_volunteer(form.data_for_service())
        except FieldErrors as exc:
            unit_of_work.rollback()
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
            unit_of_work.rollback()
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
