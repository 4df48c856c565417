"""Starting background jobs: a row in the same transaction, the queue only after the commit."""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import select

from can_crm import unit_of_work
from can_crm.extensions import db
from can_crm.models.base import utcnow
from can_crm.models.job import Job
from can_crm.services.errors import NotFound


def start_job(name: str, args: dict[str, Any], created_by_id: int | None) -> Job:
    """Record a job (ids only in `args`) and queue it once the surrounding transaction commits."""
    for key, value in args.items():
        if not isinstance(value, int | float | bool | type(None)) and not (isinstance(value, str) and len(value) < 64):
            raise ValueError(f"job argument {key!r} must be an id or a small scalar, not personal data")
    job = Job(
        name=name,
        args=args,
        created_by_id=created_by_id,
        max_attempts=current_app.config["JOB_MAX_ATTEMPTS"],
        enqueued_at=utcnow(),
    )
    db.session.add(job)
    db.session.flush()
    job_id = job.id
    queue = current_app.extensions["can_queue"]
    unit_of_work.on_commit(lambda: queue.push(job_id))
    return job


def get_job(job_id: int, user_id: int) -> Job:
    """A job as its starter sees it; other users' jobs are not found."""
    job = db.session.scalar(select(Job).where(Job.id == job_id, Job.created_by_id == user_id))
    if job is None:
        raise NotFound("No job with that id")
    return job
