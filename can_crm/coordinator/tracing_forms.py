"""Track and Trace forms. No validators: the tracing services own the rules and name the field in error."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import RadioField, SelectField, SelectMultipleField, StringField, SubmitField, TextAreaField

from can_crm.forms import GovDateField, date_value
from can_crm.services.tracing.interactions import KIND_LABELS, SETTING_LABELS

PERSON_KINDS = [("resident", "Resident"), ("volunteer", "Volunteer")]
SETTABLE = [
    ("notified", "Told they are a contact"),
    ("isolating", "Isolating until the date below"),
    ("released", "Released from isolation"),
]
SUPPORT = [("food_parcel", "Food parcel"), ("prescription", "Prescription collection")]


def _date(label: str, hint: str) -> GovDateField:
    return GovDateField(label, description=hint)


def person_ref(kind: str | None, raw_id: str | None) -> dict[str, Any]:
    """{"resident_id": n} or {"volunteer_id": n} from a kind and a typed id; text that is not a number stays
    text, so the service says what is wrong with it."""
    text = (raw_id or "").strip()
    value: Any = int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else (text or None)
    return {"volunteer_id": value} if kind == "volunteer" else {"resident_id": value}


class CaseForm(FlaskForm):
    person_kind = RadioField(
        "Who has tested positive or has symptoms?",
        choices=PERSON_KINDS,
        default="resident",
        validate_choice=False,
        widget=GovRadioInput(),
    )
    person_id = StringField("Their id", description="The resident or volunteer number", widget=GovTextInput())
    onset = _date("Symptoms began (or test date)", "For example, 3 11 2026")
    onset_kind = RadioField(
        "The date is",
        choices=[("symptoms", "When symptoms began"), ("test", "The test date (no symptoms)")],
        default="symptoms",
        validate_choice=False,
        widget=GovRadioInput(),
    )
    submit = SubmitField("Record the case", widget=GovSubmitInput())

    def values(self) -> dict[str, Any]:
        return {
            **person_ref(self.person_kind.data, self.person_id.data),
            "onset": date_value(self.onset),
            "onset_kind": self.onset_kind.data,
        }


class StatusForm(FlaskForm):
    status = SelectField("New status", choices=SETTABLE, validate_choice=False, widget=GovSelect())
    until = _date("Isolating until (the last day)", "For example, 14 11 2026")
    support = SelectMultipleField(
        "Support to offer an isolating resident",
        choices=SUPPORT,
        default=["food_parcel", "prescription"],
        validate_choice=False,
        widget=GovCheckboxesInput(),
    )
    submit = SubmitField("Save status", widget=GovSubmitInput())

    def values(self, resident: bool) -> dict[str, Any]:
        data: dict[str, Any] = {"status": self.status.data, "until": date_value(self.until)}
        if resident and self.status.data == "isolating":
            data["support"] = list(self.support.data or [])
        return data


class InteractionForm(FlaskForm):
    a_kind = RadioField(
        "First person is a", choices=PERSON_KINDS, default="resident", validate_choice=False, widget=GovRadioInput()
    )
    a_id = StringField("First person's id", widget=GovTextInput())
    b_kind = RadioField(
        "Second person is a", choices=PERSON_KINDS, default="resident", validate_choice=False, widget=GovRadioInput()
    )
    b_id = StringField("Second person's id", widget=GovTextInput())
    others = StringField(
        "Others there (optional)",
        description="For a shift at the food hub or a household: more people, like r12, v7 (r resident, v volunteer)",
        widget=GovTextInput(),
    )
    occurred_at = StringField(
        "When they met", description="Date and time, like 2026-11-03 14:30", widget=GovTextInput()
    )
    duration_minutes = StringField("How long (minutes)", widget=GovTextInput())
    setting = RadioField(
        "Where", choices=list(SETTING_LABELS.items()), default="inside", validate_choice=False, widget=GovRadioInput()
    )
    kind = SelectField(
        "How they met",
        choices=list(KIND_LABELS.items()),
        default="household",
        validate_choice=False,
        widget=GovSelect(),
    )
    notes = TextAreaField("Notes (optional)", widget=GovTextArea())
    submit = SubmitField("Record the interaction", widget=GovSubmitInput())

    def values(self) -> dict[str, Any]:
        return {
            "person_a": person_ref(self.a_kind.data, self.a_id.data),
            "person_b": person_ref(self.b_kind.data, self.b_id.data),
            "occurred_at": (self.occurred_at.data or "").strip(),
            "duration_minutes": self.duration_minutes.data,
            "setting": self.setting.data,
            "kind": self.kind.data,
            "notes": self.notes.data,
        }


class IdentityForm(FlaskForm):
    test_and_trace_id = StringField("NHS Test and Trace id", widget=GovTextInput())
    submit = SubmitField("Save the Test and Trace id", widget=GovSubmitInput())


class PeriodForm(FlaskForm):
    """GET filter for clusters and the map (changes nothing, so no CSRF)."""

    class Meta:
        csrf = False

    date_from = _date("Onset from (optional)", "For example, 1 11 2026")
    date_to = _date("Onset to (optional)", "For example, 30 11 2026")
    submit = SubmitField("Show", widget=GovSubmitInput())
