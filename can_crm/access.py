"""Route access rules. Every view carries exactly one; a test walks the URL map to prove it."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user

from can_crm.models.enums import Role

F = TypeVar("F", bound=Callable[..., Any])

ACCESS_ATTR = "_can_access_rule"


def public(view: F) -> F:
    """Anyone, signed in or not, may call this view (resident pages, health check, login)."""
    setattr(view, ACCESS_ATTR, "public")
    return view


def roles(*allowed: Role) -> Callable[[F], F]:
    """Only signed-in, active users holding one of `allowed` roles may call this view."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                abort(401)
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        setattr(wrapped, ACCESS_ATTR, tuple(r.value for r in allowed))
        return wrapped  # type: ignore[return-value]

    return decorator


def signed_in(view: F) -> F:
    """Any signed-in user, whatever their role (signing out)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            abort(401)
        return view(*args, **kwargs)

    setattr(wrapped, ACCESS_ATTR, "signed_in")
    return wrapped  # type: ignore[return-value]


def tracers(view: F) -> F:
    """Only coordinators an admin has given the tracing permission (cases and contacts are health data)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            abort(401)
        if current_user.role != Role.COORDINATOR.value or not current_user.can_trace:
            abort(403)
        return view(*args, **kwargs)

    setattr(wrapped, ACCESS_ATTR, (Role.COORDINATOR.value, "tracing"))
    return wrapped  # type: ignore[return-value]


STAFF = (Role.COORDINATOR,)
RAISERS = (Role.COORDINATOR, Role.PARTNER, Role.COUNCILLOR)
