"""The RQ worker class to deploy: `rq worker -w can_crm.jobs.worker.Worker <RQ_QUEUE> --url $REDIS_URL
--serializer rq.serializers.JSONSerializer`, with the web app's environment (DATABASE_URL, SECRET_KEY, ...).

A plain `rq worker` also works, but imports and builds the app in every job's forked work horse (seconds
per job). This class builds it once in the parent, before any fork; horses then share it copy-on-write and
drop the inherited (empty) connection pool before touching the database. Retries and sweeps go to the
first queue the worker listens on.
"""

from __future__ import annotations

from typing import Any

from rq.worker import Worker as RQWorker

from can_crm.jobs import runner


class Worker(RQWorker):
    def work(self, *args: Any, **kwargs: Any) -> bool:
        runner.preload(self.queue_names()[0] if self.queues else None)
        return super().work(*args, **kwargs)
