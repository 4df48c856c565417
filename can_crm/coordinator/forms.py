"""Coordinator forms. No validators: the services own the rules and their messages."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovCheckboxesInput,
    GovCheckboxInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)

from can_crm.forms import GovDateField, date_value, offers_by_field
from can_crm.models.enums import (
    REQUEST_TYPE_LABELS,
    SKILLS,
    URGENCY_LABELS,
    DbsLevel,
)
from can_crm.models.request import MAX_PARCELS
from can_crm.resident.forms import HelpRequestForm
from can_crm.services.volunteers.profiles import DAYS, SLOTS

STATUS_LABELS = {
    "new": "New",
    "triaged": "Triaged",
    "matched": "Matched",
    "accepted": "Accepted",
    "in_progress": "In progress",
    "delivered": "Delivered",
    "confirmed": "Confirmed",
    "closed": "Closed",
    "cancelled": "Cancelled",
    "unable_to_fulfil": "Unable to fulfil",
    "handed_off": "Handed off",
    "escalated": "Escalated",
}
DBS_LABELS = {"none": "None", "basic": "Basic", "standard": "Standard", "enhanced": "Enhanced"}
DAY_LABELS = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}
LAWFUL_BASIS_LABELS = [
    ("public_task", "Public task (the council's duty to support residents)"),
    ("consent", "Consent (the resident agreed on the phone)"),
    ("vital_interests", "Vital interests (to protect someone's life)"),
    ("legal_obligation", "Legal obligation"),
]
RECURRENCE_LABELS = [
    ("none", "Once only"),
    ("daily", "Every day"),
    ("weekly", "Every week"),
    ("fortnightly", "Every 2 weeks"),
]


def checkbox_field(label: str, choices: list[tuple[str, str]], **kwargs: Any) -> SelectMultipleField:
    return SelectMultipleField(label, choices=choices, validate_choice=False, widget=GovCheckboxesInput(), **kwargs)


class QueueFilterForm(FlaskForm):
    class Meta:
        csrf = False

    status = SelectField(
        "Status",
        choices=[("open", "Open (not finished)"), ("all", "Any status"), *STATUS_LABELS.items()],
        validate_choice=False,
        widget=GovSelect(),
    )
    type = SelectField(
        "Type",
        choices=[("", "Any type"), *[(k.value, v) for k, v in REQUEST_TYPE_LABELS.items()]],
        validate_choice=False,
        widget=GovSelect(),
    )
    urgency = SelectField(
        "Urgency",
        choices=[("", "Any urgency"), *[(str(k), v) for k, v in URGENCY_LABELS.items()]],
        validate_choice=False,
        widget=GovSelect(),
    )
    ward = StringField("Ward code", widget=GovTextInput())
    overdue = BooleanField(
        "Only overdue requests", false_values=("", "false", "0", "no", "n"), widget=GovCheckboxInput()
    )
    location_unknown = BooleanField(
        "Only requests whose location is unknown",
        false_values=("", "false", "0", "no", "n"),
        widget=GovCheckboxInput(),
    )
    q = StringField("Reference, name or postcode", widget=GovTextInput())
    submit = SubmitField("Apply filters", widget=GovSubmitInput())


class VolunteerFilterForm(FlaskForm):
    """The volunteers list's filter (a GET form: nothing in it is personal)."""

    class Meta:
        csrf = False

    status = SelectField(
        "Status",
        choices=[
            ("", "Any status"),
            ("pending", "Waiting for vetting"),
            ("active", "Vetted"),
            ("rejected", "Rejected"),
            ("left", "Left"),
        ],
        validate_choice=False,
        widget=GovSelect(),
    )
    submit = SubmitField("Show volunteers", widget=GovSubmitInput())


