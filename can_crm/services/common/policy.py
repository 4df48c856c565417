"""Object-level access: which requests and residents each role may see. Least privilege."""

from __future__ import annotations

from sqlalchemy import Select, false, or_, select

from can_crm.extensions import db
from can_crm.models.enums import Role
from can_crm.models.request import HelpRequest
from can_crm.models.resident import Resident
from can_crm.models.user import User
from can_crm.models.volunteer import Volunteer
from can_crm.services.common.errors import NotFound
from can_crm.services.requests.events import Actor


def actor_for(user: User) -> Actor:
    volunteer_id = None
    if user.role == Role.VOLUNTEER.value:
        volunteer_id = db.session.scalar(select(Volunteer.id).where(Volunteer.user_id == user.id))
    return Actor(role=user.role, user_id=user.id, volunteer_id=volunteer_id)


def restrict_requests(query: Select[tuple[HelpRequest]], user: User) -> Select[tuple[HelpRequest]]:
    """Limit a request query to what `user` may see. Admins manage accounts, not residents: nothing."""
    role = user.role
    if role == Role.COORDINATOR.value:
        return query
    if role == Role.PARTNER.value:
        return query.where(HelpRequest.raised_by_id == user.id)
    if role == Role.COUNCILLOR.value:
        ward_residents = select(Resident.id).where(Resident.ward_code == user.ward_code)
        return query.where(
            or_(HelpRequest.raised_by_id == user.id, HelpRequest.resident_id.in_(ward_residents))
            if user.ward_code
            else HelpRequest.raised_by_id == user.id
        )
    if role == Role.VOLUNTEER.value:
        mine = select(Volunteer.id).where(Volunteer.user_id == user.id)
        return query.where(HelpRequest.volunteer_id.in_(mine))
    return query.where(false())


def can_see_request(user: User, request: HelpRequest) -> bool:
    query = restrict_requests(select(HelpRequest).where(HelpRequest.id == request.id), user)
    return db.session.scalar(query) is not None


def require_request(user: User, reference: str) -> HelpRequest:
    """The request with `reference` if `user` may see it; otherwise the same 404 as a missing one."""
    query = restrict_requests(select(HelpRequest).where(HelpRequest.reference == reference), user)
    request = db.session.scalar(query)
    if request is None:
        raise NotFound(f"No request with reference {reference}")
    return request


def may_use_resident(user: User, resident_id: int) -> bool:
    """Raise a new request for a known resident: coordinators for anyone; partners and councillors
    only for a resident of a request they can already see (so an id reveals nobody new)."""
    if user.role == Role.COORDINATOR.value:
        return True
    query = restrict_requests(select(HelpRequest).where(HelpRequest.resident_id == resident_id).limit(1), user)
    return db.session.scalar(query) is not None
