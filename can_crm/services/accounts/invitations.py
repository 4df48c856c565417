"""Invitations: a one-use link to set a password, for an account someone else made.

A partner organisation adding a volunteer makes their account with a password nobody knows; the volunteer
gets a link (only its SHA-256 is stored, like feedback links), chooses a password there and is signed in.
A newer invitation replaces an older one; a used or expired link says so and sets nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from can_crm.extensions import db
from can_crm.models.base import utcnow
from can_crm.models.user import AccountInvitation, User
from can_crm.services.accounts import users
from can_crm.services.common.errors import Conflict
from can_crm.services.common.tokens import new_token, token_hash
from can_crm.unit_of_work import atomic


@atomic
def invite(user: User, created_by_id: int | None) -> tuple[AccountInvitation, str]:
    """A new invitation for `user` and its token (put the token in the message, then forget it).

    Earlier unused invitations of the same account stop working: only the newest link sets a password."""
    now = utcnow()
    db.session.execute(
        update(AccountInvitation)
        .where(AccountInvitation.user_id == user.id, AccountInvitation.used_at.is_(None))
        .where(AccountInvitation.expires_at > now)
        .values(expires_at=now)
    )
    token = new_token()
    invitation = AccountInvitation(
        user_id=user.id,
        token_hash=token_hash(token),
        created_by_id=created_by_id,
        created_at=now,
        expires_at=now + timedelta(days=int(current_app.config["INVITATION_DAYS"])),
    )
    db.session.add(invitation)
    db.session.flush()
    return invitation, token


def url_for_token(token: str) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL']}/auth/invitation/{token}"


@dataclass(frozen=True)
class InvitationState:
    """What a token leads to: `state` is ok, used, expired or unknown (altered, or never issued)."""

    state: str
    invitation: AccountInvitation | None = None


def resolve(token: str) -> InvitationState:
    if not token or len(token) > 100 or not token.isascii() or not token.isprintable():
        return InvitationState("unknown")
    invitation = db.session.scalar(select(AccountInvitation).where(AccountInvitation.token_hash == token_hash(token)))
    if invitation is None:
        return InvitationState("unknown")
    if invitation.used_at is not None:
        return InvitationState("used", invitation)
    account = db.session.get(User, invitation.user_id)
    if invitation.expires_at <= utcnow() or account is None or not account.active:
        return InvitationState("expired", invitation)
    return InvitationState("ok", invitation)


@atomic
def accept(token: str, password: str | None) -> User:
    """Set the account's password from a live invitation, which is then used up. Returns the account.

    Raises ValidationError (field `password`) for a password the rules refuse, Conflict when the link no longer
    works (the page says which: used, expired, unknown)."""
    found = resolve(token)
    if found.state != "ok" or found.invitation is None:
        raise Conflict(found.state, "token")
    account = db.session.get(User, found.invitation.user_id)
    if account is None:  # resolve() saw it a moment ago; deleted since
        raise Conflict("expired", "token")
    users.set_password(account, password or "")
    found.invitation.used_at = utcnow()
    db.session.flush()
    return account
