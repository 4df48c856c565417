"""Helpers for the delivery-round tests: food-parcel requests placed on the map, drivers, and a planned draft."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from can_crm import unit_of_work
from can_crm.extensions import db
from can_crm.models.request import HelpRequest, RequestEvent
from can_crm.models.rounds import DeliveryRound, RoundPlan, RoundStop
from can_crm.services.rounds import plans
from tests.integration.matching_helpers import BASE_LAT, BASE_LON, triaged, volunteer

HUB = "Test hub"


@pytest.fixture
def rounds_config(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """One hub at the base point, and a 1-second search (the engine's quality is tested in tests/unit/matching)."""
    monkeypatch.setitem(app.config, "FOOD_HUBS", ((HUB, BASE_LAT, BASE_LON),))
    monkeypatch.setitem(app.config, "ROUNDS_TIME_LIMIT_SECONDS", 1)


def food(make_request: Any, at_km: float, urgency: int = 2) -> HelpRequest:
    """A triaged food-parcel request whose resident lives `at_km` east of the hub."""
    return triaged(make_request, at_km, urgency=urgency, type="food_parcel")


def driver(make_volunteer: Any, name: str = "Dee Driver", **fields: Any) -> Any:
    return volunteer(make_volunteer, 0.0, name=name, skills=["driving"], **fields)


def choices(*rounds: tuple[Any, int, str, str], window: tuple[str, str] = ("09:00", "17:00")) -> dict[str, Any]:
    """The planning form's data: (volunteer, parcels, shift start, shift end) per round."""
    return {
        "hub": HUB,
        "window_start": window[0],
        "window_end": window[1],
        "vehicles": {
            v.id: {"include": "y", "capacity": str(cap), "shift_start": start, "shift_end": end}
            for v, cap, start, end in rounds
        },
    }


def plan_now(app: Any, database: Any, user: Any, data: dict[str, Any]) -> RoundPlan:
    plan = plans.start_plan(user, data)
    unit_of_work.commit()
    app.extensions["can_queue"].wait()
    database.session.expire_all()
    found = database.session.get(RoundPlan, plan.id)
    assert found is not None
    return found


def rounds_of(plan: RoundPlan) -> list[DeliveryRound]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(DeliveryRound).where(DeliveryRound.plan_id == plan.id).order_by(DeliveryRound.position)
        )
    )


def stops_on(rnd: DeliveryRound) -> list[RoundStop]:
    return list(db.session.scalars(select(RoundStop).where(RoundStop.round_id == rnd.id).order_by(RoundStop.position)))


def stop_for(plan: RoundPlan, request: HelpRequest) -> RoundStop:
    db.session.expire_all()
    found = db.session.scalar(select(RoundStop).where(RoundStop.plan_id == plan.id, RoundStop.request_id == request.id))
    assert found is not None
    return found


def events(request: HelpRequest) -> list[RequestEvent]:
    return list(
        db.session.scalars(select(RequestEvent).where(RequestEvent.request_id == request.id).order_by(RequestEvent.id))
    )
