"""Forms for partner organisations and councillors raising a request on a resident's behalf."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput, GovSubmitInput, GovTextArea
from wtforms import BooleanField, DateField, SubmitField, TextAreaField

from can_crm.coordinator.forms import SafeDateInput
from can_crm.resident.forms import HelpRequestForm


class OnBehalfForm(HelpRequestForm):
    """The public form's fields, worded for someone asking on a resident's behalf."""

    due_by = DateField(  # type: ignore[assignment]  # the same field, with the widget partners' browsers need
        "When does the resident need help by? (optional)",
        description="For example, 27 3 2027",
        format="%d %m %Y",
        widget=SafeDateInput(),
    )
    consent_given = BooleanField(
        "The resident agreed that the council and its volunteers can use these details to arrange help",
        widget=GovCheckboxInput(),
    )
    submit = SubmitField("Send request", widget=GovSubmitInput())


class CancelForm(FlaskForm):
    reason = TextAreaField("Why should the request be cancelled?", widget=GovTextArea())
    submit = SubmitField("Cancel the request", widget=GovSubmitInput())
