"""SQLAlchemy models, one module per aggregate."""

from can_crm.models.audit import AuditEntry
from can_crm.models.federation import DataSharingEntry, Handoff, HandoffRefusal, Open311Key, Partner
from can_crm.models.job import Job
from can_crm.models.matching import MatchingRun, MatchingSetting, MatchProposal
from can_crm.models.notification import CallTask, Feedback, FeedbackLink, InboundMessage, Notification, OutboxMessage
from can_crm.models.outreach import Campaign, CampaignContact, ShieldedImport
from can_crm.models.privacy import Consent, RetentionNotice, RetentionRun, ReviewTask, SavedSearch
from can_crm.models.request import HelpRequest, RequestEvent
from can_crm.models.resident import Resident
from can_crm.models.rounds import DeliveryRound, RoundPlan, RoundStop
from can_crm.models.safeguarding import SafeguardingConcern
from can_crm.models.tracing import Case, ContactMessage, Interaction, TraceContact, TraceIdentity
from can_crm.models.user import AccountInvitation, ApiToken, RecoveryCode, User
from can_crm.models.volunteer import SelfServiceType, Volunteer, VolunteerHours, VolunteerProgress

__all__ = [
    "AccountInvitation",
    "CallTask",
    "Campaign",
    "CampaignContact",
    "Feedback",
    "FeedbackLink",
    "InboundMessage",
    "Notification",
    "OutboxMessage",
    "ShieldedImport",
    "ApiToken",
    "AuditEntry",
    "Case",
    "ContactMessage",
    "DataSharingEntry",
    "DeliveryRound",
    "Handoff",
    "HandoffRefusal",
    "Consent",
    "HelpRequest",
    "Interaction",
    "Job",
    "MatchProposal",
    "MatchingRun",
    "MatchingSetting",
    "Open311Key",
    "Partner",
    "RecoveryCode",
    "RequestEvent",
    "Resident",
    "RetentionNotice",
    "RetentionRun",
    "RoundPlan",
    "RoundStop",
    "ReviewTask",
    "SavedSearch",
    "SafeguardingConcern",
    "TraceContact",
    "TraceIdentity",
    "User",
    "SelfServiceType",
    "Volunteer",
    "VolunteerHours",
    "VolunteerProgress",
]
