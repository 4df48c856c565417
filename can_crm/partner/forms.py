"""Forms for partner organisations and councillors raising a request on a resident's behalf."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovFileInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import BooleanField, StringField, SubmitField, TextAreaField

from can_crm.forms import GovDateField, offers_by_field
from can_crm.resident.forms import HelpRequestForm
from can_crm.volunteer.forms import ProfileFields


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


class PersonForm(ProfileFields):
    """One of the organisation's people: the public sign-up's fields, worded for someone adding another person.

    No password (they choose it from their invitation) and no organisation (the partner's own)."""

    # Removes the field (WTForms: a subclass sets it to None): the partner's own organisation is used.
    organisation = None  # type: ignore[assignment]
    name = StringField("Full name", widget=GovTextInput())
    email = StringField(
        "Email address", description="We send them a link to set their password and sign in", widget=GovTextInput()
    )
    phone = StringField("Mobile phone number (optional)", widget=GovTextInput())
    home_postcode = StringField(
        "Home postcode", description="We use it to offer them help needed near them", widget=GovTextInput()
    )
    max_km = StringField("How far will they travel, in kilometres?", widget=GovTextInput())
    capacity = StringField("Most tasks they can take on at once", widget=GovTextInput())
    max_per_day = StringField(
        "Most tasks they can take on in a day (optional)",
        description="Leave it empty for no daily limit",
        widget=GovTextInput(),
    )
    offers_by = offers_by_field(
        "How should we tell them what we would like them to do?",
        "By text message they reply YES or NO: no smartphone needed, but a mobile number is",
    )
    submit = SubmitField("Add volunteer", widget=GovSubmitInput())

    def profile_data(self) -> dict[str, Any]:
        return {**super().profile_data(), "email": self.email.data}


class PeopleUploadForm(FlaskForm):
    file = FileField("Volunteers file (CSV, UTF-8)", widget=GovFileInput())
    submit = SubmitField("Upload and add volunteers", widget=GovSubmitInput())
