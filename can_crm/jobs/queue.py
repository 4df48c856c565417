"""Where job ids go after the commit: RQ on Redis when REDIS_URL is set, otherwise a thread in-process.

Both paths call the same `can_crm.jobs.runner.run(job_id)`; the database row is the truth.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from flask import Flask

log = logging.getLogger(__name__)
QUEUE_NAME = "can_crm"  # overridden by the RQ_QUEUE setting


class JobQueue:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.redis_url: str | None = app.config.get("REDIS_URL")
        self._executor: ThreadPoolExecutor | None = None
        self._rq_queue: Any = None
        self.futures: list[Future[None]] = []

    @property
    def backend(self) -> str:
        return "rq" if self.redis_url else "in-process"

    def describe(self) -> dict[str, str]:
        return {"backend": self.backend}

    def rq_queue(self) -> Any:
        if self._rq_queue is None:
            from redis import Redis
            from rq import Queue
            from rq.serializers import JSONSerializer

            self._rq_queue = Queue(self.app.config.get("RQ_QUEUE", QUEUE_NAME), connection=Redis.from_url(self.redis_url), serializer=JSONSerializer)
        return self._rq_queue

    def push(self, job_id: int) -> None:
        """Hand a committed job to a worker. Failure here loses nothing: the sweeper re-sends it."""
        from can_crm.jobs import runner

        if self.redis_url:
            try:
                self.rq_queue().enqueue(
                    "can_crm.jobs.runner.run", job_id, job_id=f"can-job-{job_id}-{runner.attempt_token()}",
                    job_timeout=600, result_ttl=3600, failure_ttl=86400,
                )
            except Exception:  # noqa: BLE001 - Redis down: the row stays queued and the sweeper retries
                log.warning("could not enqueue job %s; the sweeper will retry", job_id, exc_info=True)
            return
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="can-job")
        self.futures.append(self._executor.submit(runner.run_in_app, self.app, job_id))

    def wait(self, timeout: float = 30.0) -> None:
        """Wait for in-process jobs (tests and CLI commands)."""
        futures, self.futures = self.futures, []
        for future in futures:
            future.result(timeout=timeout)


def init_queue(app: Flask) -> None:
    app.extensions["can_queue"] = JobQueue(app)
