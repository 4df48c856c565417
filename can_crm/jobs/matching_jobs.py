"""`matching_run`: match the open triaged requests of one run (args: `run_id` only) and store its proposals.

Idempotent: a run that already has its proposals is left as it is, so a repeated delivery changes nothing.
"""

from __future__ import annotations

from typing import Any

from can_crm.jobs.runner import Progress, handler
from can_crm.models.job import Job
from can_crm.services import matching_runs


@handler(matching_runs.RUN_JOB)
def matching_run(job: Job, progress: Progress) -> dict[str, Any]:
    return matching_runs.execute_run(int(job.args["run_id"]), progress)
