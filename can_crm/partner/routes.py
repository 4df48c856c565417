"""Partner organisations and councillors: raise requests on a resident's behalf and follow them.

They see the status and history of the requests they may see (policy.restrict_requests), the
resident's name and postcode only, and never safeguarding details.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from can_crm.access import roles
from can_crm.coordinator.forms import ConcernForm
from can_crm.forms import show_errors
from can_crm.models.enums import Channel, Role
from can_crm.page_links import pagination, positive_int
from can_crm.partner.forms import CancelForm, OnBehalfForm
from can_crm.resident.forms import RESIDENT_FIELDS
from can_crm.services.common import policy
from can_crm.services.common.errors import FieldErrors, TransitionRefused
from can_crm.services.requests import intake
from can_crm.services.requests import operations as request_service
from can_crm.services.requests import worklist as queue_service

bp = Blueprint("partner", __name__, url_prefix="/partner")

RAISERS = (Role.PARTNER, Role.COUNCILLOR)


@bp.get("/")
@roles(*RAISERS)
def my_requests() -> Any:
    page_no = positive_int(request.args.get("page"), 1)
    filters = queue_service.clean_filters({"status": "all"})
    page = queue_service.queue(current_user, filters, page_no, current_app.config["QUEUE_PAGE_SIZE"])
    links = pagination(page, lambda n: url_for("partner.my_requests", page=n))
    return render_template("partner/list.html", page=page, pagination=links, title="Requests you follow")


@bp.route("/requests/new", methods=["GET", "POST"])
@roles(*RAISERS)
def new_request() -> Any:
    form = OnBehalfForm()
    if form.is_submitted():
        resident_data = {f: form[f].data for f in RESIDENT_FIELDS}
        resident_data["consent_given"] = bool(form.consent_given.data)
        request_data = form.request_data()
        channel = Channel.COUNCILLOR if current_user.role == Role.COUNCILLOR.value else Channel.PARTNER
        try:
            # No duplicate warning here: it would show a partner requests they may not see.
            created = intake.submit(request_data, policy.actor_for(current_user), channel, resident_data=resident_data)
        except FieldErrors as exc:
            form.due_by.process_errors = []
            show_errors(form, exc, prefix="resident.")
        else:
            flash(f"Request {created.reference} sent", "success")
            return redirect(url_for("partner.request_detail", reference=created.reference))
    return render_template("partner/new_request.html", form=form, title="Raise a request for a resident"), (
        400 if form.errors else 200
    )


def _render(reference: str, status: int = 200, **extra: Any) -> Any:
    view = request_service.request_page(current_user, reference)
    return render_template(
        "partner/request.html",
        view=view,
        req=view.request,
        cancel_form=extra.get("cancel_form") or CancelForm(formdata=None),
        concern_form=extra.get("concern_form") or ConcernForm(formdata=None),
        form=extra.get("cancel_form"),
        refused=extra.get("refused"),
        title=f"Request {view.request.reference}",
    ), status


@bp.get("/requests/<reference>")
@roles(*RAISERS)
def request_detail(reference: str) -> Any:
    return _render(reference)


@bp.post("/requests/<reference>/cancel")
@roles(*RAISERS)
def cancel(reference: str) -> Any:
    form = CancelForm()
    try:
        request_service.move(current_user, reference, "cancelled", form.reason.data)
    except TransitionRefused as exc:
        if exc.field == "reason":
            form.reason.errors = ["Enter why the request should be cancelled"]
            return _render(reference, 409, cancel_form=form)
        return _render(reference, 409, refused=exc.message)
    flash("Request cancelled", "success")
    return redirect(url_for("partner.request_detail", reference=reference))
