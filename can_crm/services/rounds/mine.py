"""A volunteer's delivery round on their phone: the stops in order, accept or decline the round, and the maps link.

Disclosure follows the tasks' rules exactly (`volunteers.tasks.list_tasks` decides): a stop shows the resident's
name, address and phone only once the volunteer has accepted it, and for VOLUNTEER_DETAILS_HOURS after delivery;
before that, only what an offer shows (the postcode district, the time, the parcels). The maps link (hub, the
accepted stops still to deliver as waypoints, back to the hub) is built from those accepted stops only.
Reporting a stop is the task progress service (`tasks.report_progress`), through the same form and endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from can_crm.extensions import db
from can_crm.models.base import utcnow
from can_crm.models.enums import Status
from can_crm.models.request import HelpRequest
from can_crm.models.resident import Resident
from can_crm.models.rounds import DeliveryRound, RoundPlan, RoundStop
from can_crm.models.volunteer import Volunteer
from can_crm.services.common import times
from can_crm.services.common.errors import NotFound
from can_crm.services.common.times import clock
from can_crm.services.requests.events import Actor
from can_crm.services.volunteers import offers, tasks
from can_crm.unit_of_work import atomic
from geo.postcodes import postcode_district

# A round stays on the phone while any stop is live; plans older than this are not looked at.
RECENT_DAYS = 2
ACTIVE = (Status.ACCEPTED.value, Status.IN_PROGRESS.value)
# Google's directions URL takes at most this many waypoints on a phone; later stops follow in a second link.
MAX_WAYPOINTS = 9


@dataclass(frozen=True)
class StopView:
    number: int
    reference: str
    status: str  # the request's status, or "gone" when it is no longer this volunteer's
    arrival: str
    parcels: int
    window: str  # when the resident can take delivery, within the plan's hours: "09:00 to 12:00"
    district: str
    task: tasks.TaskView | None  # the resident's details: accepted (or just delivered) stops only


@dataclass(frozen=True)
class RoundView:
    round_id: int
    plan_id: int
    day: str
    hub_name: str
    shift: str
    back_at: str
    km: float
    stops: list[StopView]
    maps_urls: list[str]

    @property
    def offered(self) -> int:
        return sum(1 for s in self.stops if s.status == Status.MATCHED.value)

    @property
    def to_deliver(self) -> int:
        return sum(1 for s in self.stops if s.status in ACTIVE)


def _maps_urls(hub: tuple[float, float], points: list[tuple[float, float]]) -> list[str]:
    """Directions from the hub through `points` in order and back, in legs of at most MAX_WAYPOINTS stops."""
    urls = []
    here = hub
    for start in range(0, len(points), MAX_WAYPOINTS):
        leg = points[start : start + MAX_WAYPOINTS]
        last = start + MAX_WAYPOINTS >= len(points)
        end = hub if last else leg[-1]
        via = leg if last else leg[:-1]
        query = {
            "api": "1",
            "origin": f"{here[0]:.5f},{here[1]:.5f}",
            "destination": f"{end[0]:.5f},{end[1]:.5f}",
            "travelmode": "driving",
        }
        if via:
            query["waypoints"] = "|".join(f"{lat:.5f},{lon:.5f}" for lat, lon in via)
        urls.append("https://www.google.com/maps/dir/?" + urlencode(query))
        here = end
    return urls


def my_rounds(volunteer: Volunteer, now: datetime | None = None) -> list[RoundView]:
    """This volunteer's rounds of approved plans that still have a stop for them, newest first."""
    now = now or utcnow()
    since = times.today(now) - timedelta(days=RECENT_DAYS)
    rounds = list(
        db.session.scalars(
            select(DeliveryRound)
            .join(RoundPlan, RoundPlan.id == DeliveryRound.plan_id)
            .where(
                DeliveryRound.volunteer_id == volunteer.id,
                RoundPlan.state == "approved",
                RoundPlan.day >= since,
            )
            .options(joinedload(DeliveryRound.plan))
            .order_by(RoundPlan.day.desc(), DeliveryRound.id.desc())
        ).unique()
    )
    if not rounds:
        return []
    rows = db.session.execute(
        select(RoundStop, HelpRequest, Resident.postcode, Resident.lat, Resident.lon)
        .join(HelpRequest, HelpRequest.id == RoundStop.request_id)
        .join(Resident, Resident.id == HelpRequest.resident_id)
        .where(RoundStop.round_id.in_([r.id for r in rounds]))
        .order_by(RoundStop.round_id, RoundStop.position, RoundStop.id)
    ).all()
    # The tasks' own disclosure rule: the references whose details this volunteer may see now.
    disclosed = {t.reference: t for t in tasks.list_tasks(volunteer, now)}
    views = []
    for rnd in rounds:
        stops, points = [], []
        mine = [row for row in rows if row[0].round_id == rnd.id]
        for n, (stop, request, postcode, lat, lon) in enumerate(mine, start=1):
            ours = request.volunteer_id == volunteer.id
            task = disclosed.get(request.reference) if ours else None
            status = request.status if ours else "gone"
            stops.append(
                StopView(
                    n,
                    request.reference,
                    status,
                    clock(stop.arrival_min),
                    stop.parcels,
                    f"{clock(stop.window_start_min)} to {clock(stop.window_end_min)}",
                    postcode_district(postcode),
                    task,
                )
            )
            if task is not None and status in ACTIVE and lat is not None and lon is not None:
                points.append((float(lat), float(lon)))
        live = [s for s in stops if s.status == Status.MATCHED.value or s.status in ACTIVE or s.task is not None]
        if not live:
            continue
        plan = rnd.plan
        views.append(
            RoundView(
                round_id=rnd.id,
                plan_id=plan.id,
                day=plan.day.strftime("%A %-d %B %Y"),
                hub_name=plan.hub_name,
                shift=f"{clock(rnd.shift_start_min)} to {clock(rnd.shift_end_min)}",
                back_at=clock(rnd.end_min),
                km=rnd.km,
                stops=stops,
                maps_urls=_maps_urls((plan.hub_lat, plan.hub_lon), points),
            )
        )
    return views


def _offered(volunteer: Volunteer, round_id: int) -> list[str]:
    """References on this round still offered to this volunteer (matched with them), in round order."""
    rnd = db.session.get(DeliveryRound, round_id) if 0 < round_id < 2**31 else None
    if rnd is None or rnd.volunteer_id != volunteer.id:
        raise NotFound("That round is not yours")
    return list(
        db.session.scalars(
            select(HelpRequest.reference)
            .join(RoundStop, RoundStop.request_id == HelpRequest.id)
            .where(
                RoundStop.round_id == rnd.id,
                HelpRequest.volunteer_id == volunteer.id,
                HelpRequest.status == Status.MATCHED.value,
            )
            .order_by(RoundStop.position, RoundStop.id)
        )
    )


@atomic
def accept_round(volunteer: Volunteer, round_id: int, actor: Actor) -> int:
    """Accept every stop still offered on the round (each through the offers service); return how many."""
    references = _offered(volunteer, round_id)
    if not references:
        raise NotFound("Nothing on this round is waiting for your answer")
    for reference in references:
        offers.accept(volunteer, reference, actor)
    return len(references)


@atomic
def decline_round(volunteer: Volunteer, round_id: int, actor: Actor, reason: str | None = None) -> int:
    """Decline every stop still offered on the round: each goes back to triage for another round or volunteer."""
    references = _offered(volunteer, round_id)
    if not references:
        raise NotFound("Nothing on this round is waiting for your answer")
    for reference in references:
        offers.decline(volunteer, reference, actor, reason)
    return len(references)
