"""The map filter form (GET, no CSRF: it changes nothing). No validators: `services.heatmaps` owns the rules."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSelect, GovSubmitInput
from wtforms import RadioField, SelectField, SubmitField
from wtforms.fields import Field

from can_crm.forms import GovDateField
from can_crm.services.maps import data as heatmap_data

DETAIL_CHOICES = [
    (heatmap_data.SHAREABLE, "Shareable: neighbourhood areas, and areas with too few people hidden (default)"),
    (heatmap_data.INTERNAL, "Internal: finer areas, for coordinators only (downloads are always shareable)"),
]


def date_text(field: Field) -> str | None:
    """Day, month and year as typed ("27 3 2020"), for the service to check and name any problem."""
    parts = [str(v).strip() for v in (field.raw_data or [])]
    if not any(parts):
        return None
    return " ".join(parts)


class MapFilterForm(FlaskForm):
    class Meta:
        csrf = False

    layer = RadioField(
        "What to show",
        choices=heatmap_data.layer_choices(),
        default=heatmap_data.LAYER_KEYS[0],
        validate_choice=False,
        widget=GovRadioInput(),
    )
    date_from = GovDateField("From (optional)", "Requests made on or after this day. For example, 1 3 2020")
    date_to = GovDateField("To (optional)", "Requests made on or before this day. For example, 30 6 2020")
    type = SelectField(
        "Request type",
        choices=[("", "Any type"), *heatmap_data.type_choices()],
        validate_choice=False,
        widget=GovSelect(),
    )
    detail = RadioField(
        "Detail", choices=DETAIL_CHOICES, default=heatmap_data.SHAREABLE, validate_choice=False, widget=GovRadioInput()
    )
    submit = SubmitField("Show map", widget=GovSubmitInput())

    def values(self) -> dict[str, Any]:
        return {
            "layer": self.layer.data,
            "date_from": date_text(self.date_from),
            "date_to": date_text(self.date_to),
            "type": self.type.data,
            "detail": self.detail.data,
        }
