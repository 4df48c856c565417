"""Form helpers shared by the blueprints. Rules live in services; forms only carry the fields."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput
from wtforms import DateField, SubmitField

from can_crm.services.common.errors import FieldErrors


def show_errors(form: FlaskForm, exc: FieldErrors, prefix: str = "") -> None:
    """Put each service error next to its field; an error for a field the form lacks goes on the form."""
    for name, message in exc.fields.items():
        name = name.removeprefix(prefix)
        field = form._fields.get(name)
        if field is not None:
            field.errors = [*list(field.errors or []), message]
        else:
            form.form_errors.append(message)


class ConfirmForm(FlaskForm):
    """A button that only posts the CSRF token (sign out, confirm an action)."""

    submit = SubmitField("Continue", widget=GovSubmitInput())


class LenientDateField(DateField):
    """A GOV.UK day/month/year date whose checks live in the service, like every other field.

    Three empty boxes mean "no date"; anything else that is not a date keeps its raw text (re-shown to the
    person) and leaves `data` empty, so the service reports it alongside every other mistake at once.
    """

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
