"""Setting the location of a resident whose postcode the directory does not list yet."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, url_for
from flask_login import current_user

from can_crm.access import STAFF, roles
from can_crm.coordinator.blueprint import bp
from can_crm.coordinator.forms import LocationForm
from can_crm.coordinator.requests import render_request
from can_crm.forms import show_errors
from can_crm.services.common.errors import FieldErrors
from can_crm.services.requests import locations


@bp.post("/requests/<reference>/location")
@roles(*STAFF)
def set_location(reference: str) -> Any:
    form = LocationForm()
    try:
        locations.set_location(current_user, reference, form.data_for_service())
    except FieldErrors as exc:
        show_errors(form, exc)
        return render_request(reference, 400, location_form=form, error_form=form)
    flash("Location set: the request can now be matched", "success")
    return redirect(url_for("coordinator.request_detail", reference=reference))
