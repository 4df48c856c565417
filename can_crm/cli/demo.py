"""Demo data: `seed-demo`; and the job sweeper: `sweep-jobs`."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from can_crm.cli.demo_data import seed as load_demo
from can_crm.jobs.sweeper import sweep


def register(cli: AppGroup) -> None:
    @cli.command("seed-demo")
    @click.option("--residents", default=300, show_default=True)
    @click.option("--seed", default=2020, show_default=True)
    def seed_demo(residents: int, seed: int) -> None:
        """Load synthetic demo data (idempotent: does nothing if demo users exist) and print the logins."""
        for line in load_demo(residents=residents, seed=seed):
            click.echo(line)

    @cli.command("sweep-jobs")
    def sweep_jobs() -> None:
        """Re-queue jobs that Redis lost or a dead worker left running."""
        click.echo(f"Re-queued {sweep()} job(s)")
