"""The resident's request form. Field rules live in services.validation, shared with the API."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovCheckboxInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import BooleanField, RadioField, StringField, SubmitField, TextAreaField

from can_crm.forms import GovDateField, date_value
from can_crm.models.enums import (
    DELIVERY_WINDOW_LABELS,
    LOCALES,
    NAMED_DELIVERY_WINDOWS,
    REQUEST_TYPE_LABELS,
    DeliveryWindow,
    RequestType,
)
from can_crm.models.request import MAX_PARCELS
from can_crm.services.common.times import clock
from can_crm.services.requests import delivery


class ResidentFields(FlaskForm):
    name = StringField(_l("Full name"), widget=GovTextInput())
    address_line1 = StringField(_l("Address line 1"), widget=GovTextInput())
    address_line2 = StringField(_l("Address line 2 (optional)"), widget=GovTextInput())
    town = StringField(_l("Town or city (optional)"), widget=GovTextInput())
    postcode = StringField(_l("Postcode"), widget=GovTextInput())
    phone = StringField(
        _l("Phone number"), description=_l("For example, 07911 123 456 or 020 8753 1000"), widget=GovTextInput()
    )
    email = StringField(_l("Email address (optional)"), widget=GovTextInput())
    preferred_channel = RadioField(
        _l("How should we contact you?"),
        choices=[
            ("phone", _l("Phone call")),
            ("sms", _l("Text message")),
            ("email", _l("Email")),
            ("letter", _l("Letter")),
        ],
        default="phone",
        validate_choice=False,
        widget=GovRadioInput(),
    )
    language = StringField(_l("Which language do you prefer? (optional)"), widget=GovTextInput())
    locale = RadioField(
        _l("Which language should we write to you in?"),
        choices=list(LOCALES.items()),
        default="en",
        validate_choice=False,
        widget=GovRadioInput(),
    )
    accessibility_needs = TextAreaField(
        _l("Do you have any accessibility needs? (optional)"),
        description=_l("For example, you use a wheelchair, are deaf or need large print"),
        widget=GovCharacterCount(),
    )
    shielding = RadioField(
        _l("Has the NHS told you that you are clinically extremely vulnerable or shielding?"),
        choices=[("yes", _l("Yes")), ("no", _l("No"))],
        validate_choice=False,
        widget=GovRadioInput(),
    )


# The resident's fields on the public form (and the partner form built on it), as the intake service names them.
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
    "locale",
    "accessibility_needs",
    "shielding",
)


class HelpRequestForm(ResidentFields):
    type = RadioField(
        _l("What do you need help with?"),
        choices=[(k.value, _l(v)) for k, v in REQUEST_TYPE_LABELS.items()],
        validate_choice=False,
        widget=GovRadioInput(),
    )
    details = TextAreaField(
        _l("Tell us what you need"),
        description=_l("For example, a weekly shop for 2 people, or collecting a prescription from a named pharmacy"),
        widget=GovCharacterCount(),
    )
    due_by = GovDateField(_l("When do you need help by? (optional)"))
    # Read only for a food parcel: shown to everyone (no JavaScript needed), and a blank answer is 1 parcel at any time.
    parcels = StringField(
        _l("How many food parcels? (optional)"),
        description=_l("Most households need 1. Up to %(most)s", most=MAX_PARCELS),
        widget=GovTextInput(),
    )
    delivery_window = RadioField(
        _l("When can you take a delivery? (optional)"), choices=[], validate_choice=False, widget=GovRadioInput()
    )
    volunteer_notes = TextAreaField(
        _l("Is there anything the volunteer should know? (optional)"),
        description=_l("For example, ring the bell twice, or there is a dog"),
        widget=GovCharacterCount(),
    )
    consent_given = BooleanField(
        _l("I agree that the council and its volunteers can use these details to arrange help for me"),
        widget=GovCheckboxInput(),
    )
    submit = SubmitField(_l("Send request"), widget=GovSubmitInput())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        hours = delivery.named_windows()
        self.delivery_window.choices = [(DeliveryWindow.ANY.value, _(DELIVERY_WINDOW_LABELS[DeliveryWindow.ANY]))] + [
            (
                w.value,
                _(
                    "%(window)s, %(start)s to %(end)s",
                    window=_(DELIVERY_WINDOW_LABELS[w]),
                    start=clock(hours[w.value][0]),
                    end=clock(hours[w.value][1]),
                ),
            )
            for w in NAMED_DELIVERY_WINDOWS
            if w.value in hours
        ]

    def request_data(self) -> dict[str, Any]:
        """The request's fields for intake; a food parcel's parcels and delivery window, only for a food parcel."""
        data: dict[str, Any] = {
            "type": self.type.data,
            "details": self.details.data,
            "due_by": date_value(self.due_by),
            "volunteer_notes": self.volunteer_notes.data,
        }
        if self.type.data == RequestType.FOOD_PARCEL.value:
            data.update(parcels=self.parcels.data, delivery_window=self.delivery_window.data)
        return data
