"""The request queue and a request's page: triage, status changes, assigning a volunteer."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from can_crm.access import STAFF, roles
from can_crm.coordinator.blueprint import bp
from can_crm.coordinator.forms import (
    STATUS_LABELS,
    AssignForm,
    ChangeStatusForm,
    ConcernForm,
    HandoffForm,
    LocationForm,
    QueueFilterForm,
    TriageForm,
)
from can_crm.forms import date_value, show_errors
from can_crm.models.base import utcnow
from can_crm.models.enums import Status
from can_crm.page_cache import shared_page
from can_crm.page_links import pagination, positive_int
from can_crm.services.common import ids, policy
from can_crm.services.common.errors import FieldErrors, NotFound, TransitionRefused, ValidationError
from can_crm.services.federation import partners as partner_service
from can_crm.services.federation import sending as handoff_service
from can_crm.services.privacy import reads, searches
from can_crm.services.requests import delivery, lifecycle
from can_crm.services.requests import operations as request_service
from can_crm.services.requests import worklist as queue_service

MAX_PER_PAGE = 100


SEARCH_SCOPE = "queue"
# Filters that say nothing about a person may stay in the URL (bookmarkable); the search box may not.
URL_FILTERS = ("status", "type", "urgency", "ward", "overdue", "per_page")


@bp.post("/")
@roles(*STAFF)
def queue_search() -> Any:
    """The filter form posts here: search terms are saved server-side and the queue URL gets their key."""
    kept: dict[str, Any] = {k: v for k in URL_FILTERS if (v := request.form.get(k))}
    terms = (request.form.get("q") or "").strip()
    if terms:
        kept["search"] = searches.save(current_user.id, SEARCH_SCOPE, {"q": terms[:200]})
    return redirect(url_for("coordinator.queue", **kept))


@bp.get("/")
@roles(*STAFF)
@shared_page(queue_service.queue_data_version)
def queue() -> Any:
    if "q" in request.args:
        # A name or postcode in a URL is in every access log line: search with the form (it posts).
        abort(400, "Search with the form on the queue page: search terms are not accepted in the address")
    search_key = request.args.get("search")
    saved = searches.load(current_user.id, SEARCH_SCOPE, search_key) if search_key else None
    args = {**request.args.to_dict(), **(saved or {})}
    args.pop("search", None)
    form = QueueFilterForm(formdata=MultiDict(args) if args else None, status="open")
    page_no = positive_int(request.args.get("page"), 1)
    per_page = positive_int(request.args.get("per_page"), current_app.config["QUEUE_PAGE_SIZE"], MAX_PER_PAGE)
    page = None
    try:
        filters = queue_service.clean_filters({**args, "status": form.status.data or "all"})
    except FieldErrors as exc:
        show_errors(form, exc)
    else:
        page = queue_service.queue_rows(current_user, filters, page_no, per_page)
        if filters.search:
            reads.record_search(current_user, "queue", page.total)
    if search_key and saved is None:
        form.q.errors = ["That search has expired: search again"]
    kept: dict[str, Any] = {k: v for k, v in request.args.items() if k not in ("page", "submit") and v}
    links = pagination(page, lambda n: url_for("coordinator.queue", **kept, page=n)) if page else None
    status = 400 if form.errors else 200
    return render_template(
        "coordinator/queue.html", form=form, page=page, pagination=links, now=utcnow(), title="Request queue"
    ), status


# The request page's forms a refused post may come from: what each does, and the heading the error summary links to
# when the form no longer applies (a heading the page always shows: the form's own fields are not on it then).
FORM_ACTIONS = {
    "triage": ("triaged", "#next-step"),
    "assign": ("assigned a volunteer", "#next-step"),
    "transition": ("moved to another status", "#next-step"),
    "handoff": ("handed off", "#handoff"),
}


def _moved_on(req: Any, posted: str) -> tuple[str, str]:
    """The error summary's message and link when the `posted` form no longer applies to the request."""
    action, href = FORM_ACTIONS[posted]
    if posted == "assign" and req.status == Status.TRIAGED.value:
        return "No volunteer is available to assign today, so nothing was saved", "#assign"
    actor = policy.actor_for(current_user)
    if posted == "handoff" and lifecycle.may_move(req, Status.HANDED_OFF, actor, via=lifecycle.HANDOFF):
        return "No partner authority is registered to hand requests off to, so nothing was saved", href
    state = STATUS_LABELS.get(req.status, req.status).lower()
    return f"This request is now {state}, so it cannot be {action}: nothing was saved", href