class TriageForm(FlaskForm):
    urgency = RadioField(
        "Urgency",
        choices=[(str(k), v) for k, v in URGENCY_LABELS.items()],
        validate_choice=False,
        widget=GovRadioInput(),
    )
    required_skills = checkbox_field("Skills the volunteer needs", list(SKILLS.items()))
    min_dbs = RadioField(
        "Minimum DBS check",
        choices=[(d.value, DBS_LABELS[d.value]) for d in DbsLevel],
        validate_choice=False,
        widget=GovRadioInput(),
    )
    due_by = GovDateField("Help needed by (optional)")
    # Food parcels only (the template shows them for a food-parcel request). No JavaScript needed: the two
    # times are always shown and only read when "Between two times" is chosen.
    parcels = StringField("How many parcels", description=f"1 to {MAX_PARCELS}", widget=GovTextInput())
    delivery_window = RadioField(
        "When can the resident take a delivery?", choices=[], validate_choice=False, widget=GovRadioInput()
    )
    delivery_from = StringField("From", description="Only for between two times, like 14:00", widget=GovTextInput())
    delivery_to = StringField("To", description="Only for between two times, like 16:30", widget=GovTextInput())
    coordinator_notes = TextAreaField(
        "Coordinator notes (optional)", description="Only coordinators see these", widget=GovCharacterCount()
    )
    submit = SubmitField("Save triage", widget=GovSubmitInput())


# What each next state means, for the one "change status" form: (label, hint).
STATUS_ACTIONS = {
    "new": ("New", "Back to the start"),
    "triaged": ("Return to triage", "Ready to be matched again"),
    "matched": ("Matched", "A volunteer has been chosen"),
    "accepted": ("Accepted", "The volunteer said yes"),
    "in_progress": ("In progress", "The volunteer is helping now"),
    "delivered": ("Delivered", "The volunteer says the help arrived"),
    "confirmed": ("Confirmed", "The resident says the help arrived"),
    "closed": ("Closed", "Nothing more to do"),
    "cancelled": ("Cancelled", "The resident no longer needs help"),
    "unable_to_fulfil": ("Unable to fulfil", "We cannot help with this request"),
    "handed_off": ("Handed off", "Another authority or service is taking it on"),
    "escalated": ("Escalated", "It needs a senior coordinator"),
}


class ChangeStatusForm(FlaskForm):
    """One form for every status change: the allowed next states as radios, one reason, one button."""

    to = RadioField("New status", choices=[], validate_choice=False, widget=GovRadioInput())
    reason = TextAreaField(
        "Reason", description="Needed when you cancel, cannot fulfil, hand off or escalate", widget=GovCharacterCount()
    )
    submit = SubmitField("Change status", widget=GovSubmitInput())

    def offer(self, targets: list[str], reason_required: dict[str, bool]) -> None:
        """Offer exactly the states the request may move to now (the state machine decides which)."""
        self.to.choices = [
            (t, STATUS_ACTIONS.get(t, (t, ""))[0] + (" (give a reason)" if reason_required.get(t) else ""))
            for t in targets
        ]

    def radio_params(self) -> dict[str, Any]:
        """The GOV.UK radios' legend and each state's hint (merged item by item into the widget's items)."""
        return {
            "fieldset": {"legend": {"text": "Change the status to", "classes": "govuk-fieldset__legend--s"}},
            "hint": None,
            "items": [
                {"hint": {"text": STATUS_ACTIONS.get(str(choice[0]), ("", ""))[1]}} for choice in self.to.choices or []
            ],
        }


class AssignForm(FlaskForm):
    volunteer_id = SelectField("Volunteer", choices=[], validate_choice=False, widget=GovSelect())
    submit = SubmitField("Assign volunteer", widget=GovSubmitInput())


class ConcernForm(FlaskForm):
    details = TextAreaField(
        "What are you worried about?",
        description="Only coordinators will see this. If someone is in immediate danger, call 999.",
        widget=GovCharacterCount(),
    )
    submit = SubmitField("Flag a safeguarding concern", widget=GovSubmitInput())


