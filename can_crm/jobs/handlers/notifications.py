"""`send_notification` (args: `notification_id` only): send one queued message; and the periodic tasks that
retry messages after their back-off and open follow-up call tasks when nobody said whether help arrived.

Idempotent: a message already sent (or found sent at the provider) is not sent again.
"""

from __future__ import annotations

from typing import Any

from can_crm.jobs.runner import Progress
from can_crm.models.job import Job
from can_crm.services.notifications import feedback, sending


def send_notification(job: Job, progress: Progress) -> dict[str, Any]:
    return sending.deliver(int(job.args["notification_id"]))


def retry_due() -> None:
    """Periodic: re-send messages whose back-off has passed."""
    sending.retry_due()


def follow_up_unanswered() -> None:
    """Periodic: a call task for each delivered request nobody confirmed within FEEDBACK_FOLLOW_UP_HOURS."""
    feedback.follow_up_unanswered()
