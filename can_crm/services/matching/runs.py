"""Matching runs: gather triaged requests and available volunteers, ask `matching.solve`, store proposals.

The engine only proposes. A coordinator decides on each proposal (see `matching_decisions`), or, for a
request type an admin has explicitly allowed, a scheduled run approves its own proposals and says so on
the record (UK GDPR Article 22: the proposal and the decision are both kept).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

import matching
from can_crm.extensions import db
from can_crm.models.base import utcnow
from can_crm.models.enums import REQUEST_TYPE_LABELS, EventKind, RequestType, Role, Status, VolunteerStatus, values
from can_crm.models.job import Job
from can_crm.models.matching import MatchingRun, MatchingSetting, MatchProposal
from can_crm.models.request import HelpRequest, RequestEvent
from can_crm.models.resident import Resident
from can_crm.models.user import User
from can_crm.models.volunteer import Volunteer
from can_crm.services.common import jobs, times
from can_crm.services.common.errors import FieldErrors, NotFound
from can_crm.services.volunteers import vetting, workload
from can_crm.unit_of_work import atomic
from matching.model import Bound

log = logging.getLogger(__name__)

RUN_JOB = "matching_run"
# A volunteer's load: requests offered to or being done by them.

ProgressFn = Callable[[int, str], None]


# -- starting a run ----------------------------------------------------------------------------------


def clean_types(raw: object) -> list[str]:
    """Request types to match, in the enum's order; nothing (None, []) means every type."""
    if raw is None or raw == "":
        return []
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list | tuple) or not all(isinstance(t, str) for t in items):
        raise FieldErrors({"request_types": "Request types must be a list of request type names"})
    unknown = sorted({t for t in items if t not in values(RequestType)})
    if unknown:
        raise FieldErrors({"request_types": f"Unknown request type: {', '.join(u[:40] for u in unknown[:5])}"})
    return [t for t in values(RequestType) if t in items]


@atomic
def start_run(user: User | None, request_types: object = None, automatic: bool = False) -> MatchingRun:
    """Record a run and its job (the job is queued once the caller's transaction commits)."""
    types = clean_types(request_types)
    user_id = user.id if user is not None else None
    run = MatchingRun(
        started_by_id=user_id,
        automatic=automatic,
        request_types=types,
        state="running",
        created_at=utcnow(),
        served_by_urgency={},
        stats={},
    )
    db.session.add(run)
    db.session.flush()
    job = jobs.start_job(RUN_JOB, {"run_id": run.id}, user_id)
    run.job_id = job.id
    db.session.flush()
    log.info("matching run %s started (job %s, automatic=%s)", run.id, job.id, automatic)
    return run


# -- the job -------------------------------------------------------------------------------------------


LOCATION_UNKNOWN = "location_unknown"


def _unplaced_requests(types: list[str]) -> list[HelpRequest]:
    """Triaged requests whose resident's location is unknown: listed as unmatched until a coordinator sets it."""
    query = (
        select(HelpRequest)
        .join(Resident, HelpRequest.resident_id == Resident.id)
        .where(HelpRequest.status == Status.TRIAGED.value, or_(Resident.lat.is_(None), Resident.lon.is_(None)))
        .order_by(HelpRequest.id)
    )
    if types:
        query = query.where(HelpRequest.type.in_(types))
    return list(db.session.scalars(query))


def _open_requests(types: list[str]) -> list[HelpRequest]:
    query = (
        select(HelpRequest)
        .join(Resident, HelpRequest.resident_id == Resident.id)
        .where(HelpRequest.status == Status.TRIAGED.value, Resident.lat.is_not(None), Resident.lon.is_not(None))
        .options(joinedload(HelpRequest.resident))
        .order_by(HelpRequest.id)
    )
    if types:
        query = query.where(HelpRequest.type.in_(types))
    return list(db.session.scalars(query).unique())


