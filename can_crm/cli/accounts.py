"""Accounts: `create-user`, `create-token`."""

from __future__ import annotations

import os

import click
from flask.cli import AppGroup
from sqlalchemy import select

from can_crm import unit_of_work
from can_crm.cli.common import fail
from can_crm.extensions import db
from can_crm.models.enums import Role, values
from can_crm.models.user import User
from can_crm.services.accounts import users
from can_crm.services.common.errors import DomainError, FieldErrors
from can_crm.services.volunteers import profiles as volunteer_profiles


def register(cli: AppGroup) -> None:
    @cli.command("create-user")
    @click.argument("email")
    @click.option("--role", required=True, type=click.Choice(values(Role)))
    @click.option("--name", default=None, help="Full name (defaults to the part of the email before @)")
    @click.option("--organisation", default=None)
    @click.option("--ward", "ward_code", default=None, help="Ward code (councillors)")
    def create_user(email: str, role: str, name: str | None, organisation: str | None, ward_code: str | None) -> None:
        """Create a user. The password comes from CAN_PASSWORD or a prompt."""
        password = os.environ.get("CAN_PASSWORD") or click.prompt("Password", hide_input=True, confirmation_prompt=True)
        display = name or email.split("@", 1)[0].replace(".", " ").replace("_", " ").title()
        try:
            user = users.create_user(email, display, role, password, organisation, ward_code)
            if role == Role.VOLUNTEER.value:
                # An empty profile waiting for vetting: the volunteer fills it in at /volunteer/profile.
                volunteer_profiles.empty_profile(user)
        except (FieldErrors, DomainError) as exc:
            fail(exc)
            return
        unit_of_work.commit()
        click.echo(f"Created {user.role} {user.email} (id {user.id})")

    @cli.command("create-token")
    @click.argument("email")
    @click.option("--name", default="integration", help="What the token is for")
    def create_token(email: str, name: str) -> None:
        """Print a new bearer token for EMAIL's role (shown once)."""
        user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None:
            click.echo(f"Error: no user with email {email}", err=True)
            raise SystemExit(2)
        try:
            _, plain = users.issue_token(user, name)
        except DomainError as exc:
            fail(exc)
            return
        unit_of_work.commit()
        click.echo(plain)
