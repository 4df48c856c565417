"""Sensitive actions (role change, export, erasure) ask for the password again, and API tokens act only
within their scopes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import current_app, g, session

from can_crm.services.common.errors import DomainError, Forbidden

REAUTH_KEY = "reauth_at"


class ReauthenticationRequired(DomainError):
    http_status = 403
    code = "reauthentication_required"


def mark_password_confirmed() -> None:
    session[REAUTH_KEY] = datetime.now(UTC).timestamp()


def password_recently_confirmed() -> bool:
    at = session.get(REAUTH_KEY)
    if not isinstance(at, int | float):
        return False
    window = timedelta(minutes=int(current_app.config["REAUTH_MINUTES"]))
    return datetime.now(UTC) - datetime.fromtimestamp(at, UTC) <= window


def require_recent_password() -> None:
    """A browser session must have confirmed the password recently; a bearer token is checked by scope."""
    if g.get("api_token") is not None:
        return
    if not password_recently_confirmed():
        raise ReauthenticationRequired("Confirm your password first (POST /auth/confirm-password), then try again")


def require_scope(scope: str) -> None:
    token = g.get("api_token")
    if token is not None and token.scopes and scope not in token.scopes:
        raise Forbidden(f"This token lacks the '{scope}' scope")
