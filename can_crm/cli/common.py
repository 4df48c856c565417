"""What every command shares: how a refused input is reported (exit 2, one line per field)."""

from __future__ import annotations

import click

from can_crm.services.common.errors import DomainError


def fail(exc: DomainError) -> None:
    fields = getattr(exc, "fields", None) or {exc.field or "error": exc.message}
    for field, message in fields.items():
        click.echo(f"Error: {field}: {message}", err=True)
    raise SystemExit(2)
