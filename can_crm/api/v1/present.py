"""What each role may read of a request or a resident (data minimisation), as plain dicts for the schemas."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import url_for

from can_crm.models.base import utcnow
from can_crm.models.enums import Role
from can_crm.models.federation import Handoff
from can_crm.models.request import HelpRequest, RequestEvent
from can_crm.models.resident import Resident
from can_crm.models.user import User
from can_crm.services.common.paging import page_count
from can_crm.services.requests import delivery, lifecycle
from can_crm.services.requests.events import Actor

_FULL_RESIDENT = (
    "id",
    "name",
    "address_line1",
    "address_line2",
    "town",
    "postcode",
    "ward_code",
    "location_known",
    "location_source",
    "phone",
    "email",
    "preferred_channel",
    "language",
    "accessibility_needs",
    "shielding",
    "vulnerabilities",
    "nhs_number",
    "consent_given",
    "lawful_basis",
    "created_at",
    "updated_at",
)
# Partners and councillors follow a request they raised: enough to recognise the person, nothing more.
_SUMMARY_RESIDENT = ("name", "postcode", "location_known")

_REQUEST_FIELDS = (
    "reference",
    "status",
    "type",
    "urgency",
    "details",
    "volunteer_notes",
    "required_skills",
    "min_dbs",
    "due_by",
    "sla_due_at",
    "recurrence",
    "channel",
    "created_at",
    "updated_at",
    "delivered_at",
    "closed_at",
)
_STAFF_ONLY_REQUEST_FIELDS = ("coordinator_notes", "volunteer_id")


def sees_full_resident(user: User) -> bool:
    return user.role == Role.COORDINATOR.value


def resident_out(resident: Resident, user: User) -> dict[str, Any]:
    names = _FULL_RESIDENT if sees_full_resident(user) else _SUMMARY_RESIDENT
    return {name: getattr(resident, name) for name in names}


def request_out(
    req: HelpRequest,
    user: User,
    actor: Actor,
    resident: Resident,
    events: list[RequestEvent] | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {name: getattr(req, name) for name in _REQUEST_FIELDS}
    staff = sees_full_resident(user)
    if staff:
        out.update({name: getattr(req, name) for name in _STAFF_ONLY_REQUEST_FIELDS})
    out.update(delivery.out(req))
    out["overdue"] = req.is_overdue(utcnow())
    out["resident"] = resident_out(resident, user)
    out["allowed_transitions"] = [s.value for s in lifecycle.allowed_targets(req, actor)]
    out["links"] = {"self": url_for("api_v1.requests.get_request", reference=req.reference, _external=True)}
    if events is not None:
        out["events"] = [
            {
                "at": e.created_at,
                "kind": e.kind,
                "from_status": e.from_status,
                "to_status": e.to_status,
                # Coordinators' reasons can carry safeguarding detail: others see only the reasons they gave.
                "reason": e.reason if staff or (e.actor_id is not None and e.actor_id == user.id) else None,
                "actor_role": e.actor_role,
            }
            for e in events
        ]
    return out


def handoff_out(handoff: Handoff) -> dict[str, Any]:
    """A handoff as coordinators see it (the partner is loaded with it)."""
    out: dict[str, Any] = {
        name: getattr(handoff, name)
        for name in (
            "bundle_id",
            "direction",
            "state",
            "channel",
            "partner_reference",
            "rejection_reason",
            "attempts",
            "next_attempt_at",
            "created_at",
            "answered_at",
        )
    }
    out["partner_gss"] = handoff.partner.gss_code
    out["partner_name"] = handoff.partner.name
    return out


def page_out(
    items: list[dict[str, Any]], page: int, per_page: int, total: int, endpoint: str, args: Mapping[str, Any]
) -> dict[str, Any]:
    """A page with links that keep the caller's filters; `next`/`prev` are null at the ends."""
    last = page_count(total, per_page)
    query = {k: v for k, v in args.items() if k not in ("page", "per_page") and v not in (None, "")}
    link: Callable[[int], str] = lambda n: url_for(  # noqa: E731 - a tiny local helper reads best inline
        endpoint, page=n, per_page=per_page, _external=True, **query
    )
    return {
        "items": items,
        "page": page,
        "per_page": per_page,
        "total": total,
        "links": {
            "self": link(page),
            "first": link(1),
            "last": link(last),
            "next": link(page + 1) if page < last else None,
            "prev": link(min(page - 1, last)) if page > 1 else None,
        },
    }
