"""Job handlers, registered by name. Each takes the job row (ids in `job.args`) and a progress callback."""

from __future__ import annotations

import time
from typing import Any

from can_crm.jobs.runner import Progress, handler
from can_crm.models.job import Job


@handler("selftest")
def selftest(job: Job, progress: Progress) -> dict[str, Any]:
    """A job that only reports progress: proves the queue end to end (health checks and tests)."""
    steps = int(job.args.get("steps", 3))
    delay = float(job.args.get("delay", 0))
    for i in range(steps):
        time.sleep(delay)
        progress(int(100 * (i + 1) / steps), f"Step {i + 1} of {steps}")
    return {"steps": steps}
