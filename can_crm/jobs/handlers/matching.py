"""`matching_run`: match the open triaged requests of one run (args: `run_id` only) and store its proposals;
for an automatic run, approve the proposals of the types an admin enabled. And the periodic scheduled runs.

Idempotent: a run that already has its proposals is left as it is, so a repeated delivery changes nothing.
"""

from __future__ import annotations

from typing import Any

from can_crm.jobs.runner import Progress
from can_crm.models.job import Job
from can_crm.services.matching import decisions, runs


def matching_run(job: Job, progress: Progress) -> dict[str, Any]:
    run_id = int(job.args["run_id"])
    result = runs.execute_run(run_id, progress)
    run = runs.get_run(run_id)
    result["auto_approved"] = decisions.auto_approve(run) if run.automatic and run.state == "proposed" else 0
    return result


def run_scheduled() -> None:
    """Periodic: start any scheduled matching run that is due."""
    runs.run_scheduled()
