"""Form helpers shared by the blueprints. Rules live in services; forms only carry the fields."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput
from wtforms import SubmitField

from can_crm.services.errors import FieldErrors


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
