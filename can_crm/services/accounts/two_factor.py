"""TOTP second factor (RFC 6238, `pyotp`) for staff roles: enrolment, verification, recovery codes, reset."""

from __future__ import annotations

import hashlib
import secrets

import pyotp
from sqlalchemy import delete, select

from can_crm.extensions import db
from can_crm.models.base import utcnow
from can_crm.models.user import RecoveryCode, User
from can_crm.services.common import audit

ISSUER = "CAN CRM"
RECOVERY_CODES = 10


def required_for(user: User, roles: tuple[str, ...] | list[str]) -> bool:
    return user.role in roles


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def _code_ok(secret: str, code: str) -> bool:
    digits = "".join(ch for ch in code if ch.isdigit())
    # One step either side: a phone clock a little off still works.
    return len(digits) == 6 and pyotp.TOTP(secret).verify(digits, valid_window=1)


def _hash(code: str) -> str:
    return hashlib.sha256(code.strip().lower().replace("-", "").replace(" ", "").encode()).hexdigest()


def enrol(user: User, secret: str, code: str) -> list[str] | None:
    """Finish enrolment when `code` proves the user holds `secret`; returns fresh recovery codes (shown once)."""
    if not _code_ok(secret, code):
        return None
    user.totp_secret = secret
    user.totp_enrolled_at = utcnow()
    return new_recovery_codes(user)


def new_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [f"{secrets.token_hex(4)}-{secrets.token_hex(4)}" for _ in range(RECOVERY_CODES)]
    for code in codes:
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_hash(code), created_at=utcnow()))
    db.session.flush()
    return codes


def verify(user: User, code: str) -> bool:
    """A current TOTP code, or an unused recovery code (which is then used up)."""
    if user.totp_secret is None or not code:
        return False
    if _code_ok(user.totp_secret, code):
        return True
    found = db.session.scalar(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _hash(code), RecoveryCode.used_at.is_(None)
        )
    )
    if found is None:
        return False
    found.used_at = utcnow()
    audit.record(user.id, "use_recovery_code", "user", user.id)
    return True


def reset(user: User, admin: User) -> None:
    """An admin clears a user's second factor: they enrol again at their next sign-in. Audited."""
    user.totp_secret = None
    user.totp_enrolled_at = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    user.session_version += 1
    audit.record(admin.id, "reset_two_factor", "user", user.id)


def enrol_known_secret(user: User, secret: str) -> None:
    """Enrol without a code (tests and `create-user --totp-secret` for scripted setups)."""
    user.totp_secret = secret
    user.totp_enrolled_at = utcnow()
