"""A worker killed mid-send loses nothing and sends nothing twice: real Redis, real `rq worker`, and a local
server standing in for GOV.UK Notify that accepts the message and then is slow to answer."""

from __future__ import annotations

import os
import signal
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from can_crm import unit_of_work
from can_crm.jobs.sweeper import sweep
from can_crm.models.base import utcnow
from can_crm.models.job import Job
from can_crm.models.notification import Notification
from can_crm.services.notifications import outgoing
from tests.fake_notify import API_KEY, fake_notify

# The RQ fixtures (a queue of this run's own, real workers) live with the job tests.
from tests.integration.test_jobs_rq import (  # noqa: F401
    WAIT,
    finish,
    horse_of,
    queue_name,
    redis,
    rq_app,
    rq_db,
    rq_queue,
    wait_for,
    worker_env,
    workers,
)

pytestmark = pytest.mark.xdist_group("rq")


def test_worker_killed_mid_send_sends_once_and_loses_nothing(
    rq_app: Any,  # noqa: F811 - the fixtures imported above
    rq_db: Any,  # noqa: F811
    workers: Any,  # noqa: F811
    worker_env: dict[str, str],  # noqa: F811
    make_volunteer: Any,
) -> None:
    volunteer = make_volunteer()
    with fake_notify() as notify:
        notify.delay_seconds = 30  # accepted by "Notify", then the worker waits for the answer: kill it there
        worker_env.update(
            NOTIFY_API_KEY=API_KEY,
            NOTIFY_BASE_URL=notify.url,
            NOTIFY_SMS_TEMPLATE_ID="sms-template",
            NOTIFY_EMAIL_TEMPLATE_ID="email-template",
        )
        message = outgoing.send("contact_tracing", volunteer_id=volunteer.id)
        unit_of_work.commit()
        doomed = workers(burst=False)
        wait_for(lambda: notify.received, "the message to reach Notify")
        horse = wait_for(lambda: horse_of(doomed), "the work horse")
        os.kill(horse, signal.SIGKILL)
        os.killpg(doomed.pid, signal.SIGKILL)
        doomed.wait(timeout=WAIT)

        rq_db.session.rollback()
        stuck = rq_db.session.get(Notification, message.id)
        assert stuck.status == "queued" and stuck.send_started_at is not None

        job_id = rq_db.session.scalar(select(Job.id).where(Job.name == "send_notification"))
        later = utcnow() + timedelta(seconds=rq_app.config["JOB_STALE_SECONDS"] + 1)
        assert sweep(now=later) == 1
        unit_of_work.commit()
        notify.delay_seconds = 0
        finish(workers())

        rq_db.session.rollback()
        sent = rq_db.session.get(Notification, message.id)
        assert len(notify.received) == 1  # asked Notify by reference instead of sending again
        assert (sent.status, sent.provider, sent.provider_id) == ("sent", "notify", notify.received[0]["id"])
        assert rq_db.session.get(Job, job_id).state == "succeeded"
