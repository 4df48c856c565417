"""Starting background jobs and showing their progress.

`start_job` writes the job row in the caller's transaction (the outbox) and hands the id to the queue only
after that transaction commits: a request that fails leaves no row and nothing in Redis.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import current_app
from sqlalchemy import select

from can_crm import unit_of_work
from can_crm.extensions import db
from can_crm.jobs import registry
from can_crm.models.base import utcnow
from can_crm.models.enums import FINISHED_JOB_STATES, JobState
from can_crm.models.job import Job
from can_crm.services.common.errors import NotFound

_ARG_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_ARGS_BYTES = 2000
MAX_IDS = 10_000

JOB_LABELS = {
    "selftest": "Queue self-test",
    "render_heatmap": "Heat map",
    "import_shielded": "Shielded list import",
    "push_handoffs": "Handoff to a partner authority",
    "plan_rounds": "Delivery rounds",
}


class JobArgumentError(ValueError):
    """A job was started with something other than ids and small numbers (a programming error, not user input)."""


def _check_value(key: str, value: Any) -> None:
    if value is None or isinstance(value, bool | int | float):
        return
    if (
        isinstance(value, list)
        and len(value) <= MAX_IDS
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        return
    # Text is refused outright: a name, an address or a note could be personal data, and Redis carries args.
    raise JobArgumentError(f"job argument {key!r} must be an id, a list of ids or a number, not {type(value).__name__}")


def check_args(args: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(args, dict):
        raise JobArgumentError("job arguments must be a dict of ids and numbers")
    for key, value in args.items():
        if not isinstance(key, str) or not _ARG_NAME.match(key):
            raise JobArgumentError(f"job argument name {key!r} must be lower_snake_case")
        if key.endswith("_id") and not (isinstance(value, int) and not isinstance(value, bool)):
            raise JobArgumentError(f"job argument {key!r} must be a whole-number id")
        _check_value(key, value)
    if len(json.dumps(args)) > MAX_ARGS_BYTES:
        raise JobArgumentError("job arguments are too large: pass the id of a row that holds the data")
    return args


def start_job(name: str, args: dict[str, Any], created_by_id: int | None) -> Job:
    """Record a job (ids only in `args`) and queue it once the surrounding transaction commits.

    The caller's boundary must commit with `unit_of_work.commit()` (web requests and jobs do): that is what
    hands the id to the queue. A row committed any other way is not lost, only late: the sweeper sends it.
    """
    if name not in registry.names():
        raise JobArgumentError(f"no job handler named {name!r}")
    job = Job(
        name=name,
        args=dict(check_args(args)),
        created_by_id=created_by_id,
        max_attempts=current_app.config["JOB_MAX_ATTEMPTS"],
        enqueued_at=utcnow(),
    )
    db.session.add(job)
    db.session.flush()
    job_id = job.id
    queue = current_app.extensions["can_queue"]
    unit_of_work.on_commit(lambda: queue.push(job_id, 1))
    return job


def get_job(job_id: int, user_id: int) -> Job:
    """A job as its starter sees it; other users' jobs are not found."""
    job = db.session.scalar(select(Job).where(Job.id == job_id, Job.created_by_id == user_id))
    if job is None:
        raise NotFound("No job with that id")
    return job


def describe(job: Job) -> dict[str, Any]:
    """What the progress page and its JSON show: state and counts, never the job's arguments."""
    return {
        "id": job.id,
        "name": job.name,
        "label": JOB_LABELS.get(job.name, job.name.replace("_", " ").capitalize()),
        "state": job.state,
        "finished": job.state in FINISHED_JOB_STATES,
        "progress": job.progress,
        "message": job.progress_message,
        "attempts": job.attempts,
        "max_attempts": job.max_attempts,
        "result": job.result,
        "error": job.error if job.state == JobState.FAILED else None,
        "created_at": job.created_at.isoformat() if job.created_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }
