"""Job entry point: take an id, reload the row, run the handler in one transaction, record the outcome.

Delivery is at-least-once, so a handler must be idempotent; a job that already finished is skipped.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app

from can_crm import unit_of_work
from can_crm.extensions import db
from can_crm.models.base import utcnow
from can_crm.models.job import Job

log = logging.getLogger(__name__)

Handler = Callable[[Job, "Progress"], dict[str, Any] | None]
HANDLERS: dict[str, Handler] = {}


def handler(name: str) -> Callable[[Handler], Handler]:
    """Register a job handler under `name` (the `Job.name` column)."""

    def register(fn: Handler) -> Handler:
        HANDLERS[name] = fn
        return fn

    return register


def attempt_token() -> str:
    return secrets.token_hex(4)


class Progress:
    """Progress is written on its own connection so the user sees it while the job's transaction is open."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id

    def __call__(self, percent: int, message: str | None = None) -> None:
        with db.engine.begin() as conn:
            conn.execute(
                Job.__table__.update()
                .where(Job.__table__.c.id == self.job_id)
                .values(progress=max(0, min(100, percent)), progress_message=message, heartbeat_at=utcnow())
            )


def _load_handlers() -> None:
    import can_crm.jobs.handlers  # noqa: F401 - registers the handlers


def execute(job_id: int) -> None:
    """Run job `job_id` inside the current app context."""
    _load_handlers()
    job = db.session.get(Job, job_id)
    if job is None or job.state in ("succeeded", "failed"):
        return
    fn = HANDLERS.get(job.name)
    job.attempts += 1
    job.state = "running"
    job.started_at = job.heartbeat_at = utcnow()
    unit_of_work.commit()
    try:
        if fn is None:
            raise LookupError(f"no handler for job {job.name!r}")
        result = fn(job, Progress(job_id))
    except Exception as exc:  # noqa: BLE001 - any failure is recorded on the row, then retried or ended
        unit_of_work.rollback()
        job = db.session.get(Job, job_id)
        assert job is not None
        log.warning("job %s (%s) attempt %s failed: %s", job_id, job.name, job.attempts, type(exc).__name__)
        job.error = f"{type(exc).__name__}: {exc}"[:2000]
        if job.attempts >= job.max_attempts:
            job.state = "failed"
            job.finished_at = utcnow()
        else:
            job.state = "queued"
            job.enqueued_at = utcnow()
            unit_of_work.on_commit(lambda: current_app.extensions["can_queue"].push(job_id))
        unit_of_work.commit()
        return
    job.state = "succeeded"
    job.progress = 100
    job.result = result
    job.finished_at = utcnow()
    unit_of_work.commit()


def run_in_app(app: Flask, job_id: int) -> None:
    with app.app_context():
        try:
            execute(job_id)
        finally:
            db.session.remove()


_worker_app: Flask | None = None


def run(job_id: int) -> None:
    """What an `rq worker` calls: build the app once per worker process, then run the job."""
    global _worker_app
    if _worker_app is None:
        from can_crm import create_app

        _worker_app = create_app()
    run_in_app(_worker_app, job_id)
