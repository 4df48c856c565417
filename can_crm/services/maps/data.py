"""Heat maps of need and supply, the data side: filters, the data version, bulk loading and aggregation.

What leaves the database for a map is ids and coordinates only, never names or addresses: `person_id` is the
resident id, so k counts distinct people. The rendered-map cache is in `can_crm.services.maps.render`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import DateTime, and_, cast, func, literal, null, or_, select, union_all

from can_crm.extensions import db
from can_crm.models.base import utcnow
from can_crm.models.enums import (
    OPEN_STATUSES,
    REQUEST_TYPE_LABELS,
    FeedbackAnswer,
    RequestType,
    Status,
    VolunteerStatus,
)
from can_crm.models.notification import Feedback
from can_crm.models.request import HelpRequest, RequestEvent
from can_crm.models.resident import Resident
from can_crm.models.volunteer import Volunteer
from can_crm.services.common import areas, times
from can_crm.services.common.errors import FieldErrors
from can_crm.services.maps import layers as maps_layers

log = logging.getLogger(__name__)
NOT_RECEIVED_ANSWERS = (FeedbackAnswer.NO.value, FeedbackAnswer.PARTLY.value)

# The order is part of the job arguments (a layer travels as its index): append, never reorder.
LAYER_KEYS = (
    "open-requests",
    "unmet-need",
    "shielded",
    "volunteer-supply",
    "gap",
    "time-to-delivery",
    "not-received",
)
TYPE_KEYS = tuple(t.value for t in RequestType)
SHAREABLE, INTERNAL = "shareable", "internal"
AUDIENCES = (SHAREABLE, INTERNAL)
# The internal view shows finer cells and every cell with at least this many people: coordinators already
# see each request in the queue, so the map adds no exposure for them. It is never exported.
INTERNAL_K = 1
DELIVERED_STATUSES = (Status.DELIVERED.value, Status.CONFIRMED.value, Status.CLOSED.value)
ACTIVE_TASK_STATUSES = (Status.MATCHED.value, Status.ACCEPTED.value, Status.IN_PROGRESS.value)
TABLE_ROWS = 20
MAX_CACHE_FILES = 300
EARLIEST = date(2000, 1, 1)
_DATE_FORMATS = ("%Y-%m-%d", "%d %m %Y", "%d/%m/%Y")


@dataclass(frozen=True)
class MapFilters:
    """What a map shows. `start`/`end` filter on the day a request was made (inclusive)."""

    layer: str
    start: date | None = None
    end: date | None = None
    request_type: str | None = None
    audience: str = SHAREABLE
    k: int = 5

    @property
    def filterable(self) -> bool:
        from can_crm.services.maps.layers import get_layer  # lazy: geo loads folium/geopandas

        return bool(get_layer(self.layer).filterable)

    def shareable(self) -> MapFilters:
        return MapFilters(self.layer, self.start, self.end, self.request_type, SHAREABLE, self.k)

    def effective_k(self) -> int:
        return INTERNAL_K if self.audience == INTERNAL else self.k

    def query_args(self) -> dict[str, str]:
        """URL query arguments (ids and codes only) that `clean_filters` reads back."""
        args = {"layer": self.layer}
        if self.start:
            args["from"] = self.start.isoformat()
        if self.end:
            args["to"] = self.end.isoformat()
        if self.request_type:
            args["type"] = self.request_type
        return args

    def job_args(self) -> dict[str, int | None]:
        """Numbers only: the job outbox refuses text, so each choice travels as an index or a day number."""
        return {
            "layer": LAYER_KEYS.index(self.layer),
            "start_day": self.start.toordinal() if self.start else None,
            "end_day": self.end.toordinal() if self.end else None,
            "request_type": TYPE_KEYS.index(self.request_type) if self.request_type else None,
            "internal": 1 if self.audience == INTERNAL else 0,
            "k": self.k,
        }

    @classmethod
    def from_job_args(cls, args: Mapping[str, Any]) -> MapFilters:
        start, end, kind = args.get("start_day"), args.get("end_day"), args.get("request_type")
        return cls(
            layer=LAYER_KEYS[int(args["layer"])],
            start=date.fromordinal(int(start)) if start else None,
            end=date.fromordinal(int(end)) if end else None,
            request_type=TYPE_KEYS[int(kind)] if kind is not None else None,
            audience=INTERNAL if args.get("internal") else SHAREABLE,
            k=int(args["k"]),
        )


def _parse_date(raw: Any, label: str, today: date) -> date | None:
    if raw is None or isinstance(raw, date):
        return raw
    text = re.sub(r"\s+", " ", str(raw)).strip()
    if not text:
        return None
    for fmt in _DATE_FORMATS:
        try:
            value = datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        if value < EARLIEST:
            raise ValueError(f"The {label} date must be in {EARLIEST.year} or later")
        if value > today:
            raise ValueError(f"The {label} date must be today or in the past")
        return value
    raise ValueError(f"The {label} date must be a real date, for example 27 3 2020")


def clean_filters(raw: Mapping[str, Any], default_k: int, *, shareable_only: bool = False) -> MapFilters:
    """Check what a person (form, URL or CLI) asked for. Raises FieldErrors with GOV.UK messages."""
    from can_crm.services.maps.layers import get_layer  # lazy: geo loads folium/geopandas

    errors: dict[str, str] = {}
    today = times.today()
    layer = str(raw.get("layer") or LAYER_KEYS[0]).strip()
    if layer not in LAYER_KEYS:
        errors["layer"] = "Choose a map layer from the list"
    dates: dict[str, date | None] = {}
    for key, label in (("date_from", "start"), ("date_to", "end")):
        try:
            dates[key] = _parse_date(raw.get(key), label, today)
        except ValueError as exc:
            errors[key] = str(exc)
    start, end = dates.get("date_from"), dates.get("date_to")
    if start and end and start > end:
        errors["date_to"] = "The end date must be the same as or after the start date"
    kind = str(raw.get("type") or "").strip() or None
    if kind is not None and kind not in TYPE_KEYS:
        errors["type"] = "Choose a request type from the list"
    audience = str(raw.get("detail") or SHAREABLE).strip()
    if audience not in AUDIENCES or (shareable_only and audience != SHAREABLE):
        errors["detail"] = "Choose shareable or internal detail"
    k_raw = raw.get("k")
    k = default_k
    if k_raw not in (None, ""):
        try:
            k = int(str(k_raw).strip())
        except ValueError:
            errors["k"] = "k must be a whole number, like 5"
        else:
            if not 2 <= k <= 1000:
                errors["k"] = "k must be between 2 and 1000"
    if errors:
        raise FieldErrors(errors)
    if not get_layer(layer).filterable:
        start = end = kind = None  # shielded residents and volunteers are not dated or typed
    return MapFilters(layer, start, end, kind, audience, k)


# -- the data version ----------------------------------------------------------------------------------


_NO_TIME = cast(null(), DateTime(timezone=True))


def data_version(filters: MapFilters, now: datetime | None = None) -> list[Any]:
    """What the map's data looks like now, in ONE query (with the file read, the whole cost of a cache hit).

    Requests: the highest request id and the highest event id, both read from primary keys. This relies on
    every change to a request recording an event (creation, triage and each transition do: events are the
    audit trail). Residents and volunteers: row count and latest `updated_at`. Unmet need also depends on
    the clock, so it adds the number of open requests already overdue (the status/SLA index answers it)."""
    now = now or utcnow()
    parts = [
        select(literal("requests"), func.coalesce(func.max(HelpRequest.id), 0), _NO_TIME),
        select(literal("events"), func.coalesce(func.max(RequestEvent.id), 0), _NO_TIME),
        select(literal("residents"), func.count(), func.max(Resident.updated_at)),
    ]
    if filters.layer in ("volunteer-supply", "gap"):
        parts.append(select(literal("volunteers"), func.count(), func.max(Volunteer.updated_at)))
    if filters.layer == "unmet-need":
        parts.append(
            select(literal("overdue"), func.count(), _NO_TIME).where(
                HelpRequest.status.in_(_open()), HelpRequest.sla_due_at < now
            )
        )
    rows = db.session.execute(union_all(*parts)).all()
    version: list[Any] = [times.today(now).isoformat()]  # availability and "produced on" change with the day
    for name, count, latest in sorted(rows, key=lambda r: str(r[0])):
        version.append([str(name), int(count), latest.isoformat() if isinstance(latest, datetime) else None])
    return version


def rows_in(version: list[Any]) -> int:
    """Roughly how much data a map reads: decides whether it may be rendered inline."""
    return sum(int(part[1]) for part in version[1:] if part[0] in ("requests", "residents", "volunteers"))


def _open() -> list[str]:
    return [s.value for s in OPEN_STATUSES]


def _request_conditions(filters: MapFilters) -> list[Any]:
    conditions: list[Any] = [Resident.lat.is_not(None), Resident.lon.is_not(None)]
    if filters.start:
        conditions.append(HelpRequest.created_at >= times.day_start(filters.start))
    if filters.end:
        conditions.append(HelpRequest.created_at < times.day_start(filters.end + timedelta(days=1)))
    if filters.request_type:
        conditions.append(HelpRequest.type == filters.request_type)
    return conditions


def _request_points(filters: MapFilters, *extra: Any, hours: bool = False) -> Any:
    from geo import PointSet  # lazy: geo loads folium/geopandas

    columns = [Resident.lat, Resident.lon, HelpRequest.resident_id, HelpRequest.created_at, HelpRequest.type]
    if hours:
        columns.append(HelpRequest.delivered_at)
    statement = (
        select(*columns)
        .join(Resident, HelpRequest.resident_id == Resident.id)
        .where(*_request_conditions(filters), *extra)
        .order_by(HelpRequest.id)
    )
    rows = db.session.execute(statement).all()
    if not rows:
        return PointSet.from_arrays([], [], [], when=np.array([], dtype="datetime64[D]"), category=[])
    lat, lon, person, created, kind = (list(c) for c in zip(*[r[:5] for r in rows], strict=True))
    value = None
    if hours:
        value = [max(0.0, (r[5] - r[3]).total_seconds() / 3600.0) for r in rows]
    when = np.array(times.local_dates(created), dtype="datetime64[D]")
    return PointSet.from_arrays(lat, lon, person, value, when=when, category=kind)


def _volunteers(today: date) -> Any:
    from geo import VolunteerSet  # lazy: geo loads folium/geopandas

    busy = (
        select(HelpRequest.volunteer_id, func.count().label("tasks"))
        .where(HelpRequest.volunteer_id.is_not(None), HelpRequest.status.in_(ACTIVE_TASK_STATUSES))
        .group_by(HelpRequest.volunteer_id)
        .subquery()
    )
    statement = (
        select(Volunteer.id, Volunteer.lat, Volunteer.lon, Volunteer.capacity, Volunteer.max_km, busy.c.tasks)
        .outerjoin(busy, busy.c.volunteer_id == Volunteer.id)
        .where(
            Volunteer.active.is_(True),
            Volunteer.status == VolunteerStatus.ACTIVE.value,
            Volunteer.lat.is_not(None),
            Volunteer.lon.is_not(None),
            # The same rule as Volunteer.is_available, in SQL.
            or_(Volunteer.paused_until.is_(None), Volunteer.paused_until < today),
            or_(Volunteer.isolating_until.is_(None), Volunteer.isolating_until < today),
        )
        .order_by(Volunteer.id)
    )
    rows = db.session.execute(statement).all()
    spare = [max(0, int(r.capacity) - int(r.tasks or 0)) for r in rows]
    return VolunteerSet.from_arrays(
        [r.lat for r in rows], [r.lon for r in rows], [r.id for r in rows], spare, [r.max_km for r in rows]
    )


def load_inputs(filters: MapFilters, now: datetime | None = None) -> Any:
    """The layer's points (and volunteers), in bulk: coordinates, ids, dates and types only."""
    from geo import LayerInput, PointSet  # lazy: geo loads folium/geopandas

    maps_layers.register()
    now = now or utcnow()
    layer = filters.layer
    if layer == "open-requests":
        return LayerInput(points=_request_points(filters, HelpRequest.status.in_(_open())))
    if layer == "unmet-need":
        overdue = HelpRequest.sla_due_at < now
        return LayerInput(points=_request_points(filters, HelpRequest.status.in_(_open()), overdue))
    if layer == "time-to-delivery":
        return LayerInput(
            points=_request_points(
                filters, HelpRequest.status.in_(DELIVERED_STATUSES), HelpRequest.delivered_at.is_not(None), hours=True
            )
        )
    if layer == "gap":
        return LayerInput(
            points=_request_points(filters, HelpRequest.status.in_(_open())), volunteers=_volunteers(times.today(now))
        )
    if layer == "volunteer-supply":
        return LayerInput(volunteers=_volunteers(times.today(now)))
    if layer == "not-received":
        said_no = select(Feedback.request_id).where(Feedback.answer.in_(NOT_RECEIVED_ANSWERS))
        return LayerInput(points=_request_points(filters, HelpRequest.id.in_(said_no)))
    if layer == "shielded":
        rows = db.session.execute(
            select(Resident.id, Resident.lat, Resident.lon)
            .where(Resident.shielding.is_(True), and_(Resident.lat.is_not(None), Resident.lon.is_not(None)))
            .order_by(Resident.id)
        ).all()
        lat, lon, person = [r.lat for r in rows], [r.lon for r in rows], [r.id for r in rows]
        return LayerInput(points=PointSet.from_arrays(lat, lon, person))
    raise ValueError(f"unknown layer {layer!r}")


