"""Track and Trace: `tracing backfill-visits`, `tracing purge`, `tracing grant`."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from can_crm import unit_of_work
from can_crm.cli.common import fail
from can_crm.extensions import db
from can_crm.models.user import User
from can_crm.services.accounts import users
from can_crm.services.common.errors import DomainError
from can_crm.services.tracing import cases, interactions


def register(cli: AppGroup) -> None:
    group = AppGroup("tracing", help="Local Track and Trace")

    @group.command("backfill-visits")
    def backfill_visits() -> None:
        """Record the visits of deliveries made before tracing existed, from the request history (rerunnable)."""
        added = interactions.backfill_visits()
        unit_of_work.commit()
        click.echo(f"{added} visits recorded")

    @group.command("purge")
    def purge() -> None:
        """Delete tracing data older than TRACING_RETENTION_DAYS (for the data-protection schedule)."""
        counts = cases.purge_expired()
        unit_of_work.commit()
        click.echo(", ".join(f"{n} {name}" for name, n in counts.items()) + " deleted")

    @group.command("grant")
    @click.argument("email")
    @click.option("--withdraw", is_flag=True, help="Take the permission away instead")
    def grant(email: str, withdraw: bool) -> None:
        """Give a coordinator the tracing permission (or --withdraw it)."""
        user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None:
            click.echo("Error: email: No user with that email address", err=True)
            raise SystemExit(2)
        try:
            users.set_tracing(user, not withdraw, None)
        except DomainError as exc:
            fail(exc)
        unit_of_work.commit()
        click.echo(f"Tracing permission {'withdrawn from' if withdraw else 'given to'} {user.email}")

    cli.add_command(group)