class CloseConcernForm(FlaskForm):
    outcome = TextAreaField("Outcome", widget=GovTextArea())
    submit = SubmitField("Close concern", widget=GovSubmitInput())


class AssistedRequestForm(HelpRequestForm):
    """The public form's fields, for a coordinator typing in a request from a resident who phoned."""

    urgency = RadioField(
        "Urgency",
        choices=[(str(k), v) for k, v in URGENCY_LABELS.items()],
        default="1",
        validate_choice=False,
        widget=GovRadioInput(),
    )
    recurrence = RadioField(
        "How often is help needed?",
        choices=RECURRENCE_LABELS,
        default="none",
        validate_choice=False,
        widget=GovRadioInput(),
    )
    lawful_basis = RadioField(
        "Lawful basis for holding these details",
        choices=LAWFUL_BASIS_LABELS,
        default="public_task",
        validate_choice=False,
        widget=GovRadioInput(),
    )
    nhs_number = StringField("NHS number (optional)", description="10 digits, like 943 476 5919", widget=GovTextInput())
    vulnerabilities = TextAreaField("Needs and vulnerabilities (optional)", widget=GovCharacterCount())
    consent_given = BooleanField(
        "The resident agreed that we can use these details to arrange help", widget=GovCheckboxInput()
    )
    duplicate_checked = HiddenField()
    not_duplicate = BooleanField("This is not a duplicate: create a new request", widget=GovCheckboxInput())
    submit = SubmitField("Create request", widget=GovSubmitInput())


class VolunteerForm(FlaskForm):
    name = StringField("Full name", widget=GovTextInput())
    phone = StringField("Phone number (optional)", widget=GovTextInput())
    email = StringField("Email address (optional)", widget=GovTextInput())
    home_postcode = StringField("Home postcode", widget=GovTextInput())
    max_km = StringField("How far they travel, in km", widget=GovTextInput())
    capacity = StringField("How many tasks at once", widget=GovTextInput())
    max_per_day = StringField(
        "Most tasks in a day (optional)", description="Empty for no daily limit", widget=GovTextInput()
    )
    offers_by = offers_by_field(
        "How offers reach them", "By text message they reply YES or NO: it needs a mobile phone number"
    )
    skills = checkbox_field("Skills", list(SKILLS.items()))
    dbs_level = RadioField(
        "DBS check level",
        choices=[(d.value, DBS_LABELS[d.value]) for d in DbsLevel],
        default="none",
        validate_choice=False,
        widget=GovRadioInput(),
    )
    dbs_certificate_date = GovDateField("DBS certificate date (optional)", description="For example, 27 3 2024")
    avail_mon = checkbox_field("Monday", [(s, s.title()) for s in SLOTS])
    avail_tue = checkbox_field("Tuesday", [(s, s.title()) for s in SLOTS])
    avail_wed = checkbox_field("Wednesday", [(s, s.title()) for s in SLOTS])
    avail_thu = checkbox_field("Thursday", [(s, s.title()) for s in SLOTS])
    avail_fri = checkbox_field("Friday", [(s, s.title()) for s in SLOTS])
    avail_sat = checkbox_field("Saturday", [(s, s.title()) for s in SLOTS])
    avail_sun = checkbox_field("Sunday", [(s, s.title()) for s in SLOTS])
    active = RadioField(
        "Active", choices=[("yes", "Yes"), ("no", "No")], default="yes", validate_choice=False, widget=GovRadioInput()
    )
    paused_until = GovDateField("Paused until (optional)")
    organisation = StringField("Organisation (optional)", widget=GovTextInput())
    submit = SubmitField("Save volunteer", widget=GovSubmitInput())

    def availability(self) -> dict[str, list[str]]:
        return {day: list(self[f"avail_{day}"].data or []) for day in DAYS if self[f"avail_{day}"].data}

    def data_for_service(self) -> dict[str, Any]:
        return {
            "name": self.name.data,
            "phone": self.phone.data,
            "email": self.email.data,
            "home_postcode": self.home_postcode.data,
            "max_km": self.max_km.data,
            "capacity": self.capacity.data,
            "max_per_day": self.max_per_day.data,
            "offers_by": self.offers_by.data,
            "skills": list(self.skills.data or []),
            "dbs_level": self.dbs_level.data,
            "dbs_certificate_date": date_value(self.dbs_certificate_date),
            "availability": self.availability(),
            "active": self.active.data,
            "paused_until": date_value(self.paused_until),
            "organisation": self.organisation.data,
        }


