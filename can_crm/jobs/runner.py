"""Job entry point: take an id, claim the row, run the handler in one transaction, record the outcome.

Delivery is at-least-once (a sweeper re-sends what looks lost, a retry may race a slow worker), so:

- A delivery first *claims* the row with one conditional UPDATE (`queued`, or `running` with a heartbeat
  older than JOB_STALE_SECONDS) that bumps `attempts`. The claim commits on its own, so a second
  delivery of the same job finds the row `running` and does nothing.
- The handler's writes and the `succeeded` mark commit in ONE transaction, and that mark is itself
  conditional on this claim still holding (same `attempts`, still `running`). A worker that was
  presumed dead and comes back finds its claim gone and rolls back: its effects never land twice.
- A handler exception rolls its writes back, records the error, and either re-queues the job (after the
  commit) or, once `max_attempts` is reached, marks it `failed` for good (the GOV.UK Notify pattern).
  A worker killed outright records nothing: its heartbeat stops and `sweeper.sweep()` counts that
  attempt as failed.
- Progress and the heartbeat are written on their own short transactions so the user sees them while the
  job's transaction is still open. They only touch the row while this claim holds.

Handlers receive a detached copy of the row (changing it does nothing) and must not write the `jobs`
table themselves: the job's open transaction would then hold the row lock the progress writes wait for.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import and_, or_, update
from sqlalchemy.exc import SQLAlchemyError

from can_crm import unit_of_work
from can_crm.extensions import db
from can_crm.jobs import registry
from can_crm.models.base import utcnow
from can_crm.models.enums import JobState
from can_crm.models.job import Job

log = logging.getLogger(__name__)

QUEUED, RUNNING, SUCCEEDED, FAILED = (s.value for s in JobState)


def stale_seconds() -> int:
    return int(current_app.config["JOB_STALE_SECONDS"])


def heartbeat_seconds() -> float:
    # Several beats fit in the stale window, so one slow beat never makes a live job look dead.
    return max(0.5, min(30.0, stale_seconds() / 4))


def _holds_claim(job_id: int, attempt: int) -> Any:
    table = Job.__table__
    return and_(table.c.id == job_id, table.c.state == RUNNING, table.c.attempts == attempt)


def _write_on_own_connection(job_id: int, attempt: int, values: dict[str, Any]) -> bool | None:
    """A short transaction beside the job's own: True if written, False if this claim no longer holds, None if
    the database did not answer in time. Best effort: a failure here must not fail the job."""
    statement = Job.__table__.update().where(_holds_claim(job_id, attempt)).values(**values)
    try:
        with db.engine.connect() as conn:
            sqlite = conn.dialect.name == "sqlite"
            if sqlite:
                # SQLite has one writer at a time: once the job has written, progress waits for its commit.
                # Give up quickly rather than stall the job for the default five seconds.
                conn.exec_driver_sql("PRAGMA busy_timeout = 100")
            try:
                with conn.begin():
                    if conn.dialect.name == "postgresql":
                        # Never wait long on the row: the job's own transaction could be holding it.
                        conn.exec_driver_sql("SET LOCAL lock_timeout = '2s'")
                    return bool(conn.execute(statement).rowcount)
            finally:
                if sqlite:
                    conn.exec_driver_sql("PRAGMA busy_timeout = 5000")
    except SQLAlchemyError as exc:
        log.info("job %s: progress/heartbeat not written (%s)", job_id, type(exc).__name__)
        return None


class Progress:
    """`progress(percent, message)`: what the user who started the job sees on /jobs/<id>."""

    def __init__(self, job_id: int, attempt: int = 0) -> None:
        self.job_id = job_id
        self.attempt = attempt

    def __call__(self, percent: int, message: str | None = None) -> None:
        values = {"progress": max(0, min(100, int(percent))), "heartbeat_at": utcnow()}
        values["progress_message"] = message[:200] if message else None
        _write_on_own_connection(self.job_id, self.attempt, values)


class Heartbeat:
    """Refreshes `heartbeat_at` while a handler runs, so a long silent step is not mistaken for a dead worker."""

    def __init__(self, app: Flask, job_id: int, attempt: int, interval: float) -> None:
        self.app, self.job_id, self.attempt, self.interval = app, job_id, attempt, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"can-job-{job_id}-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        with self.app.app_context():
            while not self._stop.wait(self.interval):
                if _write_on_own_connection(self.job_id, self.attempt, {"heartbeat_at": utcnow()}) is False:
                    return  # the claim is gone: nothing left to keep alive


def claim(job_id: int) -> int | None:
    """Take job `job_id` for this worker; return the attempt number, or None if it is not ours to run."""
    now = utcnow()
    stale = now - timedelta(seconds=stale_seconds())
    statement = (
        update(Job)
        .where(
            Job.id == job_id,
            Job.attempts < Job.max_attempts,
            or_(Job.state == QUEUED, and_(Job.state == RUNNING, Job.heartbeat_at < stale)),
        )
        .values(
            state=RUNNING,
            attempts=Job.attempts + 1,
            started_at=now,
            heartbeat_at=now,
            progress=0,
            progress_message=None,
        )
        .returning(Job.attempts)
        .execution_options(synchronize_session=False)
    )
    attempt = db.session.execute(statement).scalar_one_or_none()
    unit_of_work.commit()
    return attempt


def _finish(job_id: int, attempt: int, **values: Any) -> bool:
    statement = (
        update(Job).where(_holds_claim(job_id, attempt)).values(**values).execution_options(synchronize_session=False)
    )
    return bool(db.session.execute(statement).rowcount)  # type: ignore[attr-defined]  # an UPDATE: a CursorResult


def execute(job_id: int) -> str:
    """Run job `job_id` inside the current app context; return what happened (for logs and tests)."""
    attempt = claim(job_id)
    if attempt is None:
        log.info("job %s: not claimable (finished, running elsewhere, or out of attempts); skipped", job_id)
        return "skipped"
    job = db.session.get(Job, job_id)
    assert job is not None  # we just claimed it
    db.session.expunge(job)
    fn = registry.handler_for(job.name)
    log.info("job %s (%s) attempt %s of %s started", job_id, job.name, attempt, job.max_attempts)
    try:
        with Heartbeat(current_app._get_current_object(), job_id, attempt, heartbeat_seconds()):  # type: ignore[attr-defined]
            if fn is None:
                raise LookupError(f"no handler for job {job.name!r}")
            result = fn(job, Progress(job_id, attempt))
            db.session.flush()
        done = _finish(job_id, attempt, state=SUCCEEDED, progress=100, result=result, error=None, finished_at=utcnow())
        if not done:
            unit_of_work.rollback()
            log.warning("job %s attempt %s lost its claim (presumed dead); its work was rolled back", job_id, attempt)
            return "lost"
        unit_of_work.commit()
    except Exception as exc:  # noqa: BLE001 - any failure is recorded on the row, then retried or ended
        unit_of_work.rollback()
        return _record_failure(job_id, attempt, job.max_attempts, exc)
    log.info("job %s (%s) attempt %s succeeded", job_id, job.name, attempt)
    return SUCCEEDED


def _record_failure(job_id: int, attempt: int, max_attempts: int, exc: Exception) -> str:
    log.warning("job %s attempt %s of %s failed: %s", job_id, attempt, max_attempts, type(exc).__name__)
    error = f"{type(exc).__name__}: {exc}"[:2000]
    now = utcnow()
    if attempt >= max_attempts:
        outcome = FAILED
        recorded = _finish(job_id, attempt, state=FAILED, error=error, finished_at=now)
    else:
        outcome = QUEUED
        recorded = _finish(job_id, attempt, state=QUEUED, error=error, enqueued_at=now)
        if recorded:
            queue = current_app.extensions["can_queue"]
            unit_of_work.on_commit(lambda: queue.push(job_id, attempt + 1))
    unit_of_work.commit()
    if not recorded:
        # The row had moved on: re-claimed after a missed heartbeat, or already committed as succeeded and
        # what failed was a side effect run after that commit.
        log.warning("job %s attempt %s: failure not recorded, the job had moved on", job_id, attempt)
        return "lost"
    return outcome


def run_in_app(app: Flask, job_id: int) -> str:
    with app.app_context():
        try:
            return execute(job_id)
        finally:
            db.session.remove()
