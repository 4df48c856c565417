"""`import_shielded` (args: `import_id`): import a stored shielded-list upload, with progress; and
`campaign_contact` (args: `contact_id`): place one automated call or message for a campaign.

Idempotent: an import that has finished is not run again; a contact already made is not made again.
"""

from __future__ import annotations

from typing import Any

from can_crm.jobs.runner import Progress
from can_crm.models.job import Job
from can_crm.services.outreach import campaigns, shielded


def import_shielded(job: Job, progress: Progress) -> dict[str, Any]:
    return shielded.run_import(int(job.args["import_id"]), progress)


def campaign_contact(job: Job, progress: Progress) -> dict[str, Any]:
    return campaigns.make_contact(int(job.args["contact_id"]))
