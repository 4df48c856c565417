"""TOTP second factor (RFC 6238, `pyotp`) for staff roles: enrolment, verification, recovery codes, reset."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime
from enum import StrEnum

import pyotp
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

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


class Check(StrEnum):
    """What a second-factor code turned out to be."""

    OK = "ok"
    USED = "used"  # a right code, already accepted once: wait for the next one
    WRONG = "wrong"


def _step_of(secret: str, code: str) -> int | None:
    """The time step whose code `code` is, one step either side of now (a phone clock a little off still
    works); None when it is none of them."""
    digits = "".join(ch for ch in code if ch.isdigit())
    if len(digits) != 6:
        return None
    totp = pyotp.TOTP(secret)
    now = totp.timecode(datetime.now(UTC))
    return next((s for s in (now - 1, now, now + 1) if hmac.compare_digest(totp.generate_otp(s), digits)), None)


def _claim(user: User, step: int) -> bool:
    """Record `step` as the user's last, unless it is not later than the last: a code works once, and of two
    sign-ins racing with the same code one wins (the row's compare-and-set)."""
    claimed = db.session.execute(
        update(User)
        .where(User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]  # an UPDATE's result has a row count
        return False
    set_committed_value(user, "totp_last_step", step)  # the row has it already: no second UPDATE at flush
    return True


def _hash(code: str) -> str:
    return hashlib.sha256(code.strip().lower().replace("-", "").replace(" ", "").encode()).hexdigest()


def enrol(user: User, secret: str, code: str) -> list[str] | None:
    """Finish enrolment when `code` proves the user holds `secret`; returns fresh recovery codes (shown once)."""
    step = _step_of(secret, code)
    if step is None:
        return None
    user.totp_secret = secret
    user.totp_enrolled_at = utcnow()
    user.totp_last_step = step  # the code that enrolled them signed them in: it does not sign anyone in again
    return new_recovery_codes(user)


def new_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [f"{secrets.token_hex(4)}-{secrets.token_hex(4)}" for _ in range(RECOVERY_CODES)]
    for code in codes:
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_hash(code), created_at=utcnow()))
    db.session.flush()
    return codes


def verify(user: User, code: str) -> Check:
    """A current TOTP code not used before, or an unused recovery code (which is then used up)."""
    if user.totp_secret is None or not code:
        return Check.WRONG
    step = _step_of(user.totp_secret, code)
    if step is not None:
        return Check.OK if _claim(user, step) else Check.USED
    found = db.session.scalar(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _hash(code), RecoveryCode.used_at.is_(None)
        )
    )
    if found is None:
        return Check.WRONG
    found.used_at = utcnow()
    audit.record(user.id, "use_recovery_code", "user", user.id)
    return Check.OK


def reset(user: User, admin: User) -> None:
    """An admin clears a user's second factor: they enrol again at their next sign-in. Audited."""
    user.totp_secret = None
    user.totp_enrolled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    user.session_version += 1
    audit.record(admin.id, "reset_two_factor", "user", user.id)


def enrol_known_secret(user: User, secret: str) -> None:
    """Enrol without a code (tests and `create-user --totp-secret` for scripted setups)."""
    user.totp_secret = secret
    user.totp_enrolled_at = utcnow()
