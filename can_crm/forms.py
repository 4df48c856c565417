"""Form helpers shared by the blueprints. Rules live in services; forms only carry the fields."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovDateInput, GovRadioInput, GovSubmitInput
from wtforms import DateField, RadioField, SubmitField

from can_crm.i18n import translate_error
from can_crm.models.enums import OFFERS_BY_LABELS, OffersBy
from can_crm.services.common.errors import FieldErrors


def show_errors(form: FlaskForm, exc: FieldErrors, prefix: str = "") -> None:
    """Put each service error next to its field, in the page's language; an error for a field the form lacks goes
    on the form."""
    for name, english in exc.fields.items():
        message = translate_error(english)
        name = name.removeprefix(prefix)
        field = form._fields.get(name)
        if field is not None:
            field.errors = [*list(field.errors or []), message]
        else:
            form.form_errors.append(message)


class ConfirmForm(FlaskForm):
    """A button that only posts the CSRF token (sign out, confirm an action)."""

    submit = SubmitField("Continue", widget=GovSubmitInput())


class SafeDateInput(GovDateInput):
    """The GOV.UK date input (day, month, year boxes), re-shown safely whatever was posted.

    The library unpacks the posted values into exactly three boxes; a box left out, the field posted twice or
    a fourth part would raise (a server error on the page that should show the mistake). Here the boxes show
    the first three parts, blanks filling any missing; the field's own raw data is left as posted.
    """

    def map_gov_params(self, field: Any, **kwargs: Any) -> Any:
        raw = field.raw_data
        if raw is not None and len(raw) != 3:
            field.raw_data = [*[str(v) for v in raw], "", "", ""][:3]
            try:
                return super().map_gov_params(field, **kwargs)
            finally:
                field.raw_data = raw
        return super().map_gov_params(field, **kwargs)


class GovDateField(DateField):
    """Every GOV.UK day/month/year date in the app: the safe widget, and checks that live in the service.

    Three empty boxes mean "no date"; anything else that is not a date keeps its raw text (re-shown to the
    person) and leaves `data` empty, so the service reports it alongside every other mistake at once (pass
    the field to `date_value`).
    """

    def __init__(self, label: str, description: str = "For example, 27 3 2027", **kwargs: Any) -> None:
        kwargs.setdefault("widget", SafeDateInput())
        super().__init__(label, description=description, format="%d %m %Y", **kwargs)

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist or not any(v.strip() for v in valuelist):
            self.data = None
            return
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
        self.process_errors = []


def date_value(field: DateField) -> str | None:
    """The date as ISO text, or what was typed when it is not a date, so the service names the problem.

    Day, month and year boxes that do not make a date go on as YYYY-MM-DD text ("2030-02-31"); anything
    else (a tampered post) goes on as typed. Either way the service answers with the field's message.
    """
    if field.data:
        return str(field.data.isoformat())
    parts = [v.strip() for v in (field.raw_data or [])]
    if len(parts) == 3 and any(parts):
        day, month, year = parts
        return f"{year}-{month.zfill(2)}-{day.zfill(2)}"
    return " ".join(p for p in parts if p) or None


def offers_by_field(label: str, description: str) -> RadioField:
    """How offers reach a volunteer (the app, or texts answered YES or NO), worded for whoever fills it in."""
    return RadioField(
        label,
        description=description,
        choices=[(k.value, v) for k, v in OFFERS_BY_LABELS.items()],
        default=OffersBy.WEB.value,
        validate_choice=False,
        widget=GovRadioInput(),
    )
