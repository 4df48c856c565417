"""Where job ids go after the commit: RQ on Redis when REDIS_URL is set, otherwise threads in-process.

Both paths call the same `can_crm.jobs.runner` code; the database row is the truth and Redis only a
delivery mechanism. What Redis carries is `can_crm.jobs.worker.run(<job id>)`, JSON-serialised, under
an RQ id `can-job-<id>-a<attempt>-<random>`: unique per push, because a push may legitimately repeat
(the sweeper re-sends what looks lost) and a repeated delivery is a no-op at the claim.

Workers: `rq worker -w can_crm.jobs.worker.Worker <RQ_QUEUE> --url $REDIS_URL --serializer
rq.serializers.JSONSerializer`, with the same environment as the web app (DATABASE_URL, SECRET_KEY, ...).
Without `-w` a plain worker works too, only slower (see `can_crm.jobs.worker`).

The sweeper (`can_crm.jobs.sweeper`) runs on a timer thread inside every app process that serves web
requests, for both backends, every JOB_SWEEP_SECONDS (default 60; 0 turns it off, and it is off when
TESTING). It starts on the first request (after any gunicorn fork), and on PostgreSQL an advisory lock
lets only one process sweep at a time. A deployment with workers but no web process can run
`flask --app wsgi sweep-jobs` from cron or a systemd timer instead: sweeping is idempotent.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from flask import Flask
from redis import Redis
from rq import Queue
from rq.serializers import JSONSerializer

from can_crm import unit_of_work
from can_crm.extensions import db
from can_crm.jobs import runner
from can_crm.jobs.sweeper import periodic

log = logging.getLogger(__name__)
QUEUE_NAME = "can_crm"  # overridden by the RQ_QUEUE setting
RUNNER = "can_crm.jobs.worker.run"


def rq_job_id(job_id: int, attempt: int) -> str:
    return f"can-job-{job_id}-a{attempt}-{secrets.token_hex(4)}"


class JobQueue:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.redis_url: str | None = app.config.get("REDIS_URL")
        self.queue_name: str = app.config.get("RQ_QUEUE") or QUEUE_NAME
        self._executor: ThreadPoolExecutor | None = None
        self._rq_queue: Any = None
        self._lock = threading.Lock()
        self._pending: set[int] = set()
        self.futures: list[Future[Any]] = []
        self._sweeper: threading.Thread | None = None
        self._sweeper_pid: int | None = None
        self._stop = threading.Event()

    @property
    def backend(self) -> str:
        return "rq" if self.redis_url else "in-process"

    def describe(self) -> dict[str, str]:
        described = {"backend": self.backend}
        if self.redis_url:
            described["queue"] = self.queue_name
        return described

    def rq_queue(self) -> Any:
        if self._rq_queue is None:
            # Short timeouts: a push happens after a web request's commit and must not hang it.
            connection = Redis.from_url(str(self.redis_url), socket_connect_timeout=2, socket_timeout=5)
            self._rq_queue = Queue(self.queue_name, connection=connection, serializer=JSONSerializer)
        return self._rq_queue

    def push(self, job_id: int, attempt: int = 1) -> None:
        """Hand a committed job to a worker. Never raises: a failed push loses nothing, the sweeper re-sends."""
        if self.redis_url:
            try:
                self.rq_queue().enqueue(
                    RUNNER,
                    job_id,
                    job_id=rq_job_id(job_id, attempt),
                    job_timeout=self.app.config.get("JOB_TIMEOUT_SECONDS", 600),
                    result_ttl=3600,
                    failure_ttl=86400,
                )
            except Exception:  # noqa: BLE001 - Redis down: the row stays queued and the sweeper retries
                log.warning("could not enqueue job %s; the sweeper will retry", job_id, exc_info=True)
            return
        if self.app.config.get("JOBS_INLINE"):
            runner.run_in_app(self.app, job_id)  # a fresh app context, so a session of its own
            return
        with self._lock:
            if job_id in self._pending:
                return  # already waiting for a thread: a second copy would only be skipped at the claim
            try:
                if self._executor is None:
                    self._executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="can-job")
                self.futures.append(self._executor.submit(self._run_local, job_id))
                self._pending.add(job_id)
            except RuntimeError:  # the interpreter is shutting down: the sweeper re-sends after a restart
                log.warning("could not start job %s in-process; the sweeper will retry", job_id)

    def _run_local(self, job_id: int) -> str:
        with self._lock:
            self._pending.discard(job_id)
        return runner.run_in_app(self.app, job_id)

    def wait(self, timeout: float = 30.0) -> None:
        """Wait until in-process jobs, and the retries they queue, have finished (tests and CLI commands)."""
        while True:
            with self._lock:
                futures, self.futures = self.futures, []
            if not futures:
                return
            for future in futures:
                future.result(timeout=timeout)

    # -- the periodic sweeper ---------------------------------------------------------------------------

    def sweep_interval(self) -> float:
        return float(self.app.config.get("JOB_SWEEP_SECONDS", 0 if self.app.testing else 60))

    def ensure_sweeper(self) -> None:
        """Start the sweeper thread in this process if it is not running (cheap: called on every request)."""
        if self._sweeper_pid == os.getpid() or self.sweep_interval() <= 0:
            return
        with self._lock:
            if self._sweeper_pid == os.getpid():
                return
            self._sweeper_pid = os.getpid()
            self._stop.clear()
            self._sweeper = threading.Thread(target=self._sweep_forever, name="can-job-sweeper", daemon=True)
            self._sweeper.start()

    def stop_sweeper(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._sweeper is not None:
            self._sweeper.join(timeout)
        self._sweeper, self._sweeper_pid = None, None

    def _sweep_forever(self) -> None:
        while not self._stop.wait(self.sweep_interval()):
            with self.app.app_context():
                try:
                    periodic()
                except Exception:  # noqa: BLE001 - a failed tick is retried on the next one
                    unit_of_work.rollback()
                    log.warning("periodic work failed; retrying in %ss", self.sweep_interval(), exc_info=True)
                finally:
                    db.session.remove()


def init_queue(app: Flask) -> None:
    queue = JobQueue(app)
    app.extensions["can_queue"] = queue
    app.before_request(queue.ensure_sweeper)
