"""/api/v1/matching: start a matching run, read its proposals, record a coordinator's decision on one."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import url_for
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import fields, validate

from can_crm.access import STAFF, roles
from can_crm.api.v1.errors import documents
from can_crm.api.v1.schemas import MAX_ID, StrictSchema, _id, _text
from can_crm.models.enums import RequestType, values
from can_crm.models.matching import MatchProposal
from can_crm.models.user import User
from can_crm.services.common.errors import NotFound
from can_crm.services.matching import decisions
from can_crm.services.matching import runs as matching_runs

blp = Blueprint("matching", __name__, url_prefix="/matching", description="Matching runs and decisions")
TAGS = ["matching"]
DECISIONS = ("approve", "reject", "override")


class RunInSchema(StrictSchema):
    request_types = fields.List(
        fields.String(metadata={"enum": values(RequestType)}),
        allow_none=True,
        metadata={"description": "Only these request types; none or empty means every type"},
    )


class DecisionInSchema(StrictSchema):
    decision = fields.String(
        required=True,
        validate=validate.OneOf(DECISIONS, error="decision must be one of: {choices}"),
        metadata={"enum": list(DECISIONS)},
    )
    volunteer_id = _id("override: the volunteer chosen instead")
    note = _text(1000, "Why (required for override)")


class RunStartedSchema(ma.Schema):
    class Meta:
        ordered = True

    run_id = fields.Integer()
    job_id = fields.Integer()
    links = fields.Dict(keys=fields.String(), values=fields.String())


class ProposalOutSchema(ma.Schema):
    class Meta:
        ordered = True

    id = fields.Integer()
    run_id = fields.Integer()
    reference = fields.String()
    type = fields.String()
    urgency = fields.Integer()
    request_status = fields.String()
    volunteer_id = fields.Integer(allow_none=True, metadata={"description": "The proposed volunteer; null if none"})
    km = fields.Float(allow_none=True)
    explanation = fields.String(metadata={"description": "Why this volunteer, or why none could be proposed"})
    unmatched_reason = fields.String(allow_none=True)
    decision = fields.String(metadata={"enum": ["pending", "approved", "rejected", "overridden", "superseded"]})
    decided_by_id = fields.Integer(allow_none=True, metadata={"description": "null when approved automatically"})
    decided_at = fields.DateTime(allow_none=True)
    override_volunteer_id = fields.Integer(allow_none=True)
    decision_note = fields.String(allow_none=True)
    actionable = fields.Boolean(metadata={"description": "Pending and its request is still triaged"})


class RunOutSchema(ma.Schema):
    class Meta:
        ordered = True

    id = fields.Integer()
    job_id = fields.Integer(allow_none=True)
    status = fields.String(metadata={"enum": ["running", "proposed", "failed"]})
    automatic = fields.Boolean()
    request_types = fields.List(fields.String())
    requests_considered = fields.Integer()
    volunteers_considered = fields.Integer()
    served_by_urgency = fields.Dict(keys=fields.String(), values=fields.Integer())
    total_km = fields.Float()
    optimal = fields.Boolean()
    created_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)
    proposals = fields.List(fields.Nested(ProposalOutSchema))


def _user() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def proposal_out(p: MatchProposal) -> dict[str, Any]:
    return {
        "id": p.id,
        "run_id": p.run_id,
        "reference": p.request.reference,
        "type": p.request.type,
        "urgency": p.request.urgency,
        "request_status": p.request.status,
        "volunteer_id": p.volunteer_id,
        "km": p.km,
        "explanation": p.explanation,
        "unmatched_reason": p.unmatched_reason,
        "decision": p.decision,
        "decided_by_id": p.decided_by_id,
        "decided_at": p.decided_at,
        "override_volunteer_id": p.override_volunteer_id,
        "decision_note": p.decision_note,
        "actionable": matching_runs.is_actionable(p),
    }


@blp.route("/runs", methods=["POST"], tags=TAGS)
@roles(*STAFF)
@blp.arguments(RunInSchema)
@blp.response(202, RunStartedSchema, description="Started; follow the job, then read the run")
@documents(blp, 401, 403, 422)
def start_run(data: dict[str, Any]) -> Any:
    """Start a matching run over the open triaged requests (coordinators)

    The run is a background job: poll `links.job` until it has finished, then read `links.self`.
    """
    run = matching_runs.start_run(_user(), data.get("request_types"))
    links = {
        "self": url_for("api_v1.matching.get_run", run_id=run.id, _external=True),
        "job": url_for("api_v1.jobs.get_job", job_id=run.job_id, _external=True),
    }
    return {"run_id": run.id, "job_id": run.job_id, "links": links}, 202, {"Location": links["self"]}


@blp.route("/runs/<int:run_id>", methods=["GET"], tags=TAGS)
@roles(*STAFF)
@blp.response(200, RunOutSchema)
@documents(blp, 401, 403, 404)
def get_run(run_id: int) -> Any:
    """Read a run: its status, figures and one proposal per request it considered"""
    if run_id > MAX_ID:
        raise NotFound("No matching run with that id")
    view = matching_runs.run_view(run_id, with_options=False)
    run = view.run
    return {
        "id": run.id,
        "job_id": run.job_id,
        "status": view.status,
        "automatic": run.automatic,
        "request_types": run.request_types,
        "requests_considered": run.requests_considered,
        "volunteers_considered": run.volunteers_considered,
        "served_by_urgency": run.served_by_urgency,
        "total_km": run.total_km,
        "optimal": run.optimal,
        "created_at": run.created_at,
        "finished_at": run.finished_at,
        "proposals": [proposal_out(p) for p in view.proposals],
    }


@blp.route("/proposals/<int:proposal_id>/decision", methods=["POST"], tags=TAGS)
@roles(*STAFF)
@blp.arguments(DecisionInSchema)
@blp.response(200, ProposalOutSchema)
@documents(blp, 401, 403, 404, 409, 422)
def decide(data: dict[str, Any], proposal_id: int) -> Any:
    """Decide on a proposal: approve it, reject it, or override it with another volunteer (coordinators)

    Approving offers the request to the proposed volunteer; overriding offers it to `volunteer_id` and needs a
    `note`. A proposal whose request is no longer triaged is refused with 409 and nothing changes.
    """
    if proposal_id > MAX_ID:
        raise NotFound("No proposal with that id")
    decisions.get_proposal(proposal_id)
    user = _user()
    if data["decision"] == "approve":
        decisions.approve([proposal_id], user, note=data.get("note"))
    elif data["decision"] == "reject":
        decisions.reject(proposal_id, user, data.get("note"))
    else:
        decisions.override(proposal_id, data.get("volunteer_id"), user, data.get("note"))
    return proposal_out(decisions.get_proposal(proposal_id))
