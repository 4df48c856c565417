"""Background jobs without Redis (the embedded default): the same runner, the claim, the sweeper, the page."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from can_crm import unit_of_work
from can_crm.jobs import registry, runner
from can_crm.jobs.sweeper import sweep
from can_crm.models.audit import AuditEntry
from can_crm.models.base import utcnow
from can_crm.models.job import Job
from can_crm.services.common.jobs import JobArgumentError, start_job
from tests.conftest import sign_in as conftest_sign_in

PASSWORD = "correct horse battery staple"  # tests/conftest.py


def queue(app: Any) -> Any:
    return app.extensions["can_queue"]


def reload(db: Any, job_id: int) -> Job:
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert job is not None
    return job


def audit_count(db: Any, job_id: int) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action == "job.selftest", AuditEntry.object_id == job_id)
    )


def past_stale(app: Any) -> Any:
    return utcnow() + timedelta(seconds=app.config["JOB_STALE_SECONDS"] + 1)


def test_in_process_backend_runs_the_same_runner(app: Any, db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real_execute = runner.execute
    monkeypatch.setattr(runner, "execute", lambda job_id: calls.append(job_id) or real_execute(job_id))
    assert queue(app).describe() == {"backend": "in-process"}
    job_id = start_job("selftest", {"steps": 2, "record": True}, None).id
    assert calls == []  # nothing runs before the commit
    unit_of_work.commit()
    queue(app).wait()
    job = reload(db, job_id)
    assert calls == [job_id]
    assert (job.state, job.attempts, job.progress, job.progress_message) == ("succeeded", 1, 100, "Step 2 of 2")
    assert job.result == {"steps": 2, "recorded": 1}
    assert audit_count(db, job_id) == 1


def test_rolled_back_transaction_starts_no_job(app: Any, db: Any) -> None:
    start_job("selftest", {}, None)
    unit_of_work.rollback()
    queue(app).wait()
    assert db.session.scalar(select(func.count()).select_from(Job)) == 0


def test_failing_handler_ends_failed_after_max_attempts_in_process(app: Any, db: Any) -> None:
    job_id = start_job("selftest", {"fail": True, "record": True}, None).id
    unit_of_work.commit()
    queue(app).wait()
    job = reload(db, job_id)
    assert (job.state, job.attempts) == ("failed", app.config["JOB_MAX_ATTEMPTS"])
    assert job.error is not None and job.error.startswith("SelftestFailure: selftest failure requested")
    assert job.finished_at is not None
    assert audit_count(db, job_id) == 0  # each failed attempt's writes were rolled back
    assert runner.execute(job_id) == "skipped"  # a late delivery never makes another attempt
    assert reload(db, job_id).attempts == app.config["JOB_MAX_ATTEMPTS"]


@pytest.mark.parametrize(
    "args",
    [
        {"name": "Margaret Okafor"},
        {"resident_id": "Margaret Okafor"},
        {"resident_id": True},
        {"postcode": "W6 9XX"},
        {"ids": [1, "two"]},
        {"nested": {"request_id": 1}},
        {"Bad-Key": 1},
        {"ids": list(range(20_000))},
    ],
)
def test_start_job_refuses_anything_but_ids_and_numbers(app: Any, db: Any, args: dict[str, Any]) -> None:
    with pytest.raises(JobArgumentError):
        start_job("selftest", args, None)
    unit_of_work.commit()
    queue(app).wait()
    assert db.session.scalar(select(func.count()).select_from(Job)) == 0


def test_start_job_refuses_an_unknown_handler(app: Any, db: Any) -> None:
    with pytest.raises(JobArgumentError, match="no job handler named 'nosuch'"):
        start_job("nosuch", {}, None)


def test_start_job_accepts_ids_lists_of_ids_and_numbers(app: Any, db: Any) -> None:
    job = start_job("selftest", {"request_id": 7, "volunteer_ids": [1, 2], "steps": 1, "delay": 0.0}, None)
    assert job.args == {"request_id": 7, "volunteer_ids": [1, 2], "steps": 1, "delay": 0.0}
    unit_of_work.commit()
    queue(app).wait()


def queued_row(db: Any, name: str = "selftest", **values: Any) -> int:
    values.setdefault("args", {})
    values.setdefault("enqueued_at", utcnow())
    job = Job(name=name, max_attempts=3, **values)
    db.session.add(job)
    unit_of_work.commit()
    return job.id


def test_second_delivery_of_a_running_job_is_a_no_op(app: Any, db: Any) -> None:
    job_id = queued_row(db)
    assert runner.claim(job_id) == 1
    assert runner.claim(job_id) is None
    assert runner.execute(job_id) == "skipped"
    job = reload(db, job_id)
    assert (job.state, job.attempts) == ("running", 1)


def test_delivery_takes_over_a_job_whose_worker_stopped_beating(app: Any, db: Any) -> None:
    stale = utcnow() - timedelta(seconds=app.config["JOB_STALE_SECONDS"] + 5)
    job_id = queued_row(db, state="running", attempts=1, started_at=stale, heartbeat_at=stale)
    assert runner.execute(job_id) == "succeeded"
    job = reload(db, job_id)
    assert (job.state, job.attempts) == ("succeeded", 2)


def test_presumed_dead_worker_cannot_record_over_its_successor(app: Any, db: Any) -> None:
    job_id = queued_row(db, args={"record": True})
    assert runner.claim(job_id) == 1  # worker A takes it, then goes silent
    assert sweep(now=past_stale(app)) == 1  # presumed dead: re-queued, and worker B runs it
    queue(app).wait()
    assert reload(db, job_id).state == "succeeded"
    # Worker A wakes up and tries to finish its attempt: its claim is gone, so nothing it wrote lands.
    assert runner._finish(job_id, 1, state="succeeded", result={"from": "zombie"}) is False
    unit_of_work.rollback()
    job = reload(db, job_id)
    assert (job.attempts, job.result) == (2, {"steps": 3, "recorded": 1})
    assert audit_count(db, job_id) == 1


def test_progress_from_a_lost_claim_is_ignored(app: Any, db: Any) -> None:
    job_id = queued_row(db)
    runner.Progress(job_id, attempt=1)(50, "Half way")  # nobody holds attempt 1
    assert reload(db, job_id).progress == 0


def test_sweeper_requeues_lost_and_dead_jobs_and_ends_exhausted_ones(app: Any, db: Any) -> None:
    old = utcnow() - timedelta(seconds=app.config["JOB_STALE_SECONDS"] + 5)
    lost = queued_row(db, enqueued_at=old)
    dead = queued_row(db, state="running", attempts=1, heartbeat_at=old)
    exhausted = queued_row(db, state="running", attempts=3, heartbeat_at=old)
    fresh = queued_row(db, state="running", attempts=1, heartbeat_at=utcnow())
    assert sweep() == 2
    queue(app).wait()
    assert reload(db, lost).state == "succeeded"
    assert (reload(db, dead).state, reload(db, dead).attempts) == ("succeeded", 2)
    ended = reload(db, exhausted)
    assert (ended.state, ended.attempts) == ("failed", 3)
    stale_after = app.config["JOB_STALE_SECONDS"]
    assert ended.error == f"The worker stopped during attempt 3 (no heartbeat for {stale_after} seconds)"
    assert reload(db, fresh).state == "running"  # beating recently: left alone
    assert sweep() == 0


def test_sweep_jobs_command_reports_what_it_requeued(app: Any, db: Any) -> None:
    queued_row(db, enqueued_at=utcnow() - timedelta(days=1))
    result = app.test_cli_runner().invoke(args=["sweep-jobs"])
    queue(app).wait()
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Re-queued 1 job(s)"


def test_heartbeat_keeps_a_silent_long_step_alive(app: Any, db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "heartbeat_seconds", lambda: 0.05)
    seen: list[Any] = []

    def silent(job: Job, progress: runner.Progress) -> None:
        first = reload_heartbeat(job.id)
        for _ in range(100):  # bounded: until a beat lands, at most ~5 s
            if reload_heartbeat(job.id) != first:
                break
            time.sleep(0.05)
        seen.append((first, reload_heartbeat(job.id)))

    def reload_heartbeat(job_id: int) -> Any:
        from can_crm.extensions import db as _db

        with _db.engine.connect() as conn:
            return conn.execute(select(Job.heartbeat_at).where(Job.id == job_id)).scalar_one()

    real_handler_for = registry.handler_for
    monkeypatch.setattr(
        registry, "handler_for", lambda name: silent if name == "test_silent" else real_handler_for(name)
    )
    job_id = queued_row(db, name="test_silent")
    assert runner.execute(job_id) == "succeeded"
    ((first, later),) = seen
    assert later > first


# -- the progress page ----------------------------------------------------------------------------------


def sign_in(app: Any, user: Any) -> Any:
    client = app.test_client()
    response = conftest_sign_in(client, user)
    assert response.status_code == 302
    return client


def test_progress_page_shows_a_running_job_to_its_starter_and_refreshes(app: Any, db: Any, make_user: Any) -> None:
    user = make_user("partner")
    job_id = queued_row(
        db,
        state="running",
        attempts=1,
        progress=40,
        progress_message="Step 2 of 5",
        created_by_id=user.id,
        heartbeat_at=utcnow(),
    )
    client = sign_in(app, user)
    page = client.get(f"/jobs/{job_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="2">' in html
    assert "40% complete" in html and "Step 2 of 5" in html and "Running" in html
    data = client.get(f"/jobs/{job_id}.json").get_json()
    assert data["state"] == "running" and data["progress"] == 40 and data["message"] == "Step 2 of 5"
    assert "args" not in data


def test_progress_page_shows_result_and_stops_refreshing_when_done(app: Any, db: Any, make_user: Any) -> None:
    user = make_user("coordinator")
    job_id = start_job("selftest", {"steps": 2}, user.id).id
    unit_of_work.commit()
    queue(app).wait()
    client = sign_in(app, user)
    html = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "http-equiv" not in html
    assert "Finished" in html and "100% complete" in html and "Step 2 of 2" in html
    assert client.get(f"/jobs/{job_id}.json").get_json()["result"] == {"steps": 2, "recorded": 0}


def test_progress_page_shows_the_error_of_a_failed_job(app: Any, db: Any, make_user: Any) -> None:
    user = make_user("admin")
    job_id = queued_row(db, state="failed", attempts=3, error="SelftestFailure: boom", created_by_id=user.id)
    client = sign_in(app, user)
    html = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "This job failed" in html and "SelftestFailure: boom" in html and "3 of 3" in html
    assert client.get(f"/jobs/{job_id}.json").get_json()["error"] == "SelftestFailure: boom"


@pytest.mark.parametrize("role", ["admin", "coordinator", "volunteer", "partner", "councillor"])
def test_every_role_sees_its_own_job_and_not_anothers(app: Any, db: Any, make_user: Any, role: str) -> None:
    starter, other = make_user(role), make_user(role)
    job_id = queued_row(db, created_by_id=starter.id)
    assert sign_in(app, starter).get(f"/jobs/{job_id}").status_code == 200
    snoop = sign_in(app, other)
    assert snoop.get(f"/jobs/{job_id}").status_code == 404
    missing = snoop.get(f"/jobs/{job_id}.json")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    assert snoop.get(f"/jobs/{job_id + 1000}").status_code == 404


def test_progress_page_sends_anonymous_visitors_to_sign_in(app: Any, db: Any) -> None:
    job_id = queued_row(db)
    for path in (f"/jobs/{job_id}", f"/jobs/{job_id}.json"):
        response = app.test_client().get(path)
        assert response.status_code == 302 and "/auth/sign-in" in response.headers["Location"]


# -- the periodic sweeper and the embedded default (SQLite) -------------------------------------------


def wait_for_state(db: Any, job_id: int, state: str, timeout: float = 30.0) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = reload(db, job_id)
        if job.state == state:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not reach {state!r} within {timeout}s")


def test_app_process_sweeps_on_a_timer_once_started(app: Any, db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    lost = queued_row(db, enqueued_at=utcnow() - timedelta(days=1))
    assert queue(app).sweep_interval() == 0  # off under TESTING unless asked for
    monkeypatch.setitem(app.config, "JOB_SWEEP_SECONDS", 0.1)
    try:
        app.test_client().get("/healthz")  # the first request starts the timer in this process
        wait_for_state(db, lost, "succeeded")
    finally:
        queue(app).stop_sweeper()
        queue(app).wait()


@pytest.mark.sqlite
def test_embedded_default_runs_jobs_in_process_on_sqlite(tmp_path: Any, postcode_index: Any) -> None:
    from flask_migrate import upgrade

    from can_crm import create_app
    from can_crm.extensions import db

    sqlite_app = create_app(
        {
            "CAN_ENV": "test",
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'jobs.sqlite'}",
            "REDIS_URL": None,
            "POSTCODE_INDEX": str(postcode_index),
        }
    )
    with sqlite_app.app_context():
        upgrade(directory=str(Path(__file__).resolve().parents[2] / "migrations"))
        done = start_job("selftest", {"steps": 3, "record": True}, None).id
        failing = start_job("selftest", {"fail": True}, None).id
        unit_of_work.commit()
        queue(sqlite_app).wait()
        job = reload(db, done)
        assert (job.state, job.progress, job.result) == ("succeeded", 100, {"steps": 3, "recorded": 1})
        assert audit_count(db, done) == 1
        assert (reload(db, failing).state, reload(db, failing).attempts) == ("failed", 3)
        stale = utcnow() - timedelta(days=1)
        dead = queued_row(db, state="running", attempts=1, heartbeat_at=stale)
        assert sweep() == 1
        queue(sqlite_app).wait()
        assert reload(db, dead).state == "succeeded"
        db.session.remove()