def build(filters: MapFilters, inputs: Any) -> Any:
    """The aggregated, suppressed heat map for `filters` (shareable: map-resolution cells and k)."""
    # lazy: geo loads folium/geopandas
    from geo import FINE_RESOLUTION, MAP_RESOLUTION, Audience, HexZoning, Period, PolygonZoning, build_heatmap

    maps_layers.register()
    internal = filters.audience == INTERNAL
    ward_areas = areas.wards()
    if internal:
        zoning: Any = HexZoning(int(FINE_RESOLUTION))
    elif ward_areas is not None:
        zoning = PolygonZoning(ward_areas)
    else:
        zoning = HexZoning(int(MAP_RESOLUTION))
    return build_heatmap(
        filters.layer,
        inputs,
        k=filters.effective_k(),
        zoning=zoning,
        audience=Audience.INTERNAL if internal else Audience.SHAREABLE,
        period=Period(filters.start, filters.end),
        request_types=[filters.request_type] if filters.request_type else None,
    )


def layer_choices() -> list[tuple[str, str]]:
    from can_crm.services.maps.layers import get_layer  # lazy: geo loads folium/geopandas

    return [(key, get_layer(key).title) for key in LAYER_KEYS]


def type_choices() -> list[tuple[str, str]]:
    return [(t.value, label) for t, label in REQUEST_TYPE_LABELS.items()]
