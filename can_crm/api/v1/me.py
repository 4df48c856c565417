"""/api/v1/me: a volunteer's own offers, tasks, progress and nearby requests (bearer token or session)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import jsonify
from flask_login import current_user
from flask_smorest import Blueprint

from can_crm.access import roles
from can_crm.api.v1 import volunteer_schemas as schemas
from can_crm.api.v1.errors import documents
from can_crm.models.enums import Role
from can_crm.models.volunteer import Volunteer
from can_crm.services.requests.events import Actor
from can_crm.services.requests.references import normalise_reference
from can_crm.services.volunteers import nearby, offers, profiles, tasks

blp = Blueprint("me", __name__, url_prefix="/me", description="A volunteer's own offers and tasks")
TAGS = ["me"]
VOLUNTEERS = (Role.VOLUNTEER,)


def _me() -> tuple[Volunteer, Actor]:
    volunteer = profiles.require_for_user(current_user)
    return volunteer, Actor(role=Role.VOLUNTEER.value, user_id=current_user.id, volunteer_id=volunteer.id)


def _ref(reference: str) -> str:
    # An unparseable reference matches nothing: the services answer 404 / 409 as for any other.
    return normalise_reference(reference) or reference[:20]


@blp.route("/offers", methods=["GET"], tags=TAGS)
@roles(*VOLUNTEERS)
@blp.response(200, schemas.OfferListSchema)
@documents(blp, 401, 403, 404)
def list_offers() -> Any:
    """Requests offered to me (matched with me): what, when, roughly where; never who or the exact address"""
    volunteer, _ = _me()
    return {"items": [asdict(o) for o in offers.list_offers(volunteer)]}


@blp.route("/offers/<reference>/accept", methods=["POST"], tags=TAGS)
@roles(*VOLUNTEERS)
@blp.response(200, schemas.TaskOutSchema, description="The task, now with the address and phone")
@documents(blp, 401, 403, 404, 409)
def accept_offer(reference: str) -> Any:
    """Accept an offer: the request becomes `accepted` and appears in my tasks"""
    volunteer, actor = _me()
    request = offers.accept(volunteer, _ref(reference), actor)
    return asdict(tasks.get_task(volunteer, request.reference))


@blp.route("/offers/<reference>/decline", methods=["POST"], tags=TAGS)
@roles(*VOLUNTEERS)
@blp.arguments(schemas.DeclineInSchema, description="An optional reason; send {} for none")
@blp.response(204)
@documents(blp, 400, 401, 403, 404, 409, 415, 422)
def decline_offer(data: dict[str, Any], reference: str) -> Any:
    """Decline an offer: the request goes back to triage for rematching (not to me again)"""
    volunteer, actor = _me()
    offers.decline(volunteer, _ref(reference), actor, data.get("reason"))
    return None


@blp.route("/tasks", methods=["GET"], tags=TAGS)
@roles(*VOLUNTEERS)
@blp.response(200, schemas.TaskListSchema)
@documents(blp, 401, 403, 404)
def list_tasks() -> Any:
    """My accepted tasks, with the address and phone; delivered ones stay for 24 hours (configurable), then go"""
    volunteer, _ = _me()
    return {"items": [asdict(t) for t in tasks.list_tasks(volunteer)]}


@blp.route("/tasks/<reference>/progress", methods=["POST"], tags=TAGS)
@roles(*VOLUNTEERS)
@blp.arguments(schemas.ProgressInSchema)
@blp.response(200, schemas.ProgressOutSchema)
@documents(blp, 400, 401, 403, 409, 415, 422)
def report_progress(data: dict[str, Any], reference: str) -> Any:
    """Report progress: on_my_way, collected, delivered, or could_not_deliver with a reason

    on_my_way/collected move an accepted task to `in_progress`, delivered to `delivered`, could_not_deliver back
    to triage for rematching. The same `idempotency_key` again returns the first answer and changes nothing. A
    task no longer mine (reassigned meanwhile) is refused with 409 and a message to show.
    """
    volunteer, actor = _me()
    return tasks.report_progress(
        volunteer, _ref(reference), data["step"], data.get("reason"), data["idempotency_key"], actor
    )


@blp.route("/nearby", methods=["GET"], tags=TAGS)
@roles(*VOLUNTEERS)
@blp.response(200, schemas.OfferListSchema)
@documents(blp, 401, 403, 404)
def list_nearby() -> Any:
    """Unassigned requests of the types opened for self-service, nearest first (vetted volunteers only)"""
    volunteer, _ = _me()
    return {"items": [asdict(o) for o in nearby.list_nearby(volunteer)]}


@blp.route("/nearby/<reference>/claim", methods=["POST"], tags=TAGS)
@roles(*VOLUNTEERS)
@blp.response(200, schemas.ClaimOutSchema, description="Mine now: accepted")
@documents(blp, 401, 403, 404, 409)
def claim_nearby(reference: str) -> Any:
    """Claim a nearby request in one tap; 409 when someone else took it first (the body names the next one)"""
    volunteer, actor = _me()
    try:
        request = nearby.claim(volunteer, _ref(reference), actor)
    except nearby.Taken as exc:
        # The envelope, plus the next nearby request to offer the volunteer instead.
        response = jsonify({"error": {"code": "taken", "message": exc.message, "next_reference": exc.next_reference}})
        response.status_code = 409
        return response
    return {"reference": request.reference, "status": request.status}
