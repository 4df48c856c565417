"""Feedback links: a random token (only its SHA-256 is stored), for one request, expiring, answered once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from can_crm.extensions import db
from can_crm.models.base import utcnow
from can_crm.models.notification import FeedbackLink
from can_crm.models.request import HelpRequest
from can_crm.services.common.tokens import new_token, token_hash


def create_link(request: HelpRequest) -> tuple[FeedbackLink, str]:
    """A new link for `request` and its token (the token is never stored: put it in the message, then forget)."""
    token = new_token()
    now = utcnow()
    link = FeedbackLink(
        request_id=request.id,
        token_hash=token_hash(token),
        created_at=now,
        expires_at=now + timedelta(days=int(current_app.config["FEEDBACK_LINK_DAYS"])),
    )
    db.session.add(link)
    db.session.flush()
    return link, token


def url_for_token(token: str) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL']}/f/{token}"


@dataclass(frozen=True)
class LinkState:
    """What a token leads to: `state` is ok, used, expired or unknown (altered, or never issued)."""

    state: str
    link: FeedbackLink | None = None


def resolve(token: str) -> LinkState:
    if not token or len(token) > 100:
        return LinkState("unknown")
    link = db.session.scalar(select(FeedbackLink).where(FeedbackLink.token_hash == token_hash(token)))
    if link is None:
        return LinkState("unknown")
    if link.answered_at is not None:
        return LinkState("used", link)
    if link.expires_at <= utcnow():
        return LinkState("expired", link)
    return LinkState("ok", link)
