"""Public pages for residents: ask for help, and check on a request. No account, no password."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, session, url_for
from flask import redirect as _redirect
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextInput
from wtforms import StringField, SubmitField

from can_crm.access import public
from can_crm.extensions import limiter
from can_crm.forms import show_errors
from can_crm.models.enums import Channel
from can_crm.resident.forms import RESIDENT_FIELDS, HelpRequestForm
from can_crm.services.common.errors import FieldErrors, ValidationError
from can_crm.services.common.validation import clean_postcode
from can_crm.services.requests import intake
from can_crm.services.requests import operations as request_service
from can_crm.services.requests.events import RESIDENT, Actor
from can_crm.services.requests.references import normalise_reference

bp = Blueprint("resident", __name__)


@bp.get("/request-help")
@public
def start() -> Any:
    return render_template("resident/start.html", title=_("Ask for help"))


@bp.route("/request-help/form", methods=["GET", "POST"])
@public
@limiter.limit("20 per hour", methods=["POST"])
def request_form() -> Any:
    form = HelpRequestForm()
    if not form.is_submitted():
        form.locale.data = str(get_locale() or "en")  # the page's language, unless they choose another
    if form.validate_on_submit():
        resident_data = {f: form[f].data for f in RESIDENT_FIELDS}
        resident_data["consent_given"] = bool(form.consent_given.data)
        try:
            created = intake.submit(form.request_data(), Actor(role=RESIDENT), Channel.WEB, resident_data=resident_data)
        except FieldErrors as exc:
            show_errors(form, exc, prefix="resident.")
        else:
            session["last_reference"] = created.reference
            return _redirect(url_for("resident.confirmation"))
    status = 400 if form.errors or any(f.errors for f in form) else 200
    return render_template("resident/form.html", form=form, title=_("Ask for help")), status


@bp.get("/request-help/confirmation")
@public
def confirmation() -> Any:
    reference = session.get("last_reference")
    if not reference:
        return _redirect(url_for("resident.start"))
    return render_template("resident/confirmation.html", reference=reference, title=_("Request received"))


class TrackForm(FlaskForm):
    reference = StringField(
        _l("Request reference"), description=_l("For example, CAN-7KQ2-94XD"), widget=GovTextInput()
    )
    postcode = StringField(_l("Your postcode"), widget=GovTextInput())
    submit = SubmitField(_l("Check progress"), widget=GovSubmitInput())


@bp.route("/track", methods=["GET", "POST"])
@public
@limiter.limit("30 per hour", methods=["POST"])
def track() -> Any:
    form = TrackForm()
    found = None
    if form.validate_on_submit():
        errors: dict[str, str] = {}
        reference = normalise_reference(form.reference.data or "")
        if not (form.reference.data or "").strip():
            errors["reference"] = _("Enter your request reference")
        elif reference is None:
            errors["reference"] = _("Enter a request reference in the correct format, like CAN-7KQ2-94XD")
        postcode = None
        try:
            postcode = clean_postcode(form.postcode.data)
        except ValidationError as exc:
            errors["postcode"] = exc.message  # show_errors puts it in the page's language
        if not errors and reference and postcode:
            found = request_service.track(reference, postcode)
            if found is None:
                errors["reference"] = _("We could not find a request with that reference and postcode. Check both")
        if errors:
            show_errors(form, FieldErrors(errors))
    status = 400 if any(f.errors for f in form) else 200
    return render_template("resident/track.html", form=form, found=found, title=_("Check on a request")), status