def available_volunteers(today: date, *, placed_only: bool) -> list[tuple[Volunteer, int]]:
    """Volunteers who may be offered work today, with their spare capacity (> 0), by name.

    Paused, isolating and inactive volunteers never appear: SQL filters them, `is_available` double-checks.
    """
    query = select(Volunteer).where(
        Volunteer.active.is_(True),
        # Vetted volunteers only: nobody waiting for vetting (or rejected, or gone) is ever offered work.
        Volunteer.status == VolunteerStatus.ACTIVE.value,
        or_(Volunteer.paused_until.is_(None), Volunteer.paused_until < today),
        or_(Volunteer.isolating_until.is_(None), Volunteer.isolating_until < today),
    )
    if placed_only:
        query = query.where(Volunteer.lat.is_not(None), Volunteer.lon.is_not(None))
    rows = [v for v in db.session.scalars(query.order_by(Volunteer.name, Volunteer.id)) if v.is_available(today)]
    load = workload.loads()
    spare = [(v, load.get(v.id, workload.Load()).room(v)) for v in rows]
    return [(v, room) for v, room in spare if room > 0]


def declined_by(request_ids: list[int]) -> dict[int, set[int]]:
    """Volunteers who turned each request down before: a volunteer moved it from matched (or accepted) back to
    triaged. The history records the volunteer each such event concerns."""
    if not request_ids:
        return {}
    rows = db.session.execute(
        select(RequestEvent.request_id, RequestEvent.volunteer_id)
        .where(
            RequestEvent.request_id.in_(request_ids),
            RequestEvent.kind == EventKind.TRANSITION.value,
            RequestEvent.to_status == Status.TRIAGED.value,
            RequestEvent.from_status.in_([Status.MATCHED.value, Status.ACCEPTED.value]),
            RequestEvent.actor_role == Role.VOLUNTEER.value,
            RequestEvent.volunteer_id.is_not(None),
        )
        .order_by(RequestEvent.request_id, RequestEvent.id)
    ).all()
    declined: dict[int, set[int]] = {}
    for request_id, volunteer_id in rows:
        declined.setdefault(request_id, set()).add(int(volunteer_id))
    return declined


def last_helpers(resident_ids: list[int]) -> dict[int, int]:
    """The volunteer who last delivered for each resident (continuity of care)."""
    if not resident_ids:
        return {}
    rows = db.session.execute(
        select(HelpRequest.resident_id, HelpRequest.volunteer_id)
        .where(
            HelpRequest.resident_id.in_(resident_ids),
            HelpRequest.volunteer_id.is_not(None),
            HelpRequest.delivered_at.is_not(None),
            HelpRequest.status.in_([Status.DELIVERED.value, Status.CONFIRMED.value, Status.CLOSED.value]),
        )
        .order_by(HelpRequest.resident_id, HelpRequest.delivered_at.desc(), HelpRequest.id.desc())
    ).all()
    helpers: dict[int, int] = {}
    for resident_id, volunteer_id in rows:
        helpers.setdefault(resident_id, volunteer_id)
    return helpers


# The engine's explanations name volunteers by the id they are given: "volunteer #12 is 0.40 km away".
_VOLUNTEER = "volunteer #"


def engine_volunteer_id(volunteer_id: int) -> str:
    return f"{_VOLUNTEER}{volunteer_id}"


def db_volunteer_id(engine_id: str) -> int:
    return int(engine_id.removeprefix(_VOLUNTEER))


def build_instance(
    requests: list[HelpRequest], volunteers: list[tuple[Volunteer, int]]
) -> tuple[list[matching.Request], list[matching.Volunteer]]:
    """The engine's view: ids as strings, spare capacity as capacity, and nothing personal."""
    today = times.today()
    known = {v.id for v, _ in volunteers}
    declined = declined_by([r.id for r in requests])
    helpers = last_helpers(sorted({r.resident_id for r in requests}))
    engine_requests = []
    for r in requests:
        preferred = helpers.get(r.resident_id)
        excluded = declined.get(r.id, set()) & known
        engine_requests.append(
            matching.Request(
                id=str(r.id),
                lat=float(r.resident.lat or 0.0),  # placed: _open_requests takes located residents only
                lon=float(r.resident.lon or 0.0),
                urgency=int(r.urgency),
                skills=frozenset(r.required_skills or ()),
                min_dbs=r.min_dbs or "none",
                excluded=frozenset(engine_volunteer_id(v) for v in sorted(excluded)),
                preferred=engine_volunteer_id(preferred) if preferred in known and preferred not in excluded else None,
            )
        )
    engine_volunteers = [
        matching.Volunteer(
            id=engine_volunteer_id(v.id),
            lat=float(v.lat or 0.0),  # placed: available_volunteers(placed_only=True)
            lon=float(v.lon or 0.0),
            skills=frozenset(v.skills or ()),
            # An expired check counts as none: it stops new offers that need it.
            dbs=vetting.effective_dbs_level(v, today),
            max_km=float(v.max_km),
            capacity=spare,
        )
        for v, spare in volunteers
    ]
    return engine_requests, engine_volunteers


