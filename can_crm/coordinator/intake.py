"""Requests entered by staff from a phone call (assisted digital)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from can_crm.access import STAFF, roles
from can_crm.coordinator.blueprint import bp
from can_crm.coordinator.forms import (
    AssistedRequestForm,
)
from can_crm.forms import show_errors
from can_crm.models.enums import Channel
from can_crm.resident.forms import RESIDENT_FIELDS as PUBLIC_RESIDENT_FIELDS
from can_crm.services.common import policy
from can_crm.services.common.errors import FieldErrors
from can_crm.services.requests import intake

# Staff also record what a resident tells them on the phone about their health, and the lawful basis.
RESIDENT_FIELDS = PUBLIC_RESIDENT_FIELDS + ("nhs_number", "vulnerabilities", "lawful_basis")


@bp.route("/requests/new", methods=["GET", "POST"])
@roles(*STAFF)
def new_request() -> Any:
    form = AssistedRequestForm()
    duplicates: list[Any] = []
    if form.is_submitted():
        resident_data = {f: form[f].data for f in RESIDENT_FIELDS}
        resident_data["consent_given"] = bool(form.consent_given.data)
        request_data = {
            **form.request_data(),
            "urgency": form.urgency.data,
            "recurrence": form.recurrence.data,
        }
        try:
            created = intake.submit(
                request_data,
                policy.actor_for(current_user),
                Channel.PHONE,
                resident_data=resident_data,
                warn_duplicates=not form.not_duplicate.data,
            )
        except intake.LikelyDuplicate as exc:
            duplicates = exc.matches
            if form.duplicate_checked.data:
                form.not_duplicate.errors = ["Tick ‘This is not a duplicate’ to create a new request anyway"]
            form.duplicate_checked.data = "1"
        except FieldErrors as exc:
            form.due_by.process_errors = []
            show_errors(form, exc, prefix="resident.")
        else:
            flash(f"Request {created.reference} created", "success")
            return redirect(url_for("coordinator.request_detail", reference=created.reference))
    status = 400 if form.errors else 200
    return render_template(
        "coordinator/new_request.html", form=form, duplicates=duplicates, title="Enter a request from a phone call"
    ), status
