"""Job handlers, registered by name. Each takes the job row (ids in `job.args`) and a progress callback.

A handler runs inside the job's one transaction: it reloads what it needs by id, flushes (never commits),
and returns a small JSON-able summary of ids and counts. It must be idempotent: delivery is at-least-once.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import func, select

from can_crm.extensions import db
from can_crm.jobs.runner import Progress
from can_crm.models.audit import AuditEntry
from can_crm.models.job import Job


class SelftestFailure(RuntimeError):
    """Raised on purpose by `selftest` with `fail`: proves bounded retries end in a recorded failure."""


def selftest(job: Job, progress: Progress) -> dict[str, Any]:
    """A job that reports progress and leaves one audit entry: proves the queue end to end (health checks, tests).

    Args (all optional): `steps` (int), `delay` (seconds per step), `fail` (always raise), `record` (write the
    audit entry `job.selftest` for this job: the effect that must happen exactly once however often it runs).
    """
    steps = max(1, min(100, int(job.args.get("steps", 3))))
    delay = max(0.0, min(10.0, float(job.args.get("delay", 0))))
    recorded = 0
    if job.args.get("record"):
        # Written first, so a worker killed mid-job has it flushed but never committed: it must not survive.
        already = db.session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "job.selftest", AuditEntry.object_type == "job", AuditEntry.object_id == job.id)
        )
        if not already:
            db.session.add(
                AuditEntry(actor_id=job.created_by_id, action="job.selftest", object_type="job", object_id=job.id)
            )
            db.session.flush()
            recorded = 1
    for i in range(steps):
        time.sleep(delay)
        progress(int(100 * (i + 1) / steps), f"Step {i + 1} of {steps}")
    if job.args.get("fail"):
        raise SelftestFailure(f"selftest failure requested (steps={steps})")
    return {"steps": steps, "recorded": recorded}
