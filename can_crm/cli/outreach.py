"""`flask --app wsgi import-shielded FILE.csv [--mapping FILE.json] [--dry-run]`: one JSON line out.

Exit 0 when the file was processed (row errors included: they go to FILE.errors.csv), 2 when it could not
be read at all (nothing is imported then).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from can_crm import unit_of_work
from can_crm.services.outreach import shielded
from can_crm.services.outreach.shielded_csv import FileRefused, error_csv


def _refuse(message: str) -> None:
    click.echo(json.dumps({"error": message}))
    sys.exit(2)


@click.command("import-shielded")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--mapping", type=click.Path(dir_okay=False, path_type=Path), help="JSON: our field -> their header")
@click.option("--dry-run", is_flag=True, help="Check and count, write nothing")
@with_appcontext
def import_shielded_command(file: Path, mapping: Path | None, dry_run: bool) -> None:
    """Import the council's shielded-residents list (CSV)."""
    try:
        content = file.read_bytes()
    except OSError as exc:
        return _refuse(f"Cannot read {file}: {exc.strerror}")
    mapping_data = None
    if mapping is not None:
        try:
            mapping_data = json.loads(mapping.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            return _refuse(f"Cannot read the mapping {mapping}: {exc}")
    try:
        summary, errors = shielded.import_shielded(content, mapping_data, dry_run=dry_run)
    except FileRefused as exc:
        unit_of_work.rollback()
        return _refuse(str(exc))
    error_file = None
    if errors:
        error_path = file.with_name(file.stem + ".errors.csv")
        error_path.write_text(error_csv(errors), encoding="utf-8")
        error_file = str(error_path)
    if dry_run:
        unit_of_work.rollback()
    else:
        unit_of_work.commit()
    click.echo(json.dumps({**summary, "error_file": error_file}))
    return None


def register(cli: click.Group) -> None:
    cli.add_command(import_shielded_command)
