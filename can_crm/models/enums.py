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
# A request in one of these holds its volunteer (against their limits): offered, accepted, or under way.
BUSY_STATUSES = (Status.MATCHED.value, Status.ACCEPTED.value, Status.IN_PROGRESS.value)


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


class DeliveryWindow(StrEnum):
    """When a food-parcel resident can take delivery: any time, a named part of the day (its hours are
    configured: DELIVERY_WINDOWS), or between two times the resident gives (`between`)."""

    ANY = "any"
    MORNING = "morning"
    AFTERNOON = "afternoon"
    EVENING = "evening"
    BETWEEN = "between"


DELIVERY_WINDOW_LABELS = {
    DeliveryWindow.ANY: "Any time",
    DeliveryWindow.MORNING: "Morning",
    DeliveryWindow.AFTERNOON: "Afternoon",
    DeliveryWindow.EVENING: "Evening",
    DeliveryWindow.BETWEEN: "Between two times",
}
# The named windows whose hours the configuration sets (DELIVERY_WINDOWS).
NAMED_DELIVERY_WINDOWS = (DeliveryWindow.MORNING, DeliveryWindow.AFTERNOON, DeliveryWindow.EVENING)

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


class VolunteerStatus(StrEnum):
    """Where a volunteer is with vetting; only `active` volunteers are ever offered work."""

    PENDING = "pending"
    ACTIVE = "active"
    REJECTED = "rejected"
    LEFT = "left"


class Transport(StrEnum):
    WALK = "walk"
    CYCLE = "cycle"
    CAR = "car"
    PUBLIC_TRANSPORT = "public_transport"


class OffersBy(StrEnum):
    """How a volunteer hears of what is offered to them."""

    WEB = "web"  # the volunteer app's "Offered to me"
    SMS = "sms"  # a text message, answered YES or NO (volunteers without a smartphone)


OFFERS_BY_LABELS = {
    OffersBy.WEB: "On this website (the volunteer app)",
    OffersBy.SMS: "By text message: I reply YES or NO",
}


TRANSPORT_LABELS = {
    Transport.WALK: "On foot",
    Transport.CYCLE: "Bicycle",
    Transport.CAR: "Car",
    Transport.PUBLIC_TRANSPORT: "Public transport",
}


class ProgressStep(StrEnum):
    ON_MY_WAY = "on_my_way"
    COLLECTED = "collected"
    DELIVERED = "delivered"
    COULD_NOT_DELIVER = "could_not_deliver"


NOT_DELIVERED_REASONS = {
    "nobody_home": "Nobody home",
    "wrong_address": "Wrong address",
    "unsafe": "It did not feel safe",
    "other": "Something else",
}


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


class EventKind(StrEnum):
    """What a line of a request's history records (the `kind` column)."""

    CREATED = "created"
    TRANSITION = "transition"
    TRIAGE = "triage"
    SAFEGUARDING = "safeguarding"
    MATCHING = "matching"
    LOCATION = "location"
    # A volunteer's step that is not a change of status (collected after on my way, why they could not deliver).
    PROGRESS = "progress"
    # A visit overran its expected time: the coordinators were alerted.
    LONE_WORKING = "lone_working"
    NOTIFICATION = "notification"  # a message to the resident was queued, sent or failed
    FEEDBACK = "feedback"  # the resident said whether help arrived
    CALL_TASK = "call_task"  # a coordinator must phone (no answer, no way to message, not received)
    CAMPAIGN = "campaign"  # raised from an outreach campaign call
    DELIVERY_ROUND = "delivery_round"  # put on a food-parcel delivery round a coordinator approved


class MessageChannel(StrEnum):
    SMS = "sms"
    EMAIL = "email"
    LETTER = "letter"


class MessageStatus(StrEnum):
    QUEUED = "queued"  # written, waiting for the send job
    RETRYING = "retrying"  # the provider failed; sent again after a back-off
    SENT = "sent"  # the provider accepted it
    DELIVERED = "delivered"  # the provider's receipt says it arrived
    FAILED = "failed"  # out of attempts, or the provider says it can never arrive: a coordinator is told


class FeedbackAnswer(StrEnum):
    YES = "yes"
    NO = "no"
    PARTLY = "partly"


class CallTaskKind(StrEnum):
    NO_CONTACT = "no_contact"  # a message nobody could deliver: no phone, no email
    MESSAGE_FAILED = "message_failed"  # the provider could not deliver it
    NO_ANSWER = "no_answer"  # nobody said whether help arrived in time
    NOT_RECEIVED = "not_received"  # the resident said help did not arrive, or only partly
    UNCLEAR_REPLY = "unclear_reply"  # a text message we could not read as yes or no


class CampaignChannel(StrEnum):
    SMS = "sms"
    EMAIL = "email"
    LETTER = "letter"
    AUTOMATED_CALL = "auto_call"
    PHONE = "phone"  # a coordinator's call list


class ContactOutcome(StrEnum):
    NEEDS_HELP = "needs_help"
    NO_HELP_NEEDED = "no_help_needed"
    NO_ANSWER = "no_answer"  # try again later
    WRONG_NUMBER = "wrong_number"
    DECLINED = "declined"


CONTACT_OUTCOME_LABELS = {
    ContactOutcome.NEEDS_HELP: "Needs help",
    ContactOutcome.NO_HELP_NEEDED: "No help needed",
    ContactOutcome.NO_ANSWER: "No answer (try again later)",
    ContactOutcome.WRONG_NUMBER: "Wrong number",
    ContactOutcome.DECLINED: "Declined",
}

LOCALES = {"en": "English", "pl": "Polski", "ar": "العربية", "es": "Español", "so": "Soomaali"}
RTL_LOCALES = frozenset({"ar"})


class LocationSource(StrEnum):
    """How a resident's location was found; none (NULL) means it is unknown."""

    POSTCODE = "postcode"
    NEARBY_POSTCODE = "nearby_postcode"
    COORDINATES = "coordinates"


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


FINISHED_JOB_STATES = frozenset({JobState.SUCCEEDED, JobState.FAILED})


def values(enum: type[StrEnum]) -> list[str]:
    return [e.value for e in enum]
