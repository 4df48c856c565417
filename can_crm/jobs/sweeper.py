"""The sweeper: re-send what Redis (or a restart) lost and recover what a dead worker left running.

Every job is a row first, so the sweeper needs only the database:

- `running` with no heartbeat for JOB_STALE_SECONDS: the worker died (killed, OOM, machine lost). That
  attempt counts as failed; the job is re-queued, or marked `failed` for good once it has used
  `max_attempts`.
- `queued` and last handed to the queue more than JOB_LOST_SECONDS ago (default: JOB_STALE_SECONDS):
  the push failed after the commit, Redis lost the job, or the process holding it in memory stopped.
  It is pushed again. If it was only slow, the extra delivery is a no-op at the claim.

Each change is a conditional UPDATE, so a sweep racing a worker or another sweep never undoes real
progress; on PostgreSQL an advisory lock lets one sweep run at a time anyway.

How it runs: a timer thread in each app process (see `can_crm.jobs.dispatch`, JOB_SWEEP_SECONDS), and
`flask --app wsgi sweep-jobs` for cron or a systemd timer where no web process runs.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial

from flask import current_app
from sqlalchemy import or_, select, text, update

from can_crm import unit_of_work
from can_crm.extensions import db
from can_crm.jobs import registry
from can_crm.jobs.runner import FAILED, QUEUED, RUNNING
from can_crm.models.base import utcnow
from can_crm.models.job import Job

log = logging.getLogger(__name__)

BATCH = 500
ADVISORY_LOCK = 0x63616E6A  # "canj": one sweeper at a time across processes


def _only_sweeper() -> bool:
    if db.session.get_bind().dialect.name != "postgresql":
        return True
    return bool(db.session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK}))


def sweep(now: datetime | None = None) -> int:
    """Recover stuck jobs; return how many were handed to the queue again. `now` is for tests."""
    now = now or utcnow()
    config = current_app.config
    stale_after = int(config["JOB_STALE_SECONDS"])
    lost_after = int(config.get("JOB_LOST_SECONDS") or stale_after)
    if not _only_sweeper():
        unit_of_work.rollback()
        log.info("another process is sweeping jobs")
        return 0
    pushes, failed = _recover_dead(now, now - timedelta(seconds=stale_after), stale_after)
    pushes += _resend_lost(now, now - timedelta(seconds=lost_after))
    failed += _end_exhausted(now)
    queue = current_app.extensions["can_queue"]
    for job_id, attempt in pushes:
        unit_of_work.on_commit(partial(queue.push, job_id, attempt))
    unit_of_work.commit()
    if pushes or failed:
        log.info("job sweep: %s re-queued %s, %s failed for good", len(pushes), [j for j, _ in pushes], failed)
    return len(pushes)


def _recover_dead(now: datetime, cutoff: datetime, stale_after: int) -> tuple[list[tuple[int, int]], int]:
    dead = db.session.execute(
        select(Job.id, Job.attempts, Job.max_attempts)
        .where(Job.state == RUNNING, or_(Job.heartbeat_at < cutoff, Job.heartbeat_at.is_(None)))
        .order_by(Job.id)
        .limit(BATCH)
    ).all()
    pushes: list[tuple[int, int]] = []
    failed = 0
    for job_id, attempts, max_attempts in dead:
        error = f"The worker stopped during attempt {attempts} (no heartbeat for {stale_after} seconds)"
        terminal = attempts >= max_attempts
        values = {"state": FAILED, "finished_at": now} if terminal else {"state": QUEUED, "enqueued_at": now}
        changed = db.session.execute(
            update(Job)
            .where(
                Job.id == job_id,
                Job.state == RUNNING,
                Job.attempts == attempts,
                or_(Job.heartbeat_at < cutoff, Job.heartbeat_at.is_(None)),
            )
            .values(error=error, **values)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]  # an UPDATE: a CursorResult
        if not changed:
            continue  # it beat, finished or was re-claimed in between: not dead after all
        log.warning("job %s: worker died during attempt %s of %s", job_id, attempts, max_attempts)
        if terminal:
            failed += 1
        else:
            pushes.append((job_id, attempts + 1))
    return pushes, failed


def _resend_lost(now: datetime, cutoff: datetime) -> list[tuple[int, int]]:
    lost = (
        select(Job.id)
        .where(
            Job.state == QUEUED,
            Job.attempts < Job.max_attempts,
            or_(Job.enqueued_at < cutoff, Job.enqueued_at.is_(None)),
        )
        .order_by(Job.id)
        .limit(BATCH)
    )
    rows = db.session.execute(
        update(Job)
        .where(Job.id.in_(lost.scalar_subquery()), Job.state == QUEUED)
        .values(enqueued_at=now)
        .returning(Job.id, Job.attempts)
        .execution_options(synchronize_session=False)
    ).all()
    return sorted((job_id, attempts + 1) for job_id, attempts in rows)


def _end_exhausted(now: datetime) -> int:
    # Only reachable if max_attempts was lowered under a queued job: no worker may claim it any more.
    ended = db.session.execute(
        update(Job)
        .where(Job.state == QUEUED, Job.attempts >= Job.max_attempts)
        .values(state=FAILED, finished_at=now, error="No attempts left")
        .execution_options(synchronize_session=False)
    )
    return int(ended.rowcount)  # type: ignore[attr-defined]  # an UPDATE: a CursorResult


def periodic() -> None:
    """What the timer thread in each app process does every JOB_SWEEP_SECONDS: the registry's periodic tasks
    (recover stuck jobs first), one transaction each; a failure rolls back that task only and is retried next
    tick."""
    for task in registry.periodic_tasks():
        try:
            task()
            unit_of_work.commit()
        except Exception:  # noqa: BLE001 - one failed task must not stop the others
            unit_of_work.rollback()
            log.warning("periodic task %s failed; retrying next tick", getattr(task, "__name__", task), exc_info=True)
