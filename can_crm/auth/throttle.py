"""Sign-in throttling, as OWASP ASVS asks: failed attempts are counted per account and, at a much higher
ceiling, per address; a successful sign-in never counts against anyone. So a council office behind one
address is never locked out at 9 am, while guessing one account's password stops after a few tries.

Flask-Limiter does the counting in its storage (Redis when REDIS_URL is set, memory otherwise): each limit
is tested before the view runs and charged only when the view answered with a failed sign-in."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any

from flask import Response, current_app, request
from flask_limiter.util import get_remote_address
from limits import parse

from can_crm.extensions import limiter

# The sign-in view answers a refused attempt (wrong password, unknown email, empty fields) with 400.
FAILED_SIGN_IN_STATUS = 400


def failed(response: Response) -> bool:
    return response.status_code == FAILED_SIGN_IN_STATUS


def submitted_email() -> str:
    return (request.form.get("email") or "").strip().lower()


def account_key() -> str:
    # A keyed hash, not the address itself: limiter keys reach Redis and the limiter's own log lines,
    # which must never carry personal data.
    digest = hmac.new(current_app.config["SECRET_KEY"].encode(), submitted_email().encode(), hashlib.sha256)
    return "sign-in-account:" + digest.hexdigest()[:32]


def address_key() -> str:
    return "sign-in-address:" + get_remote_address()


def _wait_message(setting: str, whose: str) -> Callable[[], str]:
    def message() -> str:
        minutes = max(1, parse(current_app.config[setting]).get_expiry() // 60)
        return f"Too many failed sign-in attempts {whose}. Wait {minutes} minutes, then try again."

    return message


def throttled(view: Callable[..., Any]) -> Callable[..., Any]:
    """Both limits on the sign-in view, POST only; the account limit skips a form with no email."""
    per_address = limiter.limit(
        lambda: current_app.config["LOGIN_FAILED_ADDRESS_LIMIT"],
        key_func=address_key,
        methods=["POST"],
        deduct_when=failed,
        error_message=_wait_message("LOGIN_FAILED_ADDRESS_LIMIT", "from your network"),
    )
    per_account = limiter.limit(
        lambda: current_app.config["LOGIN_FAILED_ACCOUNT_LIMIT"],
        key_func=account_key,
        methods=["POST"],
        deduct_when=failed,
        exempt_when=lambda: not submitted_email(),
        error_message=_wait_message("LOGIN_FAILED_ACCOUNT_LIMIT", "for this account"),
    )
    return per_address(per_account(view))
