"""SQLAlchemy models, one module per aggregate."""

from can_crm.models.audit import AuditEntry
from can_crm.models.job import Job
from can_crm.models.matching import MatchingRun, MatchingSetting, MatchProposal
from can_crm.models.privacy import Consent, RetentionNotice, RetentionRun, ReviewTask, SavedSearch
from can_crm.models.request import HelpRequest, RequestEvent
from can_crm.models.resident import Resident
from can_crm.models.safeguarding import SafeguardingConcern
from can_crm.models.user import ApiToken, RecoveryCode, User
from can_crm.models.volunteer import Volunteer

__all__ = [
    "ApiToken",
    "AuditEntry",
    "Consent",
    "HelpRequest",
    "Job",
    "MatchProposal",
    "MatchingRun",
    "MatchingSetting",
    "RecoveryCode",
    "RequestEvent",
    "Resident",
    "RetentionNotice",
    "RetentionRun",
    "ReviewTask",
    "SavedSearch",
    "SafeguardingConcern",
    "User",
    "Volunteer",
]
