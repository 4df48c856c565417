"""A person's decision on each matching proposal (UK GDPR Article 22), and the admin's auto-approval setting.

Every decision checks everything first and only then changes anything, so a refusal (an out-of-date
proposal, a volunteer who is now paused or full) changes nothing. Each decision is kept on the proposal
(who, when, what, why) and appended to the request's history as a `matching` event that names only ids.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from can_crm.extensions import db
from can_crm.models.base import utcnow
from can_crm.models.enums import REQUEST_TYPE_LABELS, EventKind, RequestType, Role, Status, values
from can_crm.models.matching import MatchingRun, MatchingSetting, MatchProposal
from can_crm.models.request import HelpRequest
from can_crm.models.user import User
from can_crm.models.volunteer import Volunteer
from can_crm.services.common import policy, times
from can_crm.services.common.errors import Conflict, FieldErrors, Forbidden, NotFound, ValidationError
from can_crm.services.common.ids import parse_id
from can_crm.services.common.validation import clean_text
from can_crm.services.requests import operations as request_service
from can_crm.services.requests.events import SYSTEM, Actor, record_event
from can_crm.services.volunteers import workload
from can_crm.unit_of_work import atomic

MAX_BATCH = 1000
INTERVAL_RANGE = (5, 10_080)  # five minutes to a week


def _load(proposal_ids: Iterable[int]) -> list[MatchProposal]:
    ids = sorted(set(proposal_ids))
    rows = list(
        db.session.scalars(
            select(MatchProposal)
            .where(MatchProposal.id.in_(ids))
            .options(joinedload(MatchProposal.request))
            .order_by(MatchProposal.id)
        ).unique()
    )
    if len(rows) != len(ids):
        missing = sorted(set(ids) - {p.id for p in rows})
        raise NotFound(f"No proposal with id {', '.join(str(i) for i in missing[:5])}", "proposal_ids")
    return rows


def get_proposal(proposal_id: int) -> MatchProposal:
    proposal = db.session.get(MatchProposal, proposal_id) if 0 < proposal_id < 2**31 else None
    if proposal is None:
        raise NotFound("No proposal with that id")
    return _load([proposal_id])[0]


def _stale(proposal: MatchProposal) -> str | None:
    """Why this proposal can no longer be decided, or None."""
    reference = proposal.request.reference
    if proposal.decision != "pending":
        return f"The proposal for {reference} has already been decided ({proposal.decision})"
    if proposal.request.status != Status.TRIAGED.value:
        status = proposal.request.status.replace("_", " ")
        return (
            f"The proposal for {reference} is out of date: the request is now {status}, not triaged. "
            "Nothing was changed"
        )
    return None


def _volunteer_problem(volunteer: Volunteer | None, load: workload.Load) -> str | None:
    if volunteer is None:
        return "the volunteer no longer exists"
    if not volunteer.is_available(times.today()):
        return f"volunteer #{volunteer.id} is now paused, isolating or inactive"
    return load.full_reason(volunteer)


def _record(proposal: MatchProposal, decision: str, actor: Actor, note: str | None, detail: str) -> None:
    proposal.decision = decision
    proposal.decided_by_id = actor.user_id
    proposal.decided_at = utcnow()
    proposal.decision_note = note
    record_event(
        proposal.request,
        actor,
        EventKind.MATCHING,
        reason=f"Matching run #{proposal.run_id}: proposal #{proposal.id} {detail}",
        volunteer_id=proposal.volunteer_id,
    )


@atomic
def approve(proposal_ids: Iterable[int], user: User | None, *, note: str | None = None) -> list[MatchProposal]:
    """Approve proposals: each request is offered to its proposed volunteer. All or nothing."""
    ids = list(proposal_ids)
    if not ids:
        raise ValidationError("Select at least one proposal to approve", "proposal_ids")
    if len(ids) > MAX_BATCH:
        raise ValidationError(f"Approve at most {MAX_BATCH} proposals at once", "proposal_ids")
    proposals = _load(ids)
    volunteers = {
        v.id: v
        for v in db.session.scalars(
            select(Volunteer)
            .where(Volunteer.id.in_({p.volunteer_id for p in proposals if p.volunteer_id}))
            .order_by(Volunteer.id)
        )
    }
    load = workload.loads(volunteers.values())
    problems: list[str] = []
    for proposal in proposals:
        problem = _stale(proposal)
        if problem is None and proposal.volunteer_id is None:
            problem = f"No volunteer was proposed for {proposal.request.reference}: choose one by hand instead"
        if problem is None and proposal.volunteer_id is not None:
            vid = proposal.volunteer_id
            trouble = _volunteer_problem(volunteers.get(vid), load.get(vid, workload.Load()))
            if trouble:
                problem = f"The proposal for {proposal.request.reference} cannot be approved: {trouble}"
        if problem:
            problems.append(problem)
        elif proposal.volunteer_id:
            load[proposal.volunteer_id] = load.get(proposal.volunteer_id, workload.Load()).plus_offer()
    if problems:
        raise Conflict(". ".join(p.rstrip(".") for p in problems[:10]) + ".")
    actor = policy.actor_for(user) if user is not None else Actor(role=SYSTEM)
    how = "approved" if user is not None else "auto-approved"
    for proposal in proposals:
        assert proposal.volunteer_id is not None
        request_service.assign_volunteer(proposal.request, proposal.volunteer_id, actor, within_limits=False)
        _record(proposal, "approved", actor, note, f"{how}: offered to volunteer #{proposal.volunteer_id}")
    db.session.flush()
    return proposals


@atomic
def approve_all(run_id: int, user: User) -> list[MatchProposal]:
    """Approve every proposal of the run that still waits for a decision and is in date."""
    ids = list(
        db.session.scalars(
            select(MatchProposal.id)
            .join(HelpRequest, MatchProposal.request_id == HelpRequest.id)
            .where(
                MatchProposal.run_id == run_id,
                MatchProposal.decision == "pending",
                MatchProposal.volunteer_id.is_not(None),
                HelpRequest.status == Status.TRIAGED.value,
            )
            .order_by(MatchProposal.id)
        )
    )
    if not ids:
        raise ValidationError("There are no proposals waiting for approval in this run", "proposal_ids")
    return approve(ids, user)


def _note(raw: object, *, required: bool, what: str) -> str | None:
    if raw is not None and not isinstance(raw, str):
        raise FieldErrors({"note": "The note must be text"})
    try:
        note = clean_text(raw, "note", "note", max_length=1000) or None
    except ValidationError as exc:
        raise FieldErrors({"note": exc.message}) from None
    if required and not note:
        raise FieldErrors({"note": f"Enter why you {what}"})
    return note


@atomic
def reject(proposal_id: int, user: User, note: object = None) -> MatchProposal:
    """Turn a proposal down: the request stays triaged for the next run or a hand assignment."""
    proposal = get_proposal(proposal_id)
    problem = _stale(proposal)
    if problem:
        raise Conflict(problem)
    if proposal.volunteer_id is None:
        raise Conflict(f"No volunteer was proposed for {proposal.request.reference}: there is nothing to reject")
    cleaned = _note(note, required=False, what="rejected it")
    _record(proposal, "rejected", policy.actor_for(user), cleaned, "rejected")
    db.session.flush()
    return proposal


def _volunteer_id(raw: object) -> int:
    return parse_id(raw, "volunteer_id", "Choose a volunteer", unknown="No volunteer with that id")


@atomic
def override(proposal_id: int, volunteer_id: object, user: User, note: object) -> MatchProposal:
    """Offer the request to a volunteer the coordinator chose instead (with the reason)."""
    proposal = get_proposal(proposal_id)
    problem = _stale(proposal)
    if problem:
        raise Conflict(problem)
    errors: dict[str, str] = {}
    chosen: int | None = None
    try:
        chosen = _volunteer_id(volunteer_id)
    except FieldErrors as exc:
        errors.update(exc.fields)
    try:
        cleaned = _note(note, required=True, what="chose a different volunteer")
    except FieldErrors as exc:
        errors.update(exc.fields)
    if chosen is not None and not errors.get("volunteer_id"):
        volunteer = db.session.get(Volunteer, chosen)
        if volunteer is None:
            errors["volunteer_id"] = "No volunteer with that id"
        elif volunteer.id == proposal.volunteer_id:
            errors["volunteer_id"] = "That is the proposed volunteer: approve the proposal instead"
        else:
            trouble = _volunteer_problem(volunteer, workload.load_of(volunteer))
            if trouble:
                errors["volunteer_id"] = f"Choose another volunteer: {trouble}"
    if errors:
        raise FieldErrors(errors)
    assert chosen is not None
    actor = policy.actor_for(user)
    request_service.assign_volunteer(proposal.request, chosen, actor, within_limits=False)
    proposal.override_volunteer_id = chosen
    _record(
        proposal,
        "overridden",
        actor,
        cleaned,
        f"overridden: offered to volunteer #{chosen} instead of "
        + (f"volunteer #{proposal.volunteer_id}" if proposal.volunteer_id else "no proposal"),
    )
    db.session.flush()
    return proposal


# -- auto-approval -------------------------------------------------------------------------------------


def auto_approve(run: MatchingRun) -> int:
    """For a scheduled run: approve the in-date proposals of each type whose setting an admin set to allow it."""
    allowed: dict[str, str] = {}
    for setting in db.session.scalars(
        select(MatchingSetting).where(MatchingSetting.auto_approve.is_(True)).order_by(MatchingSetting.request_type)
    ):
        changer = db.session.get(User, setting.updated_by_id) if setting.updated_by_id else None
        # Only an admin's explicit choice counts: a flag set any other way is ignored.
        if changer is None or changer.role != Role.ADMIN.value or setting.updated_at is None:
            continue
        changed_on = times.today(setting.updated_at).isoformat()
        allowed[setting.request_type] = f"auto-approved under setting changed by user #{changer.id} on {changed_on}"
    if not allowed:
        return 0
    proposals = db.session.scalars(
        select(MatchProposal)
        .where(
            MatchProposal.run_id == run.id, MatchProposal.decision == "pending", MatchProposal.volunteer_id.is_not(None)
        )
        .options(joinedload(MatchProposal.request))
        .order_by(MatchProposal.id)
    ).unique()
    approved = 0
    for proposal in proposals:
        note = allowed.get(proposal.request.type)
        if note is None or proposal.request.status != Status.TRIAGED.value:
            continue
        approve([proposal.id], None, note=note)
        approved += 1
    return approved


@atomic
def update_settings(user: User, data: Mapping[str, Mapping[str, Any]]) -> list[MatchingSetting]:
    """Admins only: per request type, run on a schedule (and how often) and whether to auto-approve."""
    if user.role != Role.ADMIN.value:
        raise Forbidden("Only an administrator can change matching settings")
    unknown = sorted(set(data) - set(values(RequestType)))
    if unknown:
        raise FieldErrors({"request_type": f"Unknown request type: {', '.join(u[:40] for u in unknown[:5])}"})
    errors: dict[str, str] = {}
    cleaned: dict[str, tuple[bool, int, bool]] = {}
    low, high = INTERVAL_RANGE
    for request_type, values_ in data.items():
        label = REQUEST_TYPE_LABELS[RequestType(request_type)].lower()
        raw = values_.get("interval_minutes")
        text = str(raw).strip() if raw is not None and not isinstance(raw, bool) else ""
        if not text:
            errors[f"{request_type}.interval_minutes"] = f"Enter how often to run matching for {label}, in minutes"
            continue
        if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
            errors[f"{request_type}.interval_minutes"] = (
                f"How often to run matching for {label} must be a whole number of minutes between {low} and {high}"
            )
            continue
        cleaned[request_type] = (bool(values_.get("auto_run")), int(text), bool(values_.get("auto_approve")))
    if errors:
        raise FieldErrors(errors)
    now = utcnow()
    rows = []
    for request_type, (auto_run, interval, auto_approve_) in cleaned.items():
        setting = db.session.get(MatchingSetting, request_type)
        if setting is None:
            setting = MatchingSetting(
                request_type=request_type, auto_run=False, auto_approve=False, interval_minutes=60
            )
            db.session.add(setting)
        if (setting.auto_run, setting.interval_minutes, setting.auto_approve) != (auto_run, interval, auto_approve_):
            setting.auto_run, setting.interval_minutes, setting.auto_approve = auto_run, interval, auto_approve_
            setting.updated_by_id, setting.updated_at = user.id, now
        rows.append(setting)
    db.session.flush()
    return rows
