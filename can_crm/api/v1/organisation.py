"""/api/v1/organisation/volunteers: a partner organisation lists and adds its own people as volunteers.

The same service and rules as the partner pages (services/volunteers/organisations.py): a person added waits
for vetting and is invited to set a password; an organisation sees only its own people, and of them only
name, contact, status and which checks are done.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import url_for
from flask_login import current_user
from flask_smorest import Blueprint

from can_crm.access import roles
from can_crm.api.v1 import volunteer_schemas as schemas
from can_crm.api.v1.errors import documents, rename_fields
from can_crm.models.enums import Role
from can_crm.services.common.errors import FieldErrors
from can_crm.services.volunteers import organisations

blp = Blueprint(
    "organisation", __name__, url_prefix="/organisation", description="A partner organisation's own volunteers"
)
TAGS = ["organisation"]
_RENAMES = {"postcode": "home_postcode"}
_BACK = {v: k for k, v in _RENAMES.items()}


@blp.route("/volunteers", methods=["GET"], tags=TAGS)
@roles(Role.PARTNER)
@blp.response(200, schemas.OrganisationPeopleSchema)
@documents(blp, 401, 403)
def list_people() -> Any:
    """The organisation's people, by name, with their vetting status (403 when the account has no organisation)"""
    return {"items": [asdict(row) for row in organisations.people(current_user)]}


@blp.route("/volunteers", methods=["POST"], tags=TAGS)
@roles(Role.PARTNER)
@blp.arguments(schemas.OrganisationPersonInSchema)
@blp.response(201, schemas.OrganisationPersonOutSchema, description="Added, waiting for vetting, invited")
@documents(blp, 400, 401, 403, 415, 422)
def add_person(data: dict[str, Any]) -> Any:
    """Add one of the organisation's people as a volunteer

    They wait for vetting (nothing is offered before) and get a link to set their password. An email address an
    account already has is refused like any wrong field (422, `fields.email`).
    """
    try:
        volunteer = organisations.add_person(current_user, {_RENAMES.get(k, k): v for k, v in data.items()})
    except FieldErrors as exc:
        raise rename_fields(exc, _BACK) from None
    location = url_for("api_v1.organisation.list_people", _external=True)
    return asdict(organisations.as_row(volunteer)), {"Location": location}


@blp.route("/volunteers/<int:volunteer_id>/invitation", methods=["POST"], tags=TAGS)
@roles(Role.PARTNER)
@blp.response(202, schemas.OrganisationPersonOutSchema, description="A new link sent; the old one stops working")
@documents(blp, 401, 403, 404, 409)
def invite_again(volunteer_id: int) -> Any:
    """Send one of the organisation's people a new link to set their password

    For a lost or expired invitation. 409 once they have set a password or have left; 404 for anyone who is not
    the organisation's.
    """
    return asdict(organisations.invite_again(current_user, volunteer_id))
