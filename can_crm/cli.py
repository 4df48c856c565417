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

    @app.cli.command("heatmap")
    @click.option(
        "--layer", required=True, help="open-requests, unmet-need, shielded, volunteer-supply, gap or time-to-delivery"
    )
    @click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="Standalone HTML file to write")
    @click.option("--geojson", "geojson", default=None, type=click.Path(dir_okay=False), help="GeoJSON file to write")
    @click.option("--k", "k", default=None, help="Hide areas with fewer than K people (default HEATMAP_K)")
    @click.option("--from", "date_from", default=None, help="Requests made on or after this day (YYYY-MM-DD)")
    @click.option("--to", "date_to", default=None, help="Requests made on or before this day (YYYY-MM-DD)")
    @click.option("--type", "request_type", default=None, help="Only this request type, e.g. shopping")
    def heatmap(
        layer: str,
        out: str,
        geojson: str | None,
        k: str | None,
        date_from: str | None,
        date_to: str | None,
        request_type: str | None,
    ) -> None:
        """Export the SHAREABLE heat map (k-anonymous) as a standalone HTML file and, optionally, GeoJSON."""
        from pathlib import Path

        from can_crm.services import heatmap_data, heatmaps

        raw = {"layer": layer, "k": k, "date_from": date_from, "date_to": date_to, "type": request_type}
        try:
            filters = heatmap_data.clean_filters(raw, app.config["HEATMAP_K"], shareable_only=True)
        except FieldErrors as exc:
            _fail(exc)
            return
        page, data = heatmaps.export_shareable(filters)
        try:
            Path(out).write_text(page, encoding="utf-8")
            if geojson:
                Path(geojson).write_text(data, encoding="utf-8")
        except OSError as exc:
            click.echo(f"Error: cannot write {exc.filename}: {exc.strerror}", err=True)
            raise SystemExit(2) from None
        click.echo(f"Wrote {out}" + (f" and {geojson}" if geojson else "") + f" ({filters.layer}, k={filters.k})")

    @app.cli.command("run-matching")
    @click.option("--scheduled", is_flag=True, help="Only the request types whose schedule is due (for cron)")
    @click.option("--type", "request_types", multiple=True, help="Only this request type (repeatable; default all)")
    def run_matching(scheduled: bool, request_types: tuple[str, ...]) -> None:
        """Start a matching run; its proposals wait for a coordinator (unless an admin allowed auto-approval).

        With --scheduled, start one run for the types that are due (cron: every few minutes). Without Redis the
        run happens in this process and the command waits for it.
        """
        from can_crm.models.base import utcnow
        from can_crm.services import matching_runs

        try:
            run = (
                matching_runs.run_scheduled(utcnow())
                if scheduled
                else matching_runs.start_run(None, list(request_types))
            )
        except DomainError as exc:
            _fail(exc)
            return
        unit_of_work.commit()
        if run is None:
            click.echo("No scheduled matching is due")
            return
        queue = app.extensions["can_queue"]
        if queue.backend == "in-process":
            queue.wait(timeout=600)
            db.session.expire_all()
            click.echo(f"Matching run {run.id} finished: {db.session.get(type(run), run.id).state}")
        else:
            click.echo(f"Matching run {run.id} started (job {run.job_id})")
