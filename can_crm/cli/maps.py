"""Maps: `heatmap` (the shareable, k-anonymous export)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from can_crm.cli.common import fail
from can_crm.services.common.errors import FieldErrors
from can_crm.services.maps import data as heatmap_data
from can_crm.services.maps import render as heatmaps


def register(cli: AppGroup) -> None:
    @cli.command("heatmap")
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
        raw = {"layer": layer, "k": k, "date_from": date_from, "date_to": date_to, "type": request_type}
        try:
            filters = heatmap_data.clean_filters(raw, current_app.config["HEATMAP_K"], shareable_only=True)
        except FieldErrors as exc:
            fail(exc)
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
