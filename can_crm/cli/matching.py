"""Matching: `run-matching`."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from can_crm import unit_of_work
from can_crm.cli.common import fail
from can_crm.extensions import db
from can_crm.models.base import utcnow
from can_crm.services.common.errors import DomainError
from can_crm.services.matching import runs as matching_runs


def register(cli: AppGroup) -> None:
    @cli.command("run-matching")
    @click.option("--scheduled", is_flag=True, help="Only the request types whose schedule is due (for cron)")
    @click.option("--type", "request_types", multiple=True, help="Only this request type (repeatable; default all)")
    def run_matching(scheduled: bool, request_types: tuple[str, ...]) -> None:
        """Start a matching run; its proposals wait for a coordinator (unless an admin allowed auto-approval).

        With --scheduled, start one run for the types that are due (cron: every few minutes). Without Redis the
        run happens in this process and the command waits for it.
        """
        try:
            run = (
                matching_runs.run_scheduled(utcnow())
                if scheduled
                else matching_runs.start_run(None, list(request_types))
            )
        except DomainError as exc:
            fail(exc)
            return
        unit_of_work.commit()
        if run is None:
            click.echo("No scheduled matching is due")
            return
        queue = current_app.extensions["can_queue"]
        if queue.backend == "in-process":
            queue.wait(timeout=600)
            db.session.expire_all()
            finished = db.session.get(type(run), run.id)
            click.echo(f"Matching run {run.id} finished: {finished.state if finished else 'gone'}")
        else:
            click.echo(f"Matching run {run.id} started (job {run.job_id})")