def render_request(reference: str, status: int = 200, posted: str | None = None, **forms: Any) -> Any:
    """The request page. `posted` names the form a refused post came from (a key of FORM_ACTIONS): when that form
    still applies to the request it is shown again with its messages and what was entered; when the request has
    moved on since the page was loaded (another coordinator triaged, matched or closed it), the form is not on the
    page any more, so the answer is a 409 whose error summary says what happened instead."""
    view = request_service.request_page(current_user, reference)
    req = view.request
    handoff_form, can_hand_off = _handoff_form(view, forms.get("handoff_form"))
    status_form = forms.get("status_form") or ChangeStatusForm(formdata=None)
    # "Matched" needs a volunteer: that is the assign form's job, not a bare status change.
    # "Handed off" goes through the handoff section (a partner, an agreement, a signed bundle).
    status_form.offer([t.value for t in view.targets if t.value not in ("matched", "handed_off")], view.reason_required)
    shown = {
        "triage": req.status in request_service.TRIAGEABLE,
        "assign": req.status == Status.TRIAGED.value and bool(view.candidates),
        "transition": bool(status_form.to.choices),
        "handoff": can_hand_off,
    }
    transition_error, error_href = forms.get("transition_error"), "#next-step"
    if posted is not None and not shown[posted]:
        # Only the posted form is in `forms`, and it is not on the page: drop it and its messages.
        transition_error, error_href = _moved_on(req, posted)
        status, forms = 409, {}
    triage_form = forms.get("triage_form") or TriageForm(
        formdata=None,
        data={
            "urgency": str(req.urgency),
            "required_skills": list(req.required_skills or []),
            "min_dbs": req.min_dbs,
            "due_by": req.due_by,
            "coordinator_notes": req.coordinator_notes,
            **delivery.form_values(req),
        },
    )
    triage_form.delivery_window.choices = delivery.window_choices()
    assign_form = forms.get("assign_form") or AssignForm(formdata=None)
    assign_form.volunteer_id.choices = [("", "Choose a volunteer")] + [
        (
            str(c.id),
            f"{c.name}{f' – {c.km} km' if c.km is not None else ''} – up to {c.max_km:g} km"
            + (f" – speaks {req.resident.language}" if c.speaks_language else "")
            + (f" – at their limit ({c.at_limit})" if c.at_limit else "")
            + (" – offered by text message" if c.by_text else ""),
        )
        for c in view.candidates
    ]
    return render_template(
        "coordinator/request.html",
        view=view,
        handoffs=handoff_service.handoffs_of(req.id),
        handoff_form=handoff_form,
        can_hand_off=can_hand_off,
        shown=shown,
        req=req,
        form=forms.get("error_form"),
        triage_form=triage_form,
        can_take=delivery.describe,
        assign_form=assign_form,
        status_form=status_form,
        concern_form=forms.get("concern_form") or ConcernForm(formdata=None),
        location_form=forms.get("location_form") or LocationForm(formdata=None),
        transition_error=transition_error,
        error_href=error_href,
        page_error=bool(transition_error),
        now=utcnow(),
        title=f"Request {req.reference}",
    ), status


