"""`push_handoffs`: deliver queued handoffs to partners' inboxes and apply their answers (args: `handoff_ids`, ids
only). And the periodic task that restarts pushes whose back-off has passed.

Idempotent: only handoffs still `queued` are pushed, and a partner's inbox answers a re-sent bundle as it did the
first time, so a repeated delivery of this job changes nothing twice.
"""

from __future__ import annotations

from typing import Any

from can_crm.jobs.runner import Progress
from can_crm.models.job import Job
from can_crm.services.federation import sending


def push_handoffs(job: Job, progress: Progress) -> dict[str, Any]:
    ids = [int(i) for i in job.args.get("handoff_ids", [])]
    return sending.push(ids, progress)


def retry_due_handoffs() -> None:
    """Periodic: push again the handoffs whose back-off has passed."""
    sending.retry_due()