def bound_json(bound: Bound | None) -> dict[str, Any] | None:
    """The proven bound as stored on the run: most requests of each urgency any answer could match, and the
    fewest km an answer matching as many as this one could travel."""
    if bound is None:
        return None
    return {
        "served_by_urgency": {str(u): int(n) for u, n in sorted(bound.served_by_urgency.items())},
        "km_lower_bound": round(float(bound.km_lower_bound), 3),
    }


def _json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def execute_run(run_id: int, progress: ProgressFn) -> dict[str, Any]:
    """The `matching_run` job. Idempotent: a run that already has its proposals is left alone."""
    run = db.session.get(MatchingRun, run_id)
    if run is None:
        return {"run_id": run_id, "skipped": 1}
    if run.state != "running":
        return {"run_id": run.id, "proposals": run.requests_considered}
    progress(5, "Loading triaged requests and available volunteers")
    requests = _open_requests(list(run.request_types or []))
    volunteers = available_volunteers(times.today(), placed_only=True)
    engine_requests, engine_volunteers = build_instance(requests, volunteers)
    progress(30, f"Matching {len(requests)} requests with {len(volunteers)} volunteers")
    # The app's budget (issue 13): past it the engine answers with the best plan found and a proven bound.
    limit = float(current_app.config["MATCHING_TIME_LIMIT_SECONDS"])
    result = matching.solve(engine_requests, engine_volunteers, matching.SolveOptions(time_limit_s=limit))
    progress(80, "Saving the proposals")
    request_ids = [r.id for r in requests]
    if request_ids:
        superseded = db.session.scalars(
            select(MatchProposal)
            .where(
                MatchProposal.request_id.in_(request_ids),
                MatchProposal.decision == "pending",
                MatchProposal.run_id != run.id,
            )
            .order_by(MatchProposal.id)
        )
        for old in superseded:
            old.decision = "superseded"
    proposals = (
        [
            MatchProposal(
                run_id=run.id,
                request_id=int(a.request),
                volunteer_id=db_volunteer_id(a.volunteer),
                km=round(a.km, 3),
                explanation=a.explanation,
                decision="pending",
            )
            for a in result.assignments
        ]
        + [
            MatchProposal(
                run_id=run.id,
                request_id=int(u.request),
                explanation=u.detail,
                unmatched_reason=u.reason,
                decision="pending",
            )
            for u in result.unmatched
        ]
        + [
            MatchProposal(
                run_id=run.id,
                request_id=r.id,
                explanation="The resident's location is unknown: set it on the request page, then match again",
                unmatched_reason=LOCATION_UNKNOWN,
                decision="pending",
            )
            for r in _unplaced_requests(list(run.request_types or []))
        ]
    )
    proposals.sort(key=lambda p: p.request_id)
    db.session.add_all(proposals)
    run.state = "proposed"
    run.requests_considered = len(requests)
    run.volunteers_considered = len(volunteers)
    run.served_by_urgency = {str(k): int(v) for k, v in sorted(result.served_by_urgency.items())}
    run.total_km = round(float(result.total_km), 3)
    run.optimal = bool(result.optimal)
    run.bound = bound_json(result.bound) if not result.optimal else None
    run.stats = _json_safe({k: v for k, v in result.stats.items() if k != "history"})
    run.finished_at = utcnow()
    db.session.flush()
    log.info("matching run %s: %s proposals, %s matched", run.id, len(proposals), len(result.assignments))
    return {
        "run_id": run.id,
        "proposals": len(proposals),
        "matched": len(result.assignments),
        "unmatched": len(result.unmatched),
    }


