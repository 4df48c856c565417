"""The RQ entry points: `rq worker -w can_crm.jobs.worker.Worker <RQ_QUEUE> --url $REDIS_URL
--serializer rq.serializers.JSONSerializer`, with the web app's environment (DATABASE_URL, SECRET_KEY, ...).

What Redis carries is `can_crm.jobs.worker.run(<job id>)`. This module builds the app for a worker process, so it
sits outside the layers (like `wsgi.py`): the runner itself never imports the app factory.

A plain `rq worker` also works, but builds the app in every job's forked work horse (seconds per job). The
`Worker` class builds it once in the parent, before any fork; horses then share it copy-on-write and drop the
inherited (empty) connection pool before touching the database. Retries and sweeps go to the first queue the
worker listens on.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask
from rq import get_current_job
from rq.worker import Worker as RQWorker

from can_crm import create_app
from can_crm.extensions import db
from can_crm.jobs import runner

_worker_app: Flask | None = None
_worker_app_pid: int | None = None


def preload(queue_name: str | None = None) -> Flask:
    """Build the worker's app from the environment (once per process)."""
    global _worker_app, _worker_app_pid
    if _worker_app is None:
        _worker_app = create_app({"RQ_QUEUE": queue_name} if queue_name else None)
        _worker_app_pid = os.getpid()
    return _worker_app


def run(job_id: int) -> str:
    """What an `rq worker` calls. Retries go back to the queue this job came from."""
    global _worker_app_pid
    if _worker_app is None:
        current = get_current_job()
        preload(current.origin if current is not None else None)
    assert _worker_app is not None
    if _worker_app_pid != os.getpid():
        # A forked work horse: never use a database connection the parent may hold.
        with _worker_app.app_context():
            db.engine.dispose(close=False)
        _worker_app_pid = os.getpid()
    return runner.run_in_app(_worker_app, job_id)


class Worker(RQWorker):
    def work(self, *args: Any, **kwargs: Any) -> bool:
        preload(self.queue_names()[0] if self.queues else None)
        return super().work(*args, **kwargs)
