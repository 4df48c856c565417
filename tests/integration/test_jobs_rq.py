"""Background jobs on the real Redis with real `rq worker` processes, including one killed mid-job.

Each run uses its own RQ queue name and touches only that queue's keys: other people share this Redis.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from rq import Queue
from rq.job import Job as RQJob
from rq.registry import FailedJobRegistry, FinishedJobRegistry, StartedJobRegistry
from rq.serializers import JSONSerializer
from sqlalchemy import func, select

from can_crm import unit_of_work
from can_crm.access import public
from can_crm.jobs.sweeper import sweep
from can_crm.models.audit import AuditEntry
from can_crm.models.base import utcnow
from can_crm.models.job import Job
from can_crm.services.common.errors import Conflict
from can_crm.services.common.jobs import JobArgumentError, start_job
from tests.conftest import FreshUserClient
from tests.conftest import sign_in as conftest_sign_in

pytestmark = pytest.mark.xdist_group("rq")

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
RQ = str(Path(sys.executable).parent / "rq")
PASSWORD = "correct horse battery staple"  # tests/conftest.py
WAIT = 30.0


def wait_for(condition: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture(scope="module")
def queue_name() -> str:
    return f"can_test_{os.getpid()}_{secrets.token_hex(4)}"


@pytest.fixture(scope="module")
def redis() -> Redis:
    connection = Redis.from_url(REDIS_URL)
    connection.ping()
    return connection


def forget_queue(redis: Redis, name: str) -> None:
    """Delete this queue, its jobs and its registries; nothing else in the shared Redis."""
    queue = Queue(name, connection=redis, serializer=JSONSerializer)
    ids = set(queue.get_job_ids())
    for registry in (StartedJobRegistry, FinishedJobRegistry, FailedJobRegistry):
        ids.update(
            registry(queue=queue).get_job_ids(cleanup=False)
            if registry is StartedJobRegistry
            else registry(queue=queue).get_job_ids()
        )
    for job_id in ids:
        redis.delete(f"rq:job:{job_id}", f"rq:results:{job_id}", f"rq:executions:{job_id}")
        for key in redis.scan_iter(match=f"rq:execution:{job_id}:*"):
            redis.delete(key)
    queue.delete(delete_jobs=True)
    for worker_key in redis.smembers(f"rq:workers:{name}"):  # ours, all stopped by now (a killed one cannot
        redis.delete(worker_key)  # deregister itself)
        redis.srem("rq:workers", worker_key)
    for key in redis.scan_iter(match=f"rq:*:{name}"):
        redis.delete(key)
    redis.srem("rq:queues", f"rq:queue:{name}")


@pytest.fixture(scope="module")
def rq_app(app: Any, database_url: str, postcode_index: Path, queue_name: str, redis: Redis) -> Iterator[Any]:
    """The app on the RQ backend, on the same migrated test database as `app`."""
    from can_crm import create_app

    rq_app = create_app(
        {
            "CAN_ENV": "test",
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url.replace("postgresql://", "postgresql+psycopg://"),
            "SQLALCHEMY_ENGINE_OPTIONS": {},
            "WTF_CSRF_ENABLED": False,
            "REDIS_URL": REDIS_URL,
            "RQ_QUEUE": queue_name,
            "POSTCODE_INDEX": str(postcode_index),
        }
    )

    @rq_app.post("/test-only/start-job/<outcome>")
    @public
    def start_then(outcome: str) -> Any:
        job = start_job("selftest", {}, None)
        if outcome == "refused":
            raise Conflict("refused after starting a job")
        if outcome == "crash":
            raise RuntimeError("crashed after starting a job")
        return {"id": job.id}

    rq_app.test_client_class = FreshUserClient  # two people in one test never share a signed-in user
    yield rq_app
    forget_queue(redis, queue_name)


@pytest.fixture
def rq_db(rq_app: Any, db: Any, redis: Redis, queue_name: str) -> Iterator[Any]:
    """`db` (emptied after the test) seen through the RQ app; the queue starts and ends empty."""
    forget_queue(redis, queue_name)
    with rq_app.app_context():
        yield db
        db.session.rollback()
    forget_queue(redis, queue_name)


@pytest.fixture
def rq_queue(rq_app: Any, redis: Redis, queue_name: str) -> Queue:
    return Queue(queue_name, connection=redis, serializer=JSONSerializer)


@pytest.fixture
def worker_env(database_url: str, postcode_index: Path, queue_name: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "JOB_MAX_ATTEMPTS", "JOB_STALE_SECONDS")}
    env.update(
        DATABASE_URL=database_url,
        CAN_ENV="test",
        REDIS_URL=REDIS_URL,
        RQ_QUEUE=queue_name,
        POSTCODE_INDEX=str(postcode_index),
        PYTHONPATH=str(ROOT),
    )
    return env


@pytest.fixture
def workers(worker_env: dict[str, str], queue_name: str, tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen]]:
    """Start real `rq worker` processes (each in its own process group); any still running are killed at the end."""
    started: list[subprocess.Popen] = []

    def start(burst: bool = True, worker_class: str | None = "can_crm.jobs.worker.Worker") -> subprocess.Popen:
        log = open(tmp_path / f"worker{len(started)}.log", "wb")  # noqa: SIM115 - closed with the process
        command = [
            RQ,
            "worker",
            queue_name,
            "--url",
            REDIS_URL,
            "--serializer",
            "rq.serializers.JSONSerializer",
            "--path",
            str(ROOT),
        ]
        if burst:
            command.append("--burst")
        if worker_class:
            command += ["--worker-class", worker_class]
        process = subprocess.Popen(  # noqa: S603 - a fixed command line built here, no outside input
            command, cwd=ROOT, env=worker_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        process.log_path = log.name  # type: ignore[attr-defined]
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def finish(process: subprocess.Popen) -> None:
    try:
        code = process.wait(timeout=WAIT)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError("the burst worker did not finish") from exc
    assert code == 0, Path(process.log_path).read_text()[-3000:]  # type: ignore[attr-defined]


def reload(db: Any, job_id: int) -> Job:
    db.session.rollback()
    job = db.session.get(Job, job_id)
    assert job is not None
    db.session.refresh(job)
    return job


def audit_count(db: Any, job_id: int) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action == "job.selftest", AuditEntry.object_id == job_id)
    )


def started_job(db: Any, args: dict[str, Any], user_id: int | None = None) -> int:
    job_id = start_job("selftest", args, user_id).id
    unit_of_work.commit()
    return job_id


def sign_in(app: Any, user: Any) -> Any:
    client = app.test_client()
    response = conftest_sign_in(client, user)
    assert response.status_code == 302 and "/auth/" not in response.headers["Location"], response.headers
    return client


@pytest.mark.parametrize(("outcome", "status"), [("refused", 409), ("crash", 500)])
def test_job_started_in_a_failed_request_is_never_enqueued(
    rq_app: Any, rq_db: Any, rq_queue: Queue, redis: Redis, outcome: str, status: int
) -> None:
    response = rq_app.test_client().post(f"/test-only/start-job/{outcome}")
    assert response.status_code == status
    assert rq_db.session.scalar(select(func.count()).select_from(Job)) == 0
    assert rq_queue.count == 0
    assert rq_queue.get_job_ids() == []


def test_job_started_in_a_successful_request_is_enqueued_after_commit(rq_app: Any, rq_db: Any, rq_queue: Queue) -> None:
    response = rq_app.test_client().post("/test-only/start-job/ok")
    assert response.status_code == 200
    job_id = response.get_json()["id"]
    assert reload(rq_db, job_id).state == "queued"
    [rq_id] = rq_queue.get_job_ids()
    assert rq_id.startswith(f"can-job-{job_id}-a1-")


def test_committed_job_runs_on_a_real_worker_with_progress_visible_to_its_starter(
    rq_app: Any, rq_db: Any, make_user: Any, workers: Any
) -> None:
    user = make_user("coordinator")
    job_id = started_job(rq_db, {"steps": 5, "delay": 0.4, "record": True}, user.id)
    client = sign_in(rq_app, user)
    assert client.get(f"/jobs/{job_id}.json").get_json()["state"] == "queued"
    worker = workers()
    mid = wait_for(
        lambda: (
            (d := client.get(f"/jobs/{job_id}.json").get_json())["state"] == "running" and 0 < d["progress"] < 100 and d
        ),
        "progress part-way through the job",
    )
    assert mid["message"].startswith("Step ")
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="2">' in page
    finish(worker)
    job = reload(rq_db, job_id)
    assert (job.state, job.attempts, job.progress, job.progress_message) == ("succeeded", 1, 100, "Step 5 of 5")
    assert job.result == {"steps": 5, "recorded": 1}
    assert audit_count(rq_db, job_id) == 1
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "http-equiv" not in page and "100% complete" in page
    other = sign_in(rq_app, make_user("coordinator"))
    denied = other.get(f"/jobs/{job_id}")
    assert denied.status_code == 404, denied.headers.get("Location")


def test_sweeper_reenqueues_a_job_redis_lost_and_a_worker_completes_it(
    rq_app: Any, rq_db: Any, rq_queue: Queue, redis: Redis, workers: Any
) -> None:
    job_id = started_job(rq_db, {"record": True})
    assert rq_queue.count == 1
    rq_queue.delete(delete_jobs=True)  # Redis loses everything on this queue
    assert rq_queue.count == 0
    assert sweep() == 0  # not old enough to call lost: it may simply be waiting
    later = utcnow() + timedelta(seconds=rq_app.config["JOB_STALE_SECONDS"] + 1)
    assert sweep(now=later) == 1
    [rq_id] = rq_queue.get_job_ids()
    assert rq_id.startswith(f"can-job-{job_id}-a1-")
    finish(workers(worker_class=None))  # the plain `rq worker` works too (it builds the app in each horse)
    job = reload(rq_db, job_id)
    assert (job.state, job.attempts) == ("succeeded", 1)
    assert audit_count(rq_db, job_id) == 1


def horse_of(worker: subprocess.Popen) -> int | None:
    """The work-horse process an `rq worker` forks for the job it is running (it has a process group of its own)."""
    try:
        children = Path(f"/proc/{worker.pid}/task/{worker.pid}/children").read_text().split()
    except FileNotFoundError:
        return None
    return int(children[0]) if children else None


def test_worker_killed_mid_job_is_swept_and_another_worker_completes_it_once(
    rq_app: Any, rq_db: Any, rq_queue: Queue, workers: Any
) -> None:
    job_id = started_job(rq_db, {"steps": 40, "delay": 0.25, "record": True})
    doomed = workers(burst=False)
    wait_for(lambda: (job := reload(rq_db, job_id)).state == "running" and job.progress >= 5, "the job to be under way")
    horse = wait_for(lambda: horse_of(doomed), "the work horse")
    os.kill(horse, signal.SIGKILL)
    os.killpg(doomed.pid, signal.SIGKILL)
    doomed.wait(timeout=WAIT)
    stuck = reload(rq_db, job_id)
    assert (stuck.state, stuck.attempts) == ("running", 1)
    assert 0 < stuck.progress < 100
    assert audit_count(rq_db, job_id) == 0  # the killed attempt's flushed write died with its transaction

    assert sweep() == 0  # its heartbeat is recent: it could still be alive
    later = utcnow() + timedelta(seconds=rq_app.config["JOB_STALE_SECONDS"] + 1)
    assert sweep(now=later) == 1
    swept = reload(rq_db, job_id)
    assert swept.state == "queued" and swept.error.startswith("The worker stopped during attempt 1")
    assert any(rq_id.startswith(f"can-job-{job_id}-a2-") for rq_id in rq_queue.get_job_ids())

    rq_db.session.execute(Job.__table__.update().where(Job.id == job_id).values(args={"steps": 2, "record": True}))
    unit_of_work.commit()  # the retry need not take another 10 seconds
    finish(workers())
    job = reload(rq_db, job_id)
    assert (job.state, job.attempts, job.progress) == ("succeeded", 2, 100)
    assert job.result == {"steps": 2, "recorded": 1}
    assert audit_count(rq_db, job_id) == 1


def test_always_failing_job_ends_failed_after_max_attempts_on_a_real_worker(
    rq_app: Any, rq_db: Any, rq_queue: Queue, workers: Any
) -> None:
    job_id = started_job(rq_db, {"fail": True, "record": True})
    finish(workers())  # a burst worker also runs the retries each failure queues
    job = reload(rq_db, job_id)
    max_attempts = rq_app.config["JOB_MAX_ATTEMPTS"]
    assert (job.state, job.attempts, job.max_attempts) == ("failed", max_attempts, max_attempts)
    assert job.error.startswith("SelftestFailure: selftest failure requested")
    assert job.finished_at is not None
    assert rq_queue.count == 0
    assert audit_count(rq_db, job_id) == 0
    # Neither the sweeper nor a stray redelivery makes a fourth attempt.
    assert sweep(now=utcnow() + timedelta(days=1)) == 0
    rq_app.extensions["can_queue"].push(job_id, max_attempts + 1)
    finish(workers())
    assert reload(rq_db, job_id).attempts == max_attempts


def test_redis_carries_only_the_job_id(
    rq_app: Any, rq_db: Any, rq_queue: Queue, redis: Redis, make_request: Any, resident_data: dict[str, Any]
) -> None:
    request = make_request()
    with pytest.raises(JobArgumentError):
        start_job("selftest", {"name": resident_data["name"]}, None)
    # (The request's own "request received" message is a job too: only the self-test is looked at here.)
    assert rq_db.session.scalar(select(func.count()).select_from(Job).where(Job.name == "selftest")) == 0
    job_id = started_job(rq_db, {"request_id": request.id, "resident_id": request.resident_id})
    [rq_id] = [i for i in rq_queue.get_job_ids() if i.startswith(f"can-job-{job_id}-")]
    rq_job = RQJob.fetch(rq_id, connection=redis, serializer=JSONSerializer)
    assert (rq_job.func_name, rq_job.args, rq_job.kwargs) == ("can_crm.jobs.worker.run", [job_id], {})
    stored = redis.hgetall(f"rq:job:{rq_id}")
    assert json.loads(zlib.decompress(stored[b"data"])) == ["can_crm.jobs.worker.run", None, [job_id], {}]
    everything = b" ".join(stored.values())
    for personal in (resident_data["name"], "Fulham Palace", resident_data["postcode"], "Weekly shop"):
        assert personal.encode() not in everything