# -- reading runs ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunView:
    run: MatchingRun
    job: Job | None
    status: str  # running | proposed | failed
    proposals: list[MatchProposal]
    # For a hand override: every volunteer who can take work now, with spare capacity.
    options: list[tuple[Volunteer, int]]

    @property
    def progress(self) -> int:
        return self.job.progress if self.job else 0

    @property
    def message(self) -> str | None:
        return self.job.progress_message if self.job else None

    @property
    def actionable(self) -> list[MatchProposal]:
        return [p for p in self.proposals if is_actionable(p) and p.volunteer_id is not None]


def is_actionable(proposal: MatchProposal) -> bool:
    """Waiting for a decision and still in date (its request is still triaged)."""
    return proposal.decision == "pending" and proposal.request.status == Status.TRIAGED.value


def run_status(run: MatchingRun, job: Job | None) -> str:
    if run.state == "running" and job is not None and job.state == "failed":
        return "failed"
    return run.state


def get_run(run_id: int) -> MatchingRun:
    run = db.session.get(MatchingRun, run_id) if 0 < run_id < 2**31 else None
    if run is None:
        raise NotFound("No matching run with that id")
    return run


def run_view(run_id: int, *, with_options: bool = True) -> RunView:
    run = get_run(run_id)
    job = db.session.get(Job, run.job_id) if run.job_id else None
    proposals = list(
        db.session.scalars(
            select(MatchProposal)
            .where(MatchProposal.run_id == run.id)
            .options(
                joinedload(MatchProposal.request),
                joinedload(MatchProposal.volunteer),
                joinedload(MatchProposal.override_volunteer),
            )
            .order_by(MatchProposal.id)
        ).unique()
    )
    # Proposed matches first, most urgent first; then what could not be matched.
    proposals.sort(key=lambda p: (p.volunteer_id is None, -p.request.urgency, p.request.reference, p.id))
    options = available_volunteers(times.today(), placed_only=False) if with_options else []
    return RunView(run, job, run_status(run, job), proposals, options)


def recent_runs(limit: int = 20) -> list[tuple[MatchingRun, str]]:
    rows = db.session.execute(
        select(MatchingRun, Job)
        .outerjoin(Job, MatchingRun.job_id == Job.id)
        .order_by(MatchingRun.created_at.desc(), MatchingRun.id.desc())
        .limit(limit)
    ).all()
    return [(run, run_status(run, job)) for run, job in rows]


def type_choices() -> list[tuple[str, str]]:
    return [(t.value, REQUEST_TYPE_LABELS[t]) for t in RequestType]


# -- the schedule ----------------------------------------------------------------------------------


def settings_rows() -> list[MatchingSetting]:
    """One setting per request type, in the enum's order (defaults for types never configured)."""
    query = select(MatchingSetting).order_by(MatchingSetting.request_type)
    stored = {s.request_type: s for s in db.session.scalars(query)}
    return [
        stored.get(t) or MatchingSetting(request_type=t, auto_run=False, auto_approve=False, interval_minutes=60)
        for t in values(RequestType)
    ]


def run_scheduled(now: datetime | None = None) -> MatchingRun | None:
    """Start one run over every request type whose interval has passed; None when nothing is due.

    Types are matched together so they share the volunteers fairly. While an automatic run is still
    waiting or working, no other starts (a stopped worker must not pile up runs).

    Trigger: the timer thread in every app process (can_crm.jobs.sweeper.periodic, every JOB_SWEEP_SECONDS),
    or `flask --app wsgi run-matching --scheduled` from cron where no web process runs.
    """
    now = now or utcnow()
    pending = db.session.scalar(
        select(func.count())
        .select_from(MatchingRun)
        .join(Job, MatchingRun.job_id == Job.id)
        .where(MatchingRun.automatic.is_(True), MatchingRun.state == "running", Job.state.in_(["queued", "running"]))
    )
    if pending:
        log.info("scheduled matching skipped: an automatic run is still in progress")
        return None
    settings = db.session.scalars(
        select(MatchingSetting)
        .where(MatchingSetting.auto_run.is_(True))
        .order_by(MatchingSetting.request_type)
        .with_for_update(skip_locked=True)
    ).all()
    due = [s for s in settings if s.last_run_at is None or s.last_run_at + timedelta(minutes=s.interval_minutes) <= now]
    if not due:
        return None
    for setting in due:
        setting.last_run_at = now
    return start_run(None, [s.request_type for s in due], automatic=True)
