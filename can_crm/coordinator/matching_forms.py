"""Matching forms. No validators: the services own the rules and their messages."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput, GovSubmitInput, GovTextInput
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, SubmitField, TextAreaField

from can_crm.coordinator.forms import checkbox_field
from can_crm.models.enums import REQUEST_TYPE_LABELS, RequestType
from can_crm.services.common import ids


class StartRunForm(FlaskForm):
    request_types = checkbox_field(
        "Which types of request?",
        [(t.value, REQUEST_TYPE_LABELS[t]) for t in RequestType],
        description="Select none to match every type",
    )
    submit = SubmitField("Run matching", widget=GovSubmitInput())


class ApproveForm(FlaskForm):
    proposal_ids = SelectMultipleField("Proposals", choices=[], validate_choice=False)
    action = StringField()

    def ids(self) -> list[int]:
        """The ticked proposals; a tampered value is a field error (FieldErrors), never a database error."""
        return ids.parse_ids(self.proposal_ids.data or [], "proposal_ids", "Select proposals from this run")


class RejectForm(FlaskForm):
    note = TextAreaField("Why are you rejecting it? (optional)")


class OverrideForm(FlaskForm):
    volunteer_id = SelectField("Volunteer", choices=[], validate_choice=False)
    note = TextAreaField("Why this volunteer?")


def _settings_form() -> type[FlaskForm]:
    attrs: dict[str, Any] = {}
    for t in RequestType:
        label = REQUEST_TYPE_LABELS[t].lower()
        attrs[f"{t.value}_auto_run"] = BooleanField(
            f"Run matching for {label} automatically", widget=GovCheckboxInput()
        )
        attrs[f"{t.value}_interval_minutes"] = StringField(
            f"How often to run matching for {label}, in minutes", widget=GovTextInput()
        )
        attrs[f"{t.value}_auto_approve"] = BooleanField(
            f"Approve proposals for {label} without a coordinator", widget=GovCheckboxInput()
        )
    attrs["submit"] = SubmitField("Save settings", widget=GovSubmitInput())
    return type("MatchingSettingsForm", (FlaskForm,), attrs)


MatchingSettingsForm = _settings_form()


def settings_data(form: FlaskForm) -> dict[str, dict[str, Any]]:
    return {
        t.value: {
            "auto_run": bool(form[f"{t.value}_auto_run"].data),
            "interval_minutes": form[f"{t.value}_interval_minutes"].data,
            "auto_approve": bool(form[f"{t.value}_auto_approve"].data),
        }
        for t in RequestType
    }
