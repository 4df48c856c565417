"""Closed vocabularies shared by models, services, forms and the API."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    COORDINATOR = "coordinator"
    VOLUNTEER = "volunteer"
    PARTNER = "partner"
    COUNCILLOR = "councillor"


class Status(StrEnum):
    NEW = "new"
    TRIAGED = "triaged"
    MATCHED = "matched"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    DELIVERED = "delivered"
    CONFIRMED = "confirmed"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    UNABLE_TO_FULFIL = "unable_to_fulfil"
    HANDED_OFF = "handed_off"
    ESCALATED = "escalated"


TERMINAL_STATUSES = frozenset({Status.CLOSED, Status.CANCELLED, Status.UNABLE_TO_FULFIL, Status.HANDED_OFF})
OPEN_STATUSES = frozenset(s for s in Status if s not in TERMINAL_STATUSES and s is not Status.CONFIRMED)


class RequestType(StrEnum):
    FOOD_PARCEL = "food_parcel"
    SHOPPING = "shopping"
    PRESCRIPTION = "prescription"
    BEFRIENDING = "befriending"
    TRANSPORT = "transport"
    DOG_WALKING = "dog_walking"
    OTHER = "other"


REQUEST_TYPE_LABELS = {
    RequestType.FOOD_PARCEL: "Food parcel",
    RequestType.SHOPPING: "Shopping",
    RequestType.PRESCRIPTION: "Prescription collection",
    RequestType.BEFRIENDING: "Befriending call",
    RequestType.TRANSPORT: "Transport to an appointment",
    RequestType.DOG_WALKING: "Dog walking",
    RequestType.OTHER: "Something else",
}

# Hours from intake to delivery that the council commits to, per type (the SLA).
SLA_HOURS = {
    RequestType.FOOD_PARCEL: 24,
    RequestType.PRESCRIPTION: 24,
    RequestType.SHOPPING: 48,
    RequestType.TRANSPORT: 48,
    RequestType.DOG_WALKING: 48,
    RequestType.BEFRIENDING: 72,
    RequestType.OTHER: 72,
}

URGENCY_LABELS = {1: "Routine", 2: "Soon", 3: "Urgent"}


class Channel(StrEnum):
    WEB = "web"
    PHONE = "phone"
    PARTNER = "partner"
    COUNCILLOR = "councillor"
    CAMPAIGN = "campaign"
    API = "api"
    # Handed to us by another authority (a signed bundle), and civic apps through Open311.
    HANDOFF = "handoff"
    OPEN311 = "open311"


class ContactChannel(StrEnum):
    PHONE = "phone"
    SMS = "sms"
    EMAIL = "email"
    LETTER = "letter"


class Recurrence(StrEnum):
    NONE = "none"
    DAILY = "daily"
    WEEKLY = "weekly"
    FORTNIGHTLY = "fortnightly"


RECURRENCE_DAYS = {Recurrence.DAILY: 1, Recurrence.WEEKLY: 7, Recurrence.FORTNIGHTLY: 14}


class DbsLevel(StrEnum):
    NONE = "none"
    BASIC = "basic"
    STANDARD = "standard"
    ENHANCED = "enhanced"


class LawfulBasis(StrEnum):
    CONSENT = "consent"
    PUBLIC_TASK = "public_task"
    VITAL_INTERESTS = "vital_interests"
    LEGAL_OBLIGATION = "legal_obligation"


SKILLS = {
    "driving": "Driving (has a car)",
    "dbs_checked": "DBS checked",
    "befriending": "Befriending",
    "pharmacy_collection": "Pharmacy collection",
    "heavy_lifting": "Heavy lifting",
    "shopping": "Shopping",
    "dog_walking": "Dog walking",
    "language_bengali": "Speaks Bengali",
    "language_polish": "Speaks Polish",
    "language_arabic": "Speaks Arabic",
    "language_somali": "Speaks Somali",
}


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


FINISHED_JOB_STATES = frozenset({JobState.SUCCEEDED, JobState.FAILED})


def values(enum: type[StrEnum]) -> list[str]:
    return [e.value for e in enum]
