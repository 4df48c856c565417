"""Planning a day's food-parcel delivery rounds: the coordinator's choices, the `plan_rounds` job, reading a plan.

Like a matching run, the engine only proposes: the plan is a draft the coordinator edits (`edits`) and a person
approves (`approval`). The job carries the plan's id only; the engine sees ids, coordinates, parcels and minutes.

Which requests: every triaged, unassigned food-parcel request, with its own parcels and its own delivery window
(when the resident can take delivery) cut to the plan's window. A request whose window does not meet the plan's
is listed as unserved (`window_outside_plan`), and one whose resident has no known location as `location_unknown`
until a coordinator sets it. Which volunteers: vetted, available today, and driving (a car, or the driving skill); the
coordinator chooses them and gives each car's capacity in parcels and the shift.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import current_app
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from can_crm.extensions import db
from can_crm.models.base import utcnow
from can_crm.models.enums import RequestType, Status, Transport, VolunteerStatus
from can_crm.models.job import Job
from can_crm.models.request import HelpRequest
from can_crm.models.rounds import DeliveryRound, RoundPlan, RoundStop
from can_crm.models.user import User
from can_crm.models.volunteer import Volunteer
from can_crm.services.common import jobs, times
from can_crm.services.common.errors import FieldErrors, NotFound
from can_crm.services.common.times import clock, parse_clock
from can_crm.services.requests import delivery
from can_crm.services.rounds.timing import engine_stop, engine_vehicle
from can_crm.unit_of_work import atomic
from matching.distances import StraightLine
from matching.rounds import plan_rounds
from matching.rounds_model import RoundsInstance

log = logging.getLogger(__name__)

PLAN_JOB = "plan_rounds"
WINDOW_OUTSIDE_PLAN = "window_outside_plan"
CAPACITY_RANGE = (1, 500)
DEFAULT_WINDOW = ("09:00", "17:00")
DEFAULT_SHIFT = ("09:00", "13:00")
DEFAULT_CAPACITY = "10"
LOCATION_UNKNOWN = "location_unknown"
REMOVED = "removed_by_coordinator"
MAX_VEHICLES = 200
_ROW = re.compile(r"^v(\d{1,9})-(include|capacity|shift_start|shift_end)$")

ProgressFn = Callable[[int, str], None]


# -- who and what can be planned -------------------------------------------------------------------------------


def hubs() -> list[tuple[str, float, float]]:
    """The food hubs rounds start from (FOOD_HUBS), in the configured order."""
    return [(str(n), float(lat), float(lon)) for n, lat, lon in current_app.config["FOOD_HUBS"]]


def drivers(today: date) -> list[Volunteer]:
    """Vetted volunteers available today who drive (transport car, or the driving skill), by name."""
    rows = db.session.scalars(
        select(Volunteer)
        .where(
            Volunteer.active.is_(True),
            Volunteer.status == VolunteerStatus.ACTIVE.value,
            or_(Volunteer.paused_until.is_(None), Volunteer.paused_until < today),
            or_(Volunteer.isolating_until.is_(None), Volunteer.isolating_until < today),
        )
        .order_by(Volunteer.name, Volunteer.id)
    )
    return [
        v
        for v in rows
        if v.is_available(today) and (v.transport == Transport.CAR.value or "driving" in (v.skills or []))
    ]


def waiting_requests() -> list[HelpRequest]:
    """Triaged, unassigned food-parcel requests, most urgent and soonest due first (residents loaded)."""
    return list(
        db.session.scalars(
            select(HelpRequest)
            .where(
                HelpRequest.status == Status.TRIAGED.value,
                HelpRequest.volunteer_id.is_(None),
                HelpRequest.type == RequestType.FOOD_PARCEL.value,
            )
            .options(joinedload(HelpRequest.resident))
            .order_by(HelpRequest.urgency.desc(), HelpRequest.sla_due_at, HelpRequest.id)
        ).unique()
    )


# -- the coordinator's choices -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class VehicleChoice:
    volunteer_id: int
    capacity: int
    shift_start: int
    shift_end: int


@dataclass(frozen=True)
class PlanChoices:
    hub: tuple[str, float, float]
    window_start: int
    window_end: int
    vehicles: list[VehicleChoice] = field(default_factory=list)


def rows_from_form(form: Mapping[str, Any]) -> dict[int, dict[str, Any]]:
    """The per-volunteer fields of the planning form (`v12-capacity`...), by volunteer id."""
    rows: dict[int, dict[str, Any]] = {}
    for key in form:
        match = _ROW.match(key)
        if match:
            rows.setdefault(int(match.group(1)), {})[match.group(2)] = form.get(key)
    return rows


def _clean_time(raw: object, key: str, what: str, errors: dict[str, str]) -> int | None:
    if not isinstance(raw, str) or not raw.strip():
        errors[key] = f"Enter {what}"
        return None
    value = parse_clock(raw)
    if value is None:
        errors[key] = f"Enter {what} as a time like 09:30"
    return value


def clean_choices(data: Mapping[str, Any], today: date) -> PlanChoices:
    """Check the planning form; every problem at once, each on its field (FieldErrors)."""
    errors: dict[str, str] = {}
    options = hubs()
    raw_hub = data.get("hub")
    hub = next((h for h in options if h[0] == raw_hub), options[0] if len(options) == 1 and not raw_hub else None)
    if hub is None:
        errors["hub"] = "Choose the food hub the rounds start from"
    start = _clean_time(data.get("window_start"), "window_start", "when deliveries may start", errors)
    end = _clean_time(data.get("window_end"), "window_end", "when deliveries must end", errors)
    if start is not None and end is not None and end <= start:
        errors["window_end"] = "When deliveries must end must be later than when they may start"
    known = {v.id: v for v in drivers(today)}
    rows = data.get("vehicles") or {}
    chosen: list[VehicleChoice] = []
    if not isinstance(rows, Mapping):
        rows = {}
    for vid, row in rows.items():
        if not isinstance(row, Mapping) or not row.get("include"):
            continue
        volunteer = known.get(vid) if isinstance(vid, int) else None
        if volunteer is None:
            errors["vehicles"] = "Choose volunteers from the list: one of them can no longer drive a round today"
            continue
        name = volunteer.name
        raw_cap = row.get("capacity")
        cap_text = raw_cap.strip() if isinstance(raw_cap, str) else ""
        capacity = None
        low, high = CAPACITY_RANGE
        if not cap_text:
            errors[f"v{vid}-capacity"] = f"Enter how many parcels {name}'s car takes"
        elif not (cap_text.isascii() and cap_text.isdigit()) or not low <= int(cap_text[:6]) <= high:
            errors[f"v{vid}-capacity"] = (
                f"How many parcels {name}'s car takes must be a whole number from {low} to {high}"
            )
        else:
            capacity = int(cap_text)
        s = _clean_time(row.get("shift_start"), f"v{vid}-shift_start", f"when {name}'s shift starts", errors)
        e = _clean_time(row.get("shift_end"), f"v{vid}-shift_end", f"when {name}'s shift ends", errors)
        if s is not None and e is not None and e <= s:
            errors[f"v{vid}-shift_end"] = f"When {name}'s shift ends must be later than when it starts"
        if capacity is not None and s is not None and e is not None and e > s:
            chosen.append(VehicleChoice(vid, capacity, s, e))
    if not chosen and not any(k.startswith("v") for k in errors) and "vehicles" not in errors:
        errors["vehicles"] = "Choose at least one volunteer with a car to drive a round"
    if len(chosen) > MAX_VEHICLES:
        errors["vehicles"] = f"Choose at most {MAX_VEHICLES} volunteers"
    if errors:
        raise FieldErrors(errors)
    assert hub is not None and start is not None and end is not None  # noqa: S101 - errors raised above otherwise
    return PlanChoices(hub, start, end, chosen)


@atomic
def start_plan(user: User, data: Mapping[str, Any]) -> RoundPlan:
    """Record a plan, one round per chosen volunteer, and its job (queued once the transaction commits)."""
    today = times.today()
    choices = clean_choices(data, today)
    config = current_app.config
    name, lat, lon = choices.hub
    plan = RoundPlan(
        created_by_id=user.id,
        day=today,
        state="planning",
        hub_name=name,
        hub_lat=lat,
        hub_lon=lon,
        window_start_min=choices.window_start,
        window_end_min=choices.window_end,
        service_min=int(config["ROUNDS_SERVICE_MINUTES"]),
        speed_kmh=float(config["ROUNDS_SPEED_KMH"]),
        road_factor=float(config["ROUNDS_ROAD_FACTOR"]),
        time_limit_s=int(config["ROUNDS_TIME_LIMIT_SECONDS"]),
        total_km=0.0,
        served_by_urgency={},
        created_at=utcnow(),
    )
    db.session.add(plan)
    db.session.flush()
    for position, v in enumerate(choices.vehicles):
        db.session.add(
            DeliveryRound(
                plan_id=plan.id,
                volunteer_id=v.volunteer_id,
                position=position,
                capacity=v.capacity,
                shift_start_min=v.shift_start,
                shift_end_min=v.shift_end,
                km=0.0,
            )
        )
    job = jobs.start_job(PLAN_JOB, {"plan_id": plan.id}, user.id)
    plan.job_id = job.id
    db.session.flush()
    log.info("round plan %s started (job %s, %s rounds)", plan.id, job.id, len(choices.vehicles))
    return plan


# -- the job ------------------------------------------------------------------------------------------------------


def rounds_of(plan_id: int) -> list[DeliveryRound]:
    return list(
        db.session.scalars(
            select(DeliveryRound)
            .where(DeliveryRound.plan_id == plan_id)
            .options(joinedload(DeliveryRound.volunteer))
            .order_by(DeliveryRound.position, DeliveryRound.id)
        ).unique()
    )


def stops_of(plan_id: int) -> list[RoundStop]:
    """Every stop of the plan with its request and resident, in round order then the unserved."""
    return list(
        db.session.scalars(
            select(RoundStop)
            .where(RoundStop.plan_id == plan_id)
            .options(joinedload(RoundStop.request).joinedload(HelpRequest.resident))
            .order_by(RoundStop.round_id.is_(None), RoundStop.round_id, RoundStop.position, RoundStop.id)
        ).unique()
    )


def update_totals(plan: RoundPlan, rounds: list[DeliveryRound], stops: list[RoundStop]) -> None:
    """The plan's km (whole metres summed, so it equals the rounds' km added up) and stops served by urgency."""
    plan.total_km = sum(round(r.km * 1000) for r in rounds) / 1000
    served = [s for s in stops if s.round_id is not None]
    plan.served_by_urgency = {str(u): sum(1 for s in served if s.urgency == u) for u in (3, 2, 1)}


def stop_for(plan: RoundPlan, request: HelpRequest) -> RoundStop:
    """The request as a stop of `plan`: its parcels, and its own window cut to the plan's. A window that does not
    meet the plan's (or only touches it) cannot be served today: the stop says so and keeps the resident's window."""
    start, end = delivery.window_of(request)
    cut = (max(start, plan.window_start_min), min(end, plan.window_end_min))
    meets = cut[0] < cut[1]
    return RoundStop(
        plan_id=plan.id,
        request_id=request.id,
        parcels=request.parcels or 1,
        urgency=request.urgency,
        window_start_min=cut[0] if meets else start,
        window_end_min=cut[1] if meets else end,
        unserved_reason=None if meets else WINDOW_OUTSIDE_PLAN,
    )


def execute_plan(plan_id: int, progress: ProgressFn) -> dict[str, Any]:
    """The `plan_rounds` job. Idempotent: a plan that already has its stops is left alone."""
    plan = db.session.get(RoundPlan, plan_id)
    if plan is None:
        return {"plan_id": plan_id, "skipped": 1}
    if plan.state != "planning":
        return {"plan_id": plan.id, "state": plan.state}
    progress(5, "Loading food-parcel requests and the rounds")
    rounds = rounds_of(plan.id)
    requests = waiting_requests()
    stops = {r.id: stop_for(plan, r) for r in requests}
    placed = [
        r
        for r in requests
        if r.resident.lat is not None and r.resident.lon is not None and stops[r.id].unserved_reason is None
    ]
    inst = RoundsInstance(
        hub=(plan.hub_lat, plan.hub_lon),
        stops=tuple(
            engine_stop(plan, stops[r.id], float(r.resident.lat or 0.0), float(r.resident.lon or 0.0)) for r in placed
        ),
        vehicles=tuple(engine_vehicle(r) for r in rounds),
        speed_kmh=plan.speed_kmh,
        road_factor=plan.road_factor,
    )
    progress(20, f"Planning {len(placed)} stops on {len(rounds)} rounds")
    by_round = {f"round-{r.id}": r for r in rounds}
    if placed and rounds:
        result = plan_rounds(
            inst,
            time_limit_s=float(plan.time_limit_s),
            provider=StraightLine(plan.road_factor),
            workers=int(current_app.config["ROUNDS_WORKERS"]),
        )
        for route in result.routes:
            rnd = by_round[route.vehicle]
            rnd.km, rnd.end_min = route.km, route.end_min
            for position, (sid, arrival) in enumerate(zip(route.stops, route.arrivals, strict=True)):
                stop = stops[int(sid.removeprefix("stop-"))]
                stop.round_id, stop.position, stop.arrival_min = rnd.id, position, arrival
        for sid, reason in result.unserved:
            stops[int(sid.removeprefix("stop-"))].unserved_reason = reason
    else:
        for r in placed:
            stops[r.id].unserved_reason = "no_room_on_any_round"
    for r in requests:
        if r.resident.lat is None or r.resident.lon is None:
            stops[r.id].unserved_reason = LOCATION_UNKNOWN
    progress(85, "Saving the draft plan")
    db.session.add_all(stops.values())
    db.session.flush()
    update_totals(plan, rounds, list(stops.values()))
    plan.state = "draft"
    db.session.flush()
    served = sum(1 for s in stops.values() if s.round_id is not None)
    log.info("round plan %s: %s stops, %s on rounds", plan.id, len(stops), served)
    return {"plan_id": plan.id, "stops": len(stops), "served": served}


# -- reading a plan ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoundRow:
    round: DeliveryRound
    stops: list[RoundStop]

    @property
    def name(self) -> str:
        volunteer = self.round.volunteer
        return volunteer.name if volunteer is not None else "A volunteer who has since been removed"

    @property
    def parcels(self) -> int:
        return sum(s.parcels for s in self.stops)

    @property
    def shift(self) -> str:
        return f"{clock(self.round.shift_start_min)} to {clock(self.round.shift_end_min)}"

    @property
    def back_at(self) -> str:
        return clock(self.round.end_min) if self.stops else ""


@dataclass(frozen=True)
class PlanView:
    plan: RoundPlan
    job: Job | None
    status: str  # planning | draft | approved | discarded | failed
    rounds: list[RoundRow]
    unserved: list[RoundStop]

    @property
    def progress(self) -> int:
        return self.job.progress if self.job else 0

    def stop(self, stop_id: int) -> RoundStop | None:
        """A stop of this plan, on a round or left out."""
        stops = [s for row in self.rounds for s in row.stops] + self.unserved
        return next((s for s in stops if s.id == stop_id), None)

    def can_move(self, stop: RoundStop) -> bool:
        """Whether the draft's page offers to put `stop` on another round (a resident with no known location, or
        who cannot take delivery while this plan delivers, cannot go on any)."""
        if stop.round_id is None:
            return stop.unserved_reason not in (LOCATION_UNKNOWN, WINDOW_OUTSIDE_PLAN) and bool(self.rounds)
        return len(self.rounds) > 1

    @property
    def message(self) -> str | None:
        return self.job.progress_message if self.job else None

    @property
    def served(self) -> int:
        return sum(len(r.stops) for r in self.rounds)


def plan_status(plan: RoundPlan, job: Job | None) -> str:
    if plan.state == "planning" and job is not None and job.state == "failed":
        return "failed"
    return plan.state


def get_plan(plan_id: int) -> RoundPlan:
    plan = db.session.get(RoundPlan, plan_id) if 0 < plan_id < 2**31 else None
    if plan is None:
        raise NotFound("No round plan with that id")
    return plan


def plan_view(plan_id: int) -> PlanView:
    plan = get_plan(plan_id)
    job = db.session.get(Job, plan.job_id) if plan.job_id else None
    rounds = rounds_of(plan.id)
    stops = stops_of(plan.id)
    rows = [RoundRow(r, [s for s in stops if s.round_id == r.id]) for r in rounds]
    # Left out: most urgent first, then by reference.
    unserved = sorted((s for s in stops if s.round_id is None), key=lambda s: (-s.request.urgency, s.request.reference))
    return PlanView(plan, job, plan_status(plan, job), rows, unserved)


def recent_plans(limit: int = 20) -> list[tuple[RoundPlan, str]]:
    rows = db.session.execute(
        select(RoundPlan, Job)
        .outerjoin(Job, RoundPlan.job_id == Job.id)
        .order_by(RoundPlan.created_at.desc(), RoundPlan.id.desc())
        .limit(limit)
    ).all()
    return [(plan, plan_status(plan, job)) for plan, job in rows]


def resident_places(stops: list[RoundStop]) -> dict[int, tuple[float, float]]:
    """Request id -> (lat, lon) for stops whose resident has a known location."""
    return {
        s.request_id: (float(s.request.resident.lat), float(s.request.resident.lon))
        for s in stops
        if s.request.resident.lat is not None and s.request.resident.lon is not None
    }
