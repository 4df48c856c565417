"""/api/v1/volunteers: coordinators add, change, list and vet volunteers."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_login import current_user
from flask_smorest import Blueprint

from can_crm.access import STAFF, roles
from can_crm.api.v1 import volunteer_schemas as schemas
from can_crm.api.v1.errors import documents, rename_fields
from can_crm.api.v1.present import page_out
from can_crm.models.volunteer import Volunteer
from can_crm.services.common.errors import FieldErrors
from can_crm.services.volunteers import profiles, vetting

blp = Blueprint("volunteers", __name__, url_prefix="/volunteers", description="Volunteers (coordinators)")
TAGS = ["volunteers"]
# API names -> service names, and back for error messages.
_RENAMES = {"postcode": "home_postcode", "dbs_checked_on": "dbs_certificate_date"}
_BACK = {v: k for k, v in _RENAMES.items()}


def volunteer_out(v: Volunteer) -> dict[str, Any]:
    return {
        "id": v.id,
        "user_id": v.user_id,
        "name": v.name,
        "email": v.email,
        "phone": v.phone,
        "postcode": v.home_postcode,
        "max_km": v.max_km,
        "capacity": v.capacity,
        "max_per_day": v.max_per_day,
        "skills": list(v.skills or []),
        "dbs_level": v.dbs_level,
        "dbs_checked_on": v.dbs_certificate_date,
        "transport": v.transport,
        "offers_by": v.offers_by,
        "availability": dict(v.availability or {}),
        "organisation": v.organisation,
        "status": v.status,
        "identity_checked": v.identity_checked,
        "references_checked": v.references_checked,
        "training_done": v.training_done,
        "vetted_at": v.vetted_at,
    }


def _service_data(data: dict[str, Any]) -> dict[str, Any]:
    return {_RENAMES.get(k, k): v for k, v in data.items()}


@blp.route("", methods=["GET"], tags=TAGS)
@roles(*STAFF)
@blp.arguments(schemas.VolunteerListArgsSchema, location="query", as_kwargs=False)
@blp.response(200, schemas.VolunteerListSchema)
@documents(blp, 401, 403, 422)
def list_volunteers(args: dict[str, Any]) -> Any:
    """List volunteers by name, a page at a time (filter by exact `email` or `status`); `links.next` is null on
    the last page"""
    email = args.get("email")
    page = profiles.volunteers_page(
        args.get("status"), args["page"], args["per_page"], email=email.strip().lower() if email else None, clamp=False
    )
    items = [volunteer_out(v) for v in page.items]
    return page_out(items, page.page, page.per_page, page.total, "api_v1.volunteers.list_volunteers", args)


@blp.route("", methods=["POST"], tags=TAGS)
@roles(*STAFF)
@blp.arguments(schemas.VolunteerInSchema)
@blp.response(201, schemas.VolunteerOutSchema, description="Created (waiting for vetting); Location names it")
@documents(blp, 400, 401, 403, 415, 422)
def create_volunteer(data: dict[str, Any]) -> Any:
    """Add a volunteer (waiting for vetting)

    When a volunteer account with the same email exists, the profile is linked to it (its empty profile, made by
    `create-user`, is filled in).
    """
    try:
        volunteer = profiles.create_or_link(_service_data(data))
    except FieldErrors as exc:
        raise rename_fields(exc, _BACK) from None
    location = url_for("api_v1.volunteers.get_volunteer", volunteer_id=volunteer.id, _external=True)
    return volunteer_out(volunteer), {"Location": location}


@blp.route("/<int:volunteer_id>", methods=["GET"], tags=TAGS)
@roles(*STAFF)
@blp.response(200, schemas.VolunteerOutSchema)
@documents(blp, 401, 403, 404)
def get_volunteer(volunteer_id: int) -> Any:
    """Read a volunteer"""
    return volunteer_out(profiles.get_volunteer(volunteer_id))


@blp.route("/<int:volunteer_id>", methods=["PATCH"], tags=TAGS)
@roles(*STAFF)
@blp.arguments(schemas.VolunteerPatchSchema)
@blp.response(200, schemas.VolunteerOutSchema)
@documents(blp, 400, 401, 403, 404, 415, 422)
def patch_volunteer(data: dict[str, Any], volunteer_id: int) -> Any:
    """Change some of a volunteer's details (only the fields sent)"""
    volunteer = profiles.get_volunteer(volunteer_id)
    try:
        profiles.update_volunteer(volunteer, _service_data(data))
    except FieldErrors as exc:
        raise rename_fields(exc, _BACK) from None
    return volunteer_out(volunteer)


@blp.route("/<int:volunteer_id>/vetting", methods=["POST"], tags=TAGS)
@roles(*STAFF)
@blp.arguments(schemas.VettingInSchema)
@blp.response(200, schemas.VolunteerOutSchema)
@documents(blp, 400, 401, 403, 404, 415, 422)
def vet_volunteer(data: dict[str, Any], volunteer_id: int) -> Any:
    """Record a vetting decision: approved -> status `active`, rejected -> `rejected`

    Approving needs the identity seen (`identity_checked`, now or before) and a located home postcode; rejecting
    needs a `reason`. Only `active` volunteers are ever offered work.
    """
    volunteer = profiles.get_volunteer(volunteer_id)
    try:
        vetting.vet(volunteer, _service_data(data), current_user.id)
    except FieldErrors as exc:
        raise rename_fields(exc, _BACK) from None
    return volunteer_out(volunteer)
