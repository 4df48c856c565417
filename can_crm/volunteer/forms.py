"""Volunteer forms. No validators: the services own the rules and their messages."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovPasswordInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import HiddenField, PasswordField, RadioField, SelectMultipleField, StringField, SubmitField, TextAreaField

from can_crm.forms import GovDateField, date_value, offers_by_field
from can_crm.models.enums import SKILLS, TRANSPORT_LABELS
from can_crm.services.volunteers.profiles import DAYS, SLOTS

DAY_NAMES = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}


def _checkboxes(label: str, choices: list[tuple[str, str]]) -> SelectMultipleField:
    return SelectMultipleField(label, choices=choices, validate_choice=False, widget=GovCheckboxesInput())


class ProfileFields(FlaskForm):
    """A volunteer's profile fields, shared by the sign-up, their own profile and partners adding their people."""

    name = StringField("Full name", widget=GovTextInput())
    phone = StringField("Mobile phone number", widget=GovTextInput())
    home_postcode = StringField(
        "Home postcode", description="We use it to offer you help needed near you", widget=GovTextInput()
    )
    max_km = StringField("How far will you travel, in kilometres?", widget=GovTextInput())
    transport = RadioField(
        "How do you travel?",
        choices=[(k.value, v) for k, v in TRANSPORT_LABELS.items()],
        validate_choice=False,
        widget=GovRadioInput(),
    )
    capacity = StringField("Most tasks you can take on at once", widget=GovTextInput())
    max_per_day = StringField(
        "Most tasks you can take on in a day (optional)",
        description="Leave it empty if you do not want a daily limit",
        widget=GovTextInput(),
    )
    offers_by = offers_by_field(
        "How should we tell you what we would like you to do?",
        "By text message you reply YES to take something on or NO to say no: no smartphone needed",
    )
    skills = _checkboxes("What can you help with? Select all that apply", list(SKILLS.items()))
    avail_mon = _checkboxes("Monday", [(s, s.title()) for s in SLOTS])
    avail_tue = _checkboxes("Tuesday", [(s, s.title()) for s in SLOTS])
    avail_wed = _checkboxes("Wednesday", [(s, s.title()) for s in SLOTS])
    avail_thu = _checkboxes("Thursday", [(s, s.title()) for s in SLOTS])
    avail_fri = _checkboxes("Friday", [(s, s.title()) for s in SLOTS])
    avail_sat = _checkboxes("Saturday", [(s, s.title()) for s in SLOTS])
    avail_sun = _checkboxes("Sunday", [(s, s.title()) for s in SLOTS])
    organisation = StringField("Organisation you volunteer with (optional)", widget=GovTextInput())

    def availability(self) -> dict[str, list[str]]:
        return {day: list(self[f"avail_{day}"].data or []) for day in DAYS if self[f"avail_{day}"].data}

    def profile_data(self) -> dict[str, Any]:
        return {
            "name": self.name.data,
            "phone": self.phone.data,
            "home_postcode": self.home_postcode.data,
            "max_km": self.max_km.data,
            "transport": self.transport.data,
            "capacity": self.capacity.data,
            "max_per_day": self.max_per_day.data,
            "offers_by": self.offers_by.data,
            "skills": list(self.skills.data or []),
            "availability": self.availability(),
            "organisation": self.organisation.data if self.organisation is not None else None,
        }


class SignUpForm(ProfileFields):
    email = StringField("Email address", description="You will sign in with this", widget=GovTextInput())
    password = PasswordField("Create a password", description="12 characters or more", widget=GovPasswordInput())
    submit = SubmitField("Sign up to volunteer", widget=GovSubmitInput())


class ProfileForm(ProfileFields):
    paused_until = GovDateField("Not available until (optional)")
    submit = SubmitField("Save my details", widget=GovSubmitInput())

    def profile_data(self) -> dict[str, Any]:
        return {**super().profile_data(), "paused_until": date_value(self.paused_until)}


class HoursForm(FlaskForm):
    worked_on = GovDateField("Day", description="For example, 27 3 2026")
    minutes = StringField("Minutes", widget=GovTextInput())
    submit = SubmitField("Log hours", widget=GovSubmitInput())


class ProgressForm(FlaskForm):
    """A task's progress form: the button pressed is the step; the key is made when the page is drawn."""

    idempotency_key = HiddenField()
    step = HiddenField()
    reason = HiddenField()
    # Which page to return to without JavaScript: "round" for a stop of a delivery round, else My tasks.
    back_to = HiddenField()


class DeclineForm(FlaskForm):
    reason = TextAreaField("Why are you declining? (optional)", widget=GovTextArea())
    submit = SubmitField("Decline", widget=GovSubmitInput())
