"""Administration forms: accounts, roles and API tokens."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovRadioInput, GovSubmitInput, GovTextInput
from wtforms import HiddenField, PasswordField, RadioField, StringField, SubmitField

ROLE_CHOICES = [
    ("coordinator", "Coordinator"),
    ("volunteer", "Volunteer"),
    ("partner", "Partner organisation"),
    ("councillor", "Councillor"),
    ("admin", "Administrator"),
]


class NewUserForm(FlaskForm):
    email = StringField("Email address", widget=GovTextInput())
    name = StringField("Full name", widget=GovTextInput())
    role = RadioField("Role", choices=ROLE_CHOICES, validate_choice=False, widget=GovRadioInput())
    organisation = StringField("Organisation (optional)", widget=GovTextInput())
    ward_code = StringField(
        "Ward code (councillors)", description="The ONS code, like E05013739", widget=GovTextInput()
    )
    password = PasswordField("Initial password", description="12 characters or more", widget=GovPasswordInput())
    submit = SubmitField("Create user", widget=GovSubmitInput())


class RoleForm(FlaskForm):
    role = RadioField("Role", choices=ROLE_CHOICES, validate_choice=False, widget=GovRadioInput())
    submit = SubmitField("Change role", widget=GovSubmitInput())


class ActiveForm(FlaskForm):
    active = HiddenField()
    submit = SubmitField("Save", widget=GovSubmitInput())


class TokenForm(FlaskForm):
    name = StringField(
        "Token name", description="What the token is for, like ‘Food bank integration’", widget=GovTextInput()
    )
    submit = SubmitField("Issue an API token", widget=GovSubmitInput())
