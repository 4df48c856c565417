"""`flask --app wsgi <command>`: accounts, tokens, demo data, the job sweeper."""

from __future__ import annotations

import os

import click
from flask import Flask
from sqlalchemy import select

from can_crm import unit_of_work
from can_crm.extensions import db
from can_crm.models.enums import Role, values
from can_crm.models.user import User
from can_crm.services import users
from can_crm.services.errors import DomainError, FieldErrors


def _fail(exc: DomainError) -> None:
    fields = getattr(exc, "fields", None) or {exc.field or "error": exc.message}
    for field, message in fields.items():
        click.echo(f"Error: {field}: {message}", err=True)
    raise SystemExit(2)


def register_commands(app: Flask) -> None:
    @app.cli.command("create-user")
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
        except (FieldErrors, DomainError) as exc:
            _fail(exc)
            return
        unit_of_work.commit()
        click.echo(f"Created {user.role} {user.email} (id {user.id})")

    @app.cli.command("create-token")
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
            _fail(exc)
            return
        unit_of_work.commit()
        click.echo(plain)

    @app.cli.command("seed-demo")
    @click.option("--residents", default=300, show_default=True)
    @click.option("--seed", default=2020, show_default=True)
    def seed_demo(residents: int, seed: int) -> None:
        """Load synthetic demo data (idempotent: does nothing if demo users exist) and print the logins."""
        from can_crm.demo import seed as load_demo

        for line in load_demo(residents=residents, seed=seed):
            click.echo(line)

    @app.cli.command("sweep-jobs")
    def sweep_jobs() -> None:
        """Re-queue jobs that Redis lost or a dead worker left running."""
        from can_crm.jobs.sweeper import sweep

        click.echo(f"Re-queued {sweep()} job(s)")