def _handoff_form(view: request_service.RequestPage, posted: HandoffForm | None) -> tuple[HandoffForm, bool]:
    """The "hand off to ..." choice: registered partners, the one the out-of-area flag names chosen first."""
    req = view.request
    actor = policy.actor_for(current_user)
    if not lifecycle.may_move(req, Status.HANDED_OFF, actor, via=lifecycle.HANDOFF):
        return posted or HandoffForm(formdata=None), False
    targets = partner_service.handoff_targets()
    proposed = view.out_of_area.responsible.gss_code if view.out_of_area and view.out_of_area.responsible else None
    form = posted or HandoffForm(formdata=None, to=proposed if any(p.gss_code == proposed for p in targets) else None)
    form.to.choices = [
        (p.gss_code, f"{p.name} ({p.gss_code})" + ("" if p.base_url else ": by file"))
        for p in sorted(targets, key=lambda p: (p.gss_code != proposed, p.name))
    ]
    return form, bool(targets)


@bp.get("/requests/<reference>")
@roles(*STAFF)
def request_detail(reference: str) -> Any:
    return render_request(reference)


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
        "parcels": form.parcels.data,
        "delivery_window": form.delivery_window.data,
    }
    if form.delivery_window.data == "between":  # the times are on the form whatever is chosen: read them then only
        data.update(delivery_from=form.delivery_from.data, delivery_to=form.delivery_to.data)
    try:
        req = policy.require_request(current_user, reference)
        request_service.triage(req, data, policy.actor_for(current_user))
    except TransitionRefused as exc:
        return render_request(reference, 409, transition_error=exc.message)
    except ValidationError as exc:
        errors = exc.fields if isinstance(exc, FieldErrors) else {exc.field or "urgency": exc.message}
        show_errors(form, FieldErrors(errors))
        return render_request(reference, 400, "triage", triage_form=form, error_form=form)
    flash("Triage saved", "success")
    return redirect(url_for("coordinator.request_detail", reference=reference))


@bp.post("/requests/<reference>/transition")
@roles(*STAFF)
def transition(reference: str) -> Any:
    form = ChangeStatusForm()
    try:
        if not form.to.data:
            raise FieldErrors({"to": "Select the new status"})
        req = request_service.move(current_user, reference, form.to.data, form.reason.data)
    except TransitionRefused as exc:
        show_errors(form, FieldErrors({"reason" if exc.field == "reason" else "to": exc.message}))
        return render_request(reference, 409, "transition", status_form=form, error_form=form)
    except ValidationError as exc:  # the reason itself is refused (HTML, too long, control characters)
        errors = exc.fields if isinstance(exc, FieldErrors) else {exc.field or "reason": exc.message}
        show_errors(form, FieldErrors(errors))
        return render_request(reference, 400, "transition", status_form=form, error_form=form)
    flash(f"Request moved to {req.status.replace('_', ' ')}", "success")
    return redirect(url_for("coordinator.request_detail", reference=reference))


@bp.post("/requests/<reference>/assign")
@roles(*STAFF)
def assign(reference: str) -> Any:
    form = AssignForm()
    try:
        volunteer_id = ids.parse_id(
            form.volunteer_id.data, "volunteer_id", "Choose a volunteer", unknown="No volunteer with that id"
        )
        req = policy.require_request(current_user, reference)
        request_service.assign_volunteer(req, volunteer_id, policy.actor_for(current_user))
    except FieldErrors as exc:
        show_errors(form, exc)
        return render_request(reference, 400, "assign", assign_form=form, error_form=form)
    except NotFound as exc:
        if exc.field != "volunteer_id":
            raise
        show_errors(form, FieldErrors({"volunteer_id": exc.message}))
        return render_request(reference, 400, "assign", assign_form=form, error_form=form)
    except ValidationError as exc:
        show_errors(form, FieldErrors({"volunteer_id": exc.message}))
        return render_request(reference, 400, "assign", assign_form=form, error_form=form)
    except TransitionRefused as exc:
        return render_request(reference, 409, transition_error=exc.message)
    flash("Volunteer assigned: the request is matched", "success")
    return redirect(url_for("coordinator.request_detail", reference=reference))
