"""`plan_rounds`: plan a day's food-parcel delivery rounds for one plan (args: `plan_id` only) and store the draft.

Idempotent: a plan that already has its stops is left as it is, so a repeated delivery changes nothing.
"""

from __future__ import annotations

from typing import Any

from can_crm.jobs.runner import Progress
from can_crm.models.job import Job
from can_crm.services.rounds import plans


def plan_rounds(job: Job, progress: Progress) -> dict[str, Any]:
    return plans.execute_plan(int(job.args["plan_id"]), progress)
