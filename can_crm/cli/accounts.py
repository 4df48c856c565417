"""Accounts: `create-user`, `create-token`."""

from __future__ import annotations

import json
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
    register_tokens(cli)

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
    @click.option("--scope", "scopes", multiple=True, type=click.Choice(users.TOKEN_SCOPES), help="Repeatable")
    @click.option("--days", default=90, show_default=True, type=int, help="Days until it expires")
    def create_token(email: str, name: str, scopes: tuple[str, ...], days: int) -> None:
        """Print a new bearer token for EMAIL's role (shown once); scoped and expiring."""
        user = _user(email)
        try:
            _, plain = users.issue_token(user, name, list(scopes), days)
        except DomainError as exc:
            fail(exc)
            return
        unit_of_work.commit()
        click.echo(plain)


def _user(email: str) -> User:
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        click.echo(f"Error: no user with email {email}", err=True)
        raise SystemExit(2)
    return user


def register_tokens(cli: AppGroup) -> None:
    @cli.group("tokens")
    def tokens() -> None:
        """API tokens: list and revoke."""

    @tokens.command("list")
    @click.argument("email")
    def list_tokens(email: str) -> None:
        """One JSON line per token of EMAIL (never the token itself)."""
        for token in users.tokens_of(_user(email)):
            click.echo(
                json.dumps(
                    {
                        "id": token.id,
                        "name": token.name,
                        "prefix": token.prefix,
                        "scopes": token.scopes,
                        "expires_at": token.expires_at.isoformat() if token.expires_at else None,
                        "revoked": token.revoked_at is not None,
                        "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
                    }
                )
            )

    @tokens.command("revoke")
    @click.argument("token_id", type=int)
    def revoke(token_id: int) -> None:
        """Revoke token TOKEN_ID at once."""
        try:
            users.revoke_token(token_id)
        except DomainError as exc:
            fail(exc)
            return
        unit_of_work.commit()
        click.echo(f"Revoked token {token_id}")
