from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput, GovTextInput
from wtforms import PasswordField, StringField, SubmitField


class LoginForm(FlaskForm):
    email = StringField("Email address", widget=GovTextInput())
    password = PasswordField("Password", widget=GovPasswordInput())
    submit = SubmitField("Sign in", widget=GovSubmitInput())


class CodeForm(FlaskForm):
    code = StringField("Security code", widget=GovTextInput())
    submit = SubmitField("Continue", widget=GovSubmitInput())


class PasswordConfirmForm(FlaskForm):
    password = PasswordField("Password", widget=GovPasswordInput())
    submit = SubmitField("Confirm", widget=GovSubmitInput())


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField("Current password", widget=GovPasswordInput())
    new_password = PasswordField("New password", widget=GovPasswordInput())
    submit = SubmitField("Change password", widget=GovSubmitInput())


class InvitationForm(FlaskForm):
    password = PasswordField("Create a password", description="12 characters or more", widget=GovPasswordInput())
    submit = SubmitField("Set password and sign in", widget=GovSubmitInput())
