"""/coordinator/dashboard: fulfilment figures as SVG bar charts, each with its data table and a CSV download."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Response, abort, render_template

from can_crm.access import STAFF, roles
from can_crm.coordinator.blueprint import bp
from can_crm.coordinator.charts import bar_chart
from can_crm.services.outreach.shielded_csv import safe_cell
from can_crm.services.reports import dashboard as figures


@bp.get("/dashboard")
@roles(*STAFF)
def dashboard() -> Any:
    shown = [(f, bar_chart(f.series(), f.title, f.unit)) for f in figures.figures()]
    return render_template("coordinator/dashboard.html", figures=shown, title="Dashboard")


@bp.get("/dashboard/<key>.csv")
@roles(*STAFF)
def dashboard_csv(key: str) -> Any:
    found = next((f for f in figures.figures() if f.key == key), None)
    if found is None:
        abort(404)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(found.columns)
    for row in found.rows:
        writer.writerow([safe_cell(str(v)) if v is not None else "" for v in row])
    return Response(
        out.getvalue(), mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{key}.csv"'}
    )
