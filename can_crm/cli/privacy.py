"""Data protection: `subject-access`, `erase`, `retention run`, `privacy-audit`. Each prints one JSON line."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import AppGroup

from can_crm import unit_of_work
from can_crm.cli.common import fail
from can_crm.services.common.errors import DomainError
from can_crm.services.privacy import erasure, retention, subject_access

# `erase` exits with this when a documented exception (an open safeguarding concern) blocks it.
BLOCKED_EXIT = 3


def register(cli: AppGroup) -> None:
    @cli.command("subject-access")
    @click.argument("resident_id", type=int)
    @click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path))
    def subject_access_command(resident_id: int, out: Path) -> None:
        """Write everything held about RESIDENT_ID (HTML and JSON) into the folder --out."""
        try:
            result = subject_access.export(resident_id, None, "system")
        except DomainError as exc:
            fail(exc)
            return
        summary = subject_access.write(result, out)
        unit_of_work.commit()
        click.echo(json.dumps(summary))

    @cli.command("erase")
    @click.argument("resident_id", type=int)
    @click.option("--reason", required=True, help="Why (e.g. 'Art. 17 request received 3 May by phone')")
    def erase_command(resident_id: int, reason: str) -> None:
        """Anonymise RESIDENT_ID everywhere; exit 3 when an open safeguarding concern blocks it."""
        try:
            report = erasure.erase(resident_id, reason, None, "system")
        except erasure.ErasureBlocked as exc:
            unit_of_work.rollback()
            click.echo(json.dumps({"resident_id": resident_id, "erased": False, "blocked": exc.message}))
            raise SystemExit(BLOCKED_EXIT) from None
        except DomainError as exc:
            unit_of_work.rollback()
            fail(exc)
            return
        unit_of_work.commit()
        click.echo(json.dumps({"erased": True, **report.as_json()}))

    @cli.group("retention")
    def retention_group() -> None:
        """Retention schedules: warn before, then anonymise or purge."""

    @retention_group.command("run")
    @click.option("--dry-run", is_flag=True, help="Report what would be done, change nothing")
    def retention_run(dry_run: bool) -> None:
        """Apply every retention schedule now; one JSON line per record type."""
        lines = retention.run(dry_run=dry_run)
        if dry_run:
            unit_of_work.rollback()
        else:
            unit_of_work.commit()
        for line in lines:
            click.echo(json.dumps(line))
