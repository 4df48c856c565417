"""Session lifetime: a signed-in session ends after SESSION_IDLE_MINUTES without a request and after
SESSION_ABSOLUTE_HOURS in all. Times live in the (signed) session cookie; the server-side `session_version`
(bumped by sign-out, password change, disable) ends every session of a user at once."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Response, current_app, redirect, session, url_for
from flask_login import current_user, logout_user

from can_crm import http

SIGNED_IN_AT = "signed_in_at"
SEEN_AT = "seen_at"
# The idle clock moves at most this often. A session written on every response raced itself: a slower
# response (an image the last page asked for) set the older cookie after a newer one and lost its flash.
SEEN_RESOLUTION_SECONDS = 60


def now_ts() -> float:
    return datetime.now(UTC).timestamp()


def start() -> None:
    """Call right after login_user: the clock of this session starts now."""
    session[SIGNED_IN_AT] = session[SEEN_AT] = now_ts()
    session.permanent = False


def check_session() -> Response | None:
    """Before each request: end an idle or too-old session (the caller signs in again)."""
    # Only a session sign-in has a lifetime (Flask-Login keeps its user id in the session cookie).
    if "_user_id" not in session or not current_user or not current_user.is_authenticated:
        return None
    now = now_ts()
    started = session.get(SIGNED_IN_AT)
    seen = session.get(SEEN_AT)
    idle = int(current_app.config["SESSION_IDLE_MINUTES"]) * 60
    absolute = int(current_app.config["SESSION_ABSOLUTE_HOURS"]) * 3600
    fresh = (
        isinstance(started, int | float)
        and isinstance(seen, int | float)
        and now - seen <= idle
        and now - started <= absolute
    )
    if fresh:
        if now - seen >= SEEN_RESOLUTION_SECONDS:  # type: ignore[operator]  # `fresh` proved it a number
            session[SEEN_AT] = now
        return None
    logout_user()
    session.clear()
    if http.wants_json():
        return http.json_error(401, "session_expired", "Your session has ended: sign in again")
    return redirect(url_for("auth.login"))  # type: ignore[return-value]  # a redirect is a Response