class LocationForm(FlaskForm):
    """Place a resident whose postcode the directory does not list: a nearby known postcode, or coordinates."""

    nearby_postcode = StringField(
        "A nearby postcode",
        description="A postcode close to the address that our postcode directory lists, for example the next street",
        widget=GovTextInput(),
    )
    lat = StringField("Latitude", description="For example, 51.4927", widget=GovTextInput())
    lon = StringField("Longitude", description="For example, -0.2240", widget=GovTextInput())
    submit = SubmitField("Set the location", widget=GovSubmitInput())

    def data_for_service(self) -> dict[str, Any]:
        return {"nearby_postcode": self.nearby_postcode.data, "lat": self.lat.data, "lon": self.lon.data}


class VettingForm(FlaskForm):
    identity_checked = BooleanField("I have seen proof of their identity", widget=GovCheckboxInput())
    references_checked = BooleanField("References taken up", widget=GovCheckboxInput())
    training_done = BooleanField("Training done", widget=GovCheckboxInput())
    dbs_level = RadioField(
        "DBS check level",
        choices=[(d.value, DBS_LABELS[d.value]) for d in DbsLevel],
        default="none",
        validate_choice=False,
        widget=GovRadioInput(),
    )
    dbs_certificate_number = StringField("DBS certificate number (optional)", widget=GovTextInput())
    dbs_certificate_date = GovDateField("DBS certificate date (optional)", description="For example, 27 3 2024")
    decision = RadioField(
        "Decision",
        choices=[("approved", "Approve: they can be offered work"), ("rejected", "Reject")],
        validate_choice=False,
        widget=GovRadioInput(),
    )
    reason = TextAreaField("Reason (needed to reject)", widget=GovTextArea())
    submit = SubmitField("Record the decision", widget=GovSubmitInput())

    def data_for_service(self) -> dict[str, Any]:
        return {
            "decision": self.decision.data,
            "reason": self.reason.data,
            "identity_checked": bool(self.identity_checked.data),
            "references_checked": bool(self.references_checked.data),
            "training_done": bool(self.training_done.data),
            "dbs_level": self.dbs_level.data,
            "dbs_certificate_number": self.dbs_certificate_number.data,
            "dbs_certificate_date": date_value(self.dbs_certificate_date),
        }


class SelfServiceForm(FlaskForm):
    types = SelectMultipleField(
        "Request types volunteers may claim themselves from Nearby",
        choices=[(k.value, v) for k, v in REQUEST_TYPE_LABELS.items()],
        validate_choice=False,
        widget=GovCheckboxesInput(),
    )
    submit = SubmitField("Save", widget=GovSubmitInput())


class HandoffForm(FlaskForm):
    to = RadioField("Hand off to", choices=[], validate_choice=False, widget=GovRadioInput())
    reason = TextAreaField(
        "Why are you handing this request off?",
        description="The partner authority sees this, and it is kept in both data-sharing logs",
        widget=GovTextArea(),
    )
    notes = TextAreaField("Notes for the receiving authority (optional)", widget=GovTextArea())
    all_open = BooleanField(
        "Also hand off this resident's other open requests (they have moved)", widget=GovCheckboxInput()
    )
    submit = SubmitField("Hand off", widget=GovSubmitInput())
