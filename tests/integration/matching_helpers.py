"""Helpers for the matching tests: place people on the map, triage, run and reload."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from can_crm import unit_of_work
from can_crm.extensions import db
from can_crm.models.matching import MatchingRun, MatchProposal
from can_crm.models.request import HelpRequest, RequestEvent
from can_crm.models.resident import Resident
from can_crm.services.matching import runs as matching_runs
from can_crm.services.requests import operations as request_service
from can_crm.services.requests.events import Actor

COORD = Actor(role="coordinator")
# Fulham, and points a known distance east of it (0.01 degrees of longitude is about 0.68 km here).
BASE_LAT, BASE_LON = 51.4800, -0.2100


def east(km: float) -> tuple[float, float]:
    return BASE_LAT, BASE_LON + km / 68.0 * 1.0


def triaged(make_request: Any, at_km: float = 0.0, **triage: Any) -> HelpRequest:
    """A triaged request whose resident lives `at_km` east of the base point."""
    request_fields = {k: triage.pop(k) for k in ("type",) if k in triage}
    req = make_request(request={"urgency": triage.get("urgency", 2), **request_fields})
    request_service.triage(req, {"urgency": str(triage.pop("urgency", 2)), **triage}, COORD)
    resident = db.session.get(Resident, req.resident_id)
    resident.lat, resident.lon = east(at_km)
    unit_of_work.commit()
    return req


def volunteer(make_volunteer: Any, at_km: float = 0.0, **fields: Any) -> Any:
    extra = {k: fields.pop(k) for k in ("isolating_until",) if k in fields}
    v = make_volunteer(**fields)
    v.lat, v.lon = east(at_km)
    for key, value in extra.items():
        setattr(v, key, value)
    db.session.flush()
    unit_of_work.commit()
    return v


def run_matching(app: Any, database: Any, user: Any = None, **kwargs: Any) -> MatchingRun:
    run = matching_runs.start_run(user, **kwargs)
    unit_of_work.commit()
    app.extensions["can_queue"].wait()
    database.session.expire_all()
    found = database.session.get(MatchingRun, run.id)
    assert found is not None
    return found


def proposals(run: MatchingRun) -> dict[int, MatchProposal]:
    rows = db.session.scalars(select(MatchProposal).where(MatchProposal.run_id == run.id).order_by(MatchProposal.id))
    return {p.request_id: p for p in rows}


def matching_events(req: HelpRequest) -> list[RequestEvent]:
    return list(
        db.session.scalars(
            select(RequestEvent)
            .where(RequestEvent.request_id == req.id, RequestEvent.kind == "matching")
            .order_by(RequestEvent.id)
        )
    )
