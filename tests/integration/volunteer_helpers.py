"""Shared by the volunteer tests: a vetted volunteer with an account, and a request offered to them."""

from __future__ import annotations

from typing import Any

from can_crm import unit_of_work
from can_crm.services.requests import operations as requests
from can_crm.services.requests.events import Actor

COORDINATOR = Actor(role="coordinator")


def volunteer_with_account(make_user: Any, make_volunteer: Any, **overrides: Any) -> tuple[Any, Any]:
    user = make_user("volunteer")
    volunteer = make_volunteer(**overrides)
    volunteer.user_id = user.id
    volunteer.email = user.email
    unit_of_work.commit()
    return user, volunteer


def offer(make_request: Any, volunteer: Any, **overrides: Any) -> Any:
    request = make_request(**overrides)
    requests.triage(request, {}, COORDINATOR)
    requests.assign_volunteer(request, volunteer.id, COORDINATOR)
    unit_of_work.commit()
    return request
