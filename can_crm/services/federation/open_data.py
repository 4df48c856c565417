"""The anonymised open-data export: requests and their outcomes by ISO week, type and area, for a council's open-data
portal. Small numbers are suppressed with the maps' k (HEATMAP_K), counting distinct people as the maps do:

- a week x type x area cell with fewer than k people is left out altogether;
- in a cell that is kept, an outcome count between 1 and k-1 is published as null, and when only one outcome in a
  cell is hidden, the next smallest is hidden too, so no hidden count can be worked out from the total.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from can_crm.extensions import db
from can_crm.models.enums import Status
from can_crm.models.request import HelpRequest
from can_crm.models.resident import Resident
from can_crm.services.common import times
from can_crm.services.common.errors import FieldErrors

OUTCOMES = ("helped", "handed_off", "not_helped", "open")
_OUTCOME_OF = {
    Status.DELIVERED.value: "helped",
    Status.CONFIRMED.value: "helped",
    Status.CLOSED.value: "helped",
    Status.HANDED_OFF.value: "handed_off",
    Status.CANCELLED.value: "not_helped",
    Status.UNABLE_TO_FULFIL.value: "not_helped",
}
COLUMNS = ("week_start", "request_type", "area_code", "requests", "people", *OUTCOMES)
MAX_DAYS = 3 * 366


@dataclass(frozen=True)
class Period:
    start: date
    end: date


def clean_period(args: Mapping[str, str]) -> Period:
    errors: dict[str, str] = {}
    today = times.today()
    parsed: dict[str, date | None] = {}
    for name in ("from", "to"):
        raw = (args.get(name) or "").strip()
        try:
            parsed[name] = date.fromisoformat(raw) if raw else None
        except ValueError:
            errors[name] = f"{name} must be a date, like 2026-04-01"
    if errors:
        raise FieldErrors(errors)
    end = parsed["to"] or today
    start = parsed["from"] or end - timedelta(weeks=52)
    if start > end:
        raise FieldErrors({"from": "from must be on or before to"})
    if (end - start).days > MAX_DAYS:
        raise FieldErrors({"from": "Ask for three years or less at a time"})
    return Period(start, end)


def _suppress(counts: dict[str, int], k: int) -> dict[str, int | None]:
    shown: dict[str, int | None] = {name: counts.get(name, 0) for name in OUTCOMES}
    hidden = [name for name, n in shown.items() if n is not None and 0 < n < k]
    for name in hidden:
        shown[name] = None
    if len(hidden) == 1:
        others = sorted((n, name) for name, n in shown.items() if n)
        if others:
            shown[others[0][1]] = None
    return shown


def rows(period: Period) -> list[dict[str, Any]]:
    k = int(current_app.config["HEATMAP_K"])
    home = current_app.config["AUTHORITY_GSS_CODE"]
    start, end = times.day_bounds(period.start, period.end)
    query = (
        select(
            HelpRequest.created_at, HelpRequest.type, HelpRequest.status, HelpRequest.resident_id, Resident.ward_code
        )
        .join(Resident, HelpRequest.resident_id == Resident.id)
        .where(HelpRequest.created_at >= start, HelpRequest.created_at < end)
    )
    cells: dict[tuple[date, str, str], dict[str, Any]] = defaultdict(
        lambda: {"requests": 0, "people": set(), "outcomes": defaultdict(int)}
    )
    here = times.zone()  # looked up once: a year of requests is read here
    for created_at, kind, status, resident_id, ward in db.session.execute(query.execution_options(yield_per=5000)):
        day = created_at.astimezone(here).date()
        week = day - timedelta(days=day.weekday())
        cell = cells[(week, kind, ward or home)]
        cell["requests"] += 1
        cell["people"].add(resident_id)
        cell["outcomes"][_OUTCOME_OF.get(status, "open")] += 1
    out = []
    for (week, kind, area), cell in sorted(cells.items()):
        if len(cell["people"]) < k:
            continue
        out.append(
            {
                "week_start": week.isoformat(),
                "request_type": kind,
                "area_code": area,
                "requests": cell["requests"],
                "people": len(cell["people"]),
                **_suppress(cell["outcomes"], k),
            }
        )
    return out


def as_json(period: Period) -> dict[str, Any]:
    return {
        "title": f"Requests for community help and their outcomes, {current_app.config['AUTHORITY_NAME']}",
        "authority_code": current_app.config["AUTHORITY_GSS_CODE"],
        "from": period.start.isoformat(),
        "to": period.end.isoformat(),
        "k": int(current_app.config["HEATMAP_K"]),
        "notes": (
            "By ISO week (Monday), request type and ward (or the authority when the ward is unknown). Cells with "
            "fewer than k people are left out; outcome counts below k are null."
        ),
        "columns": list(COLUMNS),
        "rows": rows(period),
    }


def as_csv(period: Period) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    for row in rows(period):
        writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    return buffer.getvalue()
