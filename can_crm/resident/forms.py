"""The resident's request form. Field rules live in services.validation, shared with the API."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovCheckboxInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import BooleanField, RadioField, StringField, SubmitField, TextAreaField

from can_crm.forms import GovDateField
from can_crm.models.enums import REQUEST_TYPE_LABELS


class ResidentFields(FlaskForm):
    name = StringField("Full name", widget=GovTextInput())
    address_line1 = StringField("Address line 1", widget=GovTextInput())
    address_line2 = StringField("Address line 2 (optional)", widget=GovTextInput())
    town = StringField("Town or city (optional)", widget=GovTextInput())
    postcode = StringField("Postcode", widget=GovTextInput())
    phone = StringField(
        "Phone number", description="For example, 07911 123 456 or 020 8753 1000", widget=GovTextInput()
    )
    email = StringField("Email address (optional)", widget=GovTextInput())
    preferred_channel = RadioField(
        "How should we contact you?",
        choices=[("phone", "Phone call"), ("sms", "Text message"), ("email", "Email"), ("letter", "Letter")],
        default="phone",
        validate_choice=False,
        widget=GovRadioInput(),
    )
    language = StringField("Which language do you prefer? (optional)", widget=GovTextInput())
    accessibility_needs = TextAreaField(
        "Do you have any accessibility needs? (optional)",
        description="For example, you use a wheelchair, are deaf or need large print",
        widget=GovCharacterCount(),
    )
    shielding = RadioField(
        "Has the NHS told you that you are clinically extremely vulnerable or shielding?",
        choices=[("yes", "Yes"), ("no", "No")],
        validate_choice=False,
        widget=GovRadioInput(),
    )


class HelpRequestForm(ResidentFields):
    type = RadioField(
        "What do you need help with?",
        choices=[(k.value, v) for k, v in REQUEST_TYPE_LABELS.items()],
        validate_choice=False,
        widget=GovRadioInput(),
    )
    details = TextAreaField(
        "Tell us what you need",
        description="For example, a weekly shop for 2 people, or collecting a prescription from a named pharmacy",
        widget=GovCharacterCount(),
    )
    due_by = GovDateField("When do you need help by? (optional)")
    volunteer_notes = TextAreaField(
        "Is there anything the volunteer should know? (optional)",
        description="For example, ring the bell twice, or there is a dog",
        widget=GovCharacterCount(),
    )
    consent_given = BooleanField(
        "I agree that the council and its volunteers can use these details to arrange help for me",
        widget=GovCheckboxInput(),
    )
    submit = SubmitField("Send request", widget=GovSubmitInput())
