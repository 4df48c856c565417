"""Local Track and Trace: interactions between people, cases, their contacts and the messages to them.

A "person" is a resident or a volunteer: each row names one of the two in a foreign key (so erasing a person
cascades), and carries `*_key`, a generated integer (resident r -> 2r, volunteer v -> 2v + 1) that the
contact-tracing queries walk with one index per side instead of four foreign-key columns.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Computed,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from can_crm.extensions import db
from can_crm.models.base import UTCDateTime, created_at_column, enum_check, utcnow


class Setting(StrEnum):
    """Where two people met; inside is the closer exposure."""

    INSIDE = "inside"
    DOORSTEP = "doorstep"
    OUTSIDE = "outside"


class InteractionKind(StrEnum):
    VISIT = "visit"  # a volunteer delivering a request (recorded automatically)
    HOUSEHOLD = "household"
    HUB_SHIFT = "hub_shift"
    BEFRIENDING = "befriending"
    OTHER = "other"


class OnsetKind(StrEnum):
    SYMPTOMS = "symptoms"
    TEST = "test"


class ContactStatus(StrEnum):
    TO_NOTIFY = "to_notify"
    NOTIFIED = "notified"
    ISOLATING = "isolating"
    RELEASED = "released"


class MessageState(StrEnum):
    TO_CALL = "to_call"
    CALLED = "called"


def _key_sql(resident: str, volunteer: str) -> str:
    return f"CASE WHEN {resident} IS NOT NULL THEN {resident} * 2 ELSE {volunteer} * 2 + 1 END"


def _one_of(resident: str, volunteer: str, name: str) -> CheckConstraint:
    return CheckConstraint(f"({resident} IS NULL) <> ({volunteer} IS NULL)", name=name)


def _person_fk(table: str) -> Mapped[int | None]:
    return mapped_column(ForeignKey(f"{table}.id", ondelete="CASCADE"))


class Interaction(db.Model):  # type: ignore[name-defined]
    """Two people met: when, for how long, and where. A visit is volunteer (a) at a resident's (b) door."""

    __tablename__ = "interactions"
    __table_args__ = (
        enum_check("setting", Setting),
        enum_check("kind", InteractionKind),
        _one_of("resident_a_id", "volunteer_a_id", "one_person_a"),
        _one_of("resident_b_id", "volunteer_b_id", "one_person_b"),
        CheckConstraint(
            "COALESCE(resident_a_id, -1) <> COALESCE(resident_b_id, -1) "
            "OR COALESCE(volunteer_a_id, -1) <> COALESCE(volunteer_b_id, -1)",
            name="two_people",
        ),
        CheckConstraint("duration_minutes BETWEEN 1 AND 1440", name="duration_range"),
        # The trace walks each side by person and time: one range scan per side per person.
        Index("ix_interactions_a_key_time", "a_key", "occurred_at"),
        Index("ix_interactions_b_key_time", "b_key", "occurred_at"),
        Index("ix_interactions_occurred_at", "occurred_at"),
        # Erasing a person deletes their interactions (ON DELETE CASCADE needs these to be quick).
        Index("ix_interactions_resident_a_id", "resident_a_id", postgresql_where=text("resident_a_id IS NOT NULL")),
        Index("ix_interactions_volunteer_a_id", "volunteer_a_id", postgresql_where=text("volunteer_a_id IS NOT NULL")),
        Index("ix_interactions_resident_b_id", "resident_b_id", postgresql_where=text("resident_b_id IS NOT NULL")),
        Index("ix_interactions_volunteer_b_id", "volunteer_b_id", postgresql_where=text("volunteer_b_id IS NOT NULL")),
        # A delivery is recorded once per request occurrence and volunteer, however often the event fires.
        Index(
            "uq_interactions_visit",
            "request_id",
            "volunteer_a_id",
            unique=True,
            postgresql_where=text("request_id IS NOT NULL"),
            sqlite_where=text("request_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_a_id: Mapped[int | None] = _person_fk("residents")
    volunteer_a_id: Mapped[int | None] = _person_fk("volunteers")
    a_key: Mapped[int] = mapped_column(
        BigInteger, Computed(_key_sql("resident_a_id", "volunteer_a_id"), persisted=True)
    )
    resident_b_id: Mapped[int | None] = _person_fk("residents")
    volunteer_b_id: Mapped[int | None] = _person_fk("volunteers")
    b_key: Mapped[int] = mapped_column(
        BigInteger, Computed(_key_sql("resident_b_id", "volunteer_b_id"), persisted=True)
    )
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    duration_minutes: Mapped[int]
    setting: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(12))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id", ondelete="SET NULL"))
    notes: Mapped[str | None] = mapped_column(Text, info={"personal": True})
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_at_column()


class Case(db.Model):  # type: ignore[name-defined]
    """Someone tested positive or has symptoms. Kept for TRACING_RETENTION_DAYS (its own schedule)."""

    __tablename__ = "tracing_cases"
    __table_args__ = (
        enum_check("onset_kind", OnsetKind),
        _one_of("resident_id", "volunteer_id", "one_person"),
        Index("ix_tracing_cases_onset", "onset"),
        Index("ix_tracing_cases_person_key", "person_key"),
        Index("ix_tracing_cases_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int | None] = _person_fk("residents")
    volunteer_id: Mapped[int | None] = _person_fk("volunteers")
    person_key: Mapped[int] = mapped_column(
        BigInteger, Computed(_key_sql("resident_id", "volunteer_id"), persisted=True)
    )
    # Health data: the day symptoms began, or the test date when there were none.
    onset: Mapped[date] = mapped_column(Date, info={"personal": True})
    onset_kind: Mapped[str] = mapped_column(String(10), default=OnsetKind.SYMPTOMS.value, info={"personal": True})
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_at_column()


class TraceContact(db.Model):  # type: ignore[name-defined]
    """Someone a case met in the infectious window (degree 1) or who met one of those (degree 2)."""

    __tablename__ = "tracing_contacts"
    __table_args__ = (
        enum_check("status", ContactStatus),
        enum_check("exposure", Setting),
        _one_of("resident_id", "volunteer_id", "one_person"),
        CheckConstraint("degree IN (1, 2)", name="degree_valid"),
        CheckConstraint("status <> 'isolating' OR isolating_until IS NOT NULL", name="isolating_has_end"),
        UniqueConstraint("case_id", "person_key", name="uq_tracing_contacts_case_person"),
        Index("ix_tracing_contacts_person_key", "person_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("tracing_cases.id", ondelete="CASCADE"))
    resident_id: Mapped[int | None] = _person_fk("residents")
    volunteer_id: Mapped[int | None] = _person_fk("volunteers")
    person_key: Mapped[int] = mapped_column(
        BigInteger, Computed(_key_sql("resident_id", "volunteer_id"), persisted=True)
    )
    degree: Mapped[int]
    exposure: Mapped[str] = mapped_column(String(10))
    exposure_minutes: Mapped[int] = mapped_column(default=0)
    first_exposed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(12), default=ContactStatus.TO_NOTIFY.value, info={"personal": True})
    isolating_until: Mapped[date | None] = mapped_column(Date, info={"personal": True})
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class ContactMessage(db.Model):  # type: ignore[name-defined]
    """What the default ContactNotifier records: a message to give a person, as a coordinator's call to make."""

    __tablename__ = "tracing_messages"
    __table_args__ = (
        enum_check("state", MessageState),
        _one_of("resident_id", "volunteer_id", "one_person"),
        Index("ix_tracing_messages_state", "state", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int | None] = _person_fk("residents")
    volunteer_id: Mapped[int | None] = _person_fk("volunteers")
    template: Mapped[str] = mapped_column(String(40), info={"personal": False})
    language: Mapped[str] = mapped_column(String(40), info={"personal": True})
    state: Mapped[str] = mapped_column(String(10), default=MessageState.TO_CALL.value)
    created_at: Mapped[datetime] = created_at_column()
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class TraceIdentity(db.Model):  # type: ignore[name-defined]
    """A person's NHS Test and Trace id, so the council's record and the national one can be joined up."""

    __tablename__ = "tracing_identities"
    __table_args__ = (
        _one_of("resident_id", "volunteer_id", "one_person"),
        UniqueConstraint("resident_id", name="uq_tracing_identities_resident_id"),
        UniqueConstraint("volunteer_id", name="uq_tracing_identities_volunteer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int | None] = _person_fk("residents")
    volunteer_id: Mapped[int | None] = _person_fk("volunteers")
    test_and_trace_id: Mapped[str] = mapped_column(String(20), info={"personal": True})
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
