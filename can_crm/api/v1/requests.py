"""/api/v1/requests: raise, list, read, move through the lifecycle, triage and assign."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_login import current_user
from flask_smorest import Blueprint

from can_crm.access import RAISERS, STAFF, roles
from can_crm.api.v1 import schemas
from can_crm.api.v1.errors import documents, rename_fields
from can_crm.api.v1.present import handoff_out, page_out, request_out, sees_full_resident
from can_crm.models.enums import Channel, Role
from can_crm.models.request import HelpRequest
from can_crm.models.user import User
from can_crm.services.common import audit, policy
from can_crm.services.common.errors import FieldErrors, NotFound
from can_crm.services.federation import sending
from can_crm.services.privacy import reads, searches
from can_crm.services.requests import intake, locations
from can_crm.services.requests import operations as request_service
from can_crm.services.requests import worklist as queue_service
from can_crm.services.requests.references import normalise_reference
from can_crm.services.residents import profiles as residents

blp = Blueprint("requests", __name__, url_prefix="/requests", description="Requests for help and their lifecycle")
TAGS = ["requests"]

_REQUEST_KEYS = (
    "type",
    "urgency",
    "details",
    "due_by",
    "volunteer_notes",
    "recurrence",
    "required_skills",
    "min_dbs",
    "parcels",
    "delivery_window",
    "delivery_from",
    "delivery_to",
)
# Who raised it decides the channel recorded; a coordinator's integration is the API channel.
_CHANNELS = {Role.PARTNER.value: Channel.PARTNER, Role.COUNCILLOR.value: Channel.COUNCILLOR}


def resident_input(raw: dict[str, Any] | None, prefix: str) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """The resident fields as the services name them, and how to rename error keys back to the client's names.

    `address` is the API's name for `address_line1`; a client may send either, not both.
    """
    if raw is None:
        return None, {}
    data = dict(raw)
    service_key, client_key = f"{prefix}address_line1", f"{prefix}address"
    if "address" in data and data["address"] is None and "address_line1" in data:
        del data["address"]  # null means "not sent" when the other name carries the value
    if "address" in data:
        if data.get("address_line1") is not None:
            raise FieldErrors({client_key: "Send address or address_line1, not both"})
        data.pop("address_line1", None)
        data["address_line1"] = data.pop("address")
        return data, {service_key: client_key}
    if "address_line1" in data:
        return data, {}
    return data, {service_key: client_key}


def search_terms(args: dict[str, Any], scope: str) -> str | None:
    """The saved search's terms for `search=KEY`; `q=` is refused (a name or postcode in a URL is in every
    access log line)."""
    if args.get("q"):
        raise FieldErrors(
            {
                "q": "Search terms are not accepted in the URL: POST them to /api/v1/searches "
                "and pass the returned key as search="
            }
        )
    key = args.get("search")
    if not key:
        return None
    saved = searches.load(current_user.id, scope, key)
    if saved is None:
        raise FieldErrors({"search": "Unknown or expired search: POST the terms to /api/v1/searches again"})
    return str(saved.get("q") or "") or None


def _user() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def _load(reference: str) -> HelpRequest:
    """The request if the caller may see it; otherwise the same 404 as a missing one."""
    canonical = normalise_reference(reference)
    if canonical is None:
        raise NotFound(f"No request with reference {reference[:20]}")
    return policy.require_request(_user(), canonical)


def _detail(req: HelpRequest, *, audited: bool = False) -> dict[str, Any]:
    user = _user()
    if audited and sees_full_resident(user):
        # As on the coordinator's request page: seeing the resident's details is recorded.
        audit.record(user.id, "view_resident", "resident", req.resident_id)
    out = request_out(
        req,
        user,
        policy.actor_for(user),
        residents.get_resident(req.resident_id),
        request_service.load_with_history(req),
    )
    if sees_full_resident(user):
        out["handoffs"] = [handoff_out(h) for h in sending.handoffs_of(req.id)]
    return out


@blp.route("", methods=["POST"], tags=TAGS)
@roles(*RAISERS)
@blp.arguments(schemas.RequestInSchema, description="A new request: the resident's details, or a known resident_id")
@blp.response(201, schemas.RequestDetailSchema, description="Created; Location names the new request")
@documents(blp, 400, 401, 403, 415, 422)
def create_request(data: dict[str, Any]) -> Any:
    """Raise a request for help

    Coordinators, partners and councillors (who raise on a resident's behalf and then follow it).
    The channel is recorded as `partner`, `councillor`, or `api` for coordinators.
    """
    user = _user()
    resident_data, renames = resident_input(data.get("resident"), "resident.")
    resident_id = data.get("resident_id")
    if resident_id is not None and not policy.may_use_resident(user, resident_id):
        raise FieldErrors({"resident_id": "No resident with that id"})
    request_data = {key: data[key] for key in _REQUEST_KEYS if key in data}
    try:
        created = intake.submit(
            request_data,
            policy.actor_for(user),
            _CHANNELS.get(user.role, Channel.API),
            resident_data=resident_data,
            resident_id=resident_id,
        )
    except FieldErrors as exc:
        raise rename_fields(exc, renames) from None
    location = url_for("api_v1.requests.get_request", reference=created.reference, _external=True)
    return _detail(created), {"Location": location}


@blp.route("", methods=["GET"], tags=TAGS)
@roles(*RAISERS)
@blp.arguments(schemas.RequestListArgsSchema, location="query", as_kwargs=False)
@blp.response(200, schemas.RequestPageSchema)
@documents(blp, 401, 403, 422)
def list_requests(args: dict[str, Any]) -> Any:
    """List requests, most urgent first

    Without `status` (or `q`) only open requests are listed. Coordinators see every request; partners
    those they raised; councillors those they raised and those of residents in their ward.
    """
    user = _user()
    terms = search_terms(args, "api_requests")
    filters = queue_service.clean_filters(
        {
            "status": args.get("status"),
            "type": args.get("type"),
            "urgency": args.get("urgency"),
            "overdue": "true" if args.get("overdue") else "",
            "ward": args.get("ward"),
            "q": terms,
        }
    )
    page = queue_service.queue(user, filters, args["page"], args["per_page"])
    if sees_full_resident(user) and page.items:
        reads.record_search(user, "api_requests", len(page.items))
    actor = policy.actor_for(user)
    items = [request_out(req, user, actor, req.resident) for req in page.items]
    query = {k: v for k, v in args.items() if k not in ("page", "per_page")}
    if "overdue" in query:
        query["overdue"] = "true" if query["overdue"] else "false"
    return page_out(items, page.page, page.per_page, page.total, "api_v1.requests.list_requests", query)


@blp.route("/<reference>", methods=["GET"], tags=TAGS)
@roles(*RAISERS)
@blp.response(200, schemas.RequestDetailSchema)
@documents(blp, 401, 403, 404)
def get_request(reference: str) -> Any:
    """Read a request with its whole history

    A request the caller may not see is answered 404, exactly like a missing one.
    """
    return _detail(_load(reference), audited=True)


@blp.route("/<reference>/transitions", methods=["POST"], tags=TAGS)
@roles(*RAISERS)
@blp.arguments(schemas.TransitionInSchema)
@blp.response(200, schemas.RequestDetailSchema)
@documents(blp, 400, 401, 403, 404, 409, 415, 422)
def transition_request(data: dict[str, Any], reference: str) -> Any:
    """Move a request to another status

    The one state machine checks the current status and the caller's role; a refusal is a 409
    `transition_not_allowed` with the reason, and changes nothing. `allowed_transitions` on a request
    lists what the caller may do now.
    """
    canonical = normalise_reference(reference) or reference[:20]
    return _detail(request_service.move(_user(), canonical, data["to"], data.get("reason")))


@blp.route("/<reference>/triage", methods=["POST"], tags=TAGS)
@roles(*STAFF)
@blp.arguments(schemas.TriageInSchema)
@blp.response(200, schemas.RequestDetailSchema)
@documents(blp, 400, 401, 403, 404, 409, 415, 422)
def triage_request(data: dict[str, Any], reference: str) -> Any:
    """Triage a request (coordinators)

    Sets urgency, required skills, due date, DBS level and notes; a `new` request becomes `triaged`.
    """
    req = _load(reference)
    request_service.triage(req, data, policy.actor_for(_user()))
    return _detail(req)


@blp.route("/<reference>/assign", methods=["POST"], tags=TAGS)
@roles(*STAFF)
@blp.arguments(schemas.AssignInSchema)
@blp.response(200, schemas.RequestDetailSchema)
@documents(blp, 400, 401, 403, 404, 409, 415, 422)
def assign_request(data: dict[str, Any], reference: str) -> Any:
    """Assign a volunteer by hand (coordinators): a triaged request becomes matched"""
    req = _load(reference)
    try:
        request_service.assign_volunteer(req, data["volunteer_id"], policy.actor_for(_user()))
    except NotFound as exc:
        # The request exists; it is the volunteer named in the body that does not.
        raise FieldErrors({"volunteer_id": exc.message}) from None
    return _detail(req)


@blp.route("/<reference>/location", methods=["POST"], tags=TAGS)
@roles(*STAFF)
@blp.arguments(schemas.LocationInSchema)
@blp.response(200, schemas.RequestDetailSchema)
@documents(blp, 400, 401, 403, 404, 415, 422)
def set_location(data: dict[str, Any], reference: str) -> Any:
    """Set the location of a resident whose postcode the directory does not list (coordinators)

    Send `nearby_postcode` (a postcode the directory lists), or `lat` and `lon`. The request can then be
    matched and checked against the authority's boundary; `resident.location_known` becomes true.
    """
    req = locations.set_location(_user(), reference, data)
    return _detail(req)
