"""Staff and volunteer accounts, and the API tokens they hold."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from can_crm.extensions import db
from can_crm.models.base import UTCDateTime, created_at_column, enum_check
from can_crm.models.enums import Role

if TYPE_CHECKING:  # the relationship below names it as a string: no import cycle at run time
    from can_crm.models.volunteer import Volunteer


class User(UserMixin, db.Model):  # type: ignore[name-defined]
    __tablename__ = "users"
    __table_args__ = (enum_check("role", Role),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, info={"personal": True})
    name: Mapped[str] = mapped_column(String(120), info={"personal": True})
    role: Mapped[str] = mapped_column(String(20), info={"personal": False})
    password_hash: Mapped[str] = mapped_column(String(255), info={"personal": False})
    active: Mapped[bool] = mapped_column(default=True)
    organisation: Mapped[str | None] = mapped_column(String(120), info={"personal": False})
    # Councillors follow the requests of residents in their ward (ONS ward code).
    ward_code: Mapped[str | None] = mapped_column(String(12), info={"personal": False})
    # Bumped on logout and on disable: every session cookie carrying an older value stops working.
    session_version: Mapped[int] = mapped_column(default=1)
    # Coordinators with this may see Track and Trace cases and contacts (an admin grants it).
    can_trace: Mapped[bool] = mapped_column(default=False, server_default=false())
    # May run subject access and erasure (coordinators granted it by an admin).
    privacy_officer: Mapped[bool] = mapped_column(default=False)
    # TOTP second factor (RFC 6238): the shared secret, and when the user proved they hold it.
    totp_secret: Mapped[str | None] = mapped_column(String(64), info={"personal": False})
    totp_enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The RFC 6238 time step of the last code accepted: a code works once (a later step is needed next time).
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = created_at_column()
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user", order_by="ApiToken.id")
    # A volunteer account's own profile (None for staff). Read only: profiles are made and linked by their service.
    volunteer: Mapped[Volunteer | None] = relationship(
        primaryjoin="User.id == foreign(Volunteer.user_id)", uselist=False, viewonly=True
    )

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles


class ApiToken(db.Model):  # type: ignore[name-defined]
    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_token_hash", "token_hash", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80), info={"personal": False})
    # Only a SHA-256 of the token is stored; the token itself is shown once.
    token_hash: Mapped[str] = mapped_column(String(64), info={"personal": False})
    prefix: Mapped[str] = mapped_column(String(12), info={"personal": False})
    # What the token may do ("read", "write", "privacy"); empty means the user's full role.
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list, info={"personal": False})
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = created_at_column()
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(back_populates="tokens")


class RecoveryCode(db.Model):  # type: ignore[name-defined]
    """A one-use code that stands in for the authenticator app; only its hash is kept."""

    __tablename__ = "recovery_codes"
    __table_args__ = (Index("ix_recovery_codes_user_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64), info={"personal": False})
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = created_at_column()


class AccountInvitation(db.Model):  # type: ignore[name-defined]
    """A one-use link to set a password, for an account someone else made (a partner adding a volunteer).

    Only the token's SHA-256 is stored; the token itself goes in the message and is forgotten."""

    __tablename__ = "account_invitations"
    __table_args__ = (
        UniqueConstraint("token_hash", name="uq_account_invitations_token_hash"),
        Index("ix_account_invitations_user_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), info={"personal": False})
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
