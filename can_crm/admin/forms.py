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


LAWFUL_BASIS_CHOICES = [
    ("public_task", "Public task"),
    ("vital_interests", "Vital interests"),
    ("legal_obligation", "Legal obligation"),
    ("consent", "Consent"),
]


class PartnerForm(FlaskForm):
    gss_code = StringField("GSS code", description="The authority's ONS code, like E09000020", widget=GovTextInput())
    name = StringField("Authority name", widget=GovTextInput())
    base_url = StringField(
        "Web address of their CAN CRM (optional)",
        description="Leave empty if you exchange handoff files only",
        widget=GovTextInput(),
    )
    public_key = StringField(
        "Their public key", description="As their `flask keys show` prints it (43 characters)", widget=GovTextInput()
    )
    agreement_ref = StringField("Data-sharing agreement reference", widget=GovTextInput())
    lawful_basis = RadioField(
        "Lawful basis for the handoffs", choices=LAWFUL_BASIS_CHOICES, validate_choice=False, widget=GovRadioInput()
    )
    submit = SubmitField("Save partner", widget=GovSubmitInput())


class Open311KeyForm(FlaskForm):
    name = StringField("Who the key is for", description="The civic app, like ‘FixMyStreet’", widget=GovTextInput())
    submit = SubmitField("Issue an Open311 API key", widget=GovSubmitInput())
