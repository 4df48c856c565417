"""Forms for partner organisations and councillors raising a request on a resident's behalf."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput, GovSubmitInput, GovTextArea
from wtforms import BooleanField, SubmitField, TextAreaField

from can_crm.forms import GovDateField
from can_crm.resident.forms import HelpRequestForm


class OnBehalfForm(HelpRequestForm):
    """The public form's fields, worded for someone asking on a resident's behalf."""

    due_by = GovDateField("When does the resident need help by? (optional)")
    consent_given = BooleanField(
        "The resident agreed that the council and its volunteers can use these details to arrange help",
        widget=GovCheckboxInput(),
    )
    submit = SubmitField("Send request", widget=GovSubmitInput())


class CancelForm(FlaskForm):
    reason = TextAreaField("Why should the request be cancelled?", widget=GovTextArea())
    submit = SubmitField("Cancel the request", widget=GovSubmitInput())
