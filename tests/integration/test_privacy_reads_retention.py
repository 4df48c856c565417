"""Audit of reads (views, searches, exports; unusual volume flagged), retention schedules and their report,
the coordinator and admin privacy pages, and the security headers on every kind of page."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from can_crm import unit_of_work
from can_crm.models.audit import AuditEntry
from can_crm.models.base import utcnow
from can_crm.models.job import Job
from can_crm.models.privacy import RetentionNotice, RetentionRun, SavedSearch
from can_crm.models.request import HelpRequest
from can_crm.models.resident import Resident
from can_crm.services.privacy import erasure, reads, retention
from can_crm.services.requests import lifecycle
from can_crm.services.requests.events import Actor


def test_views_and_searches_are_audited_with_role_and_count(
    client: Any, make_user: Any, login: Any, make_request: Any, db: Any
) -> None:
    coordinator = make_user("coordinator")
    req = make_request(resident={"name": "Ada Lovelace"})
    login(coordinator)
    client.get(f"/coordinator/requests/{req.reference}")
    found = client.post("/coordinator/", data={"q": "lovelace"})
    client.get(found.headers["Location"])
    rows = db.session.scalars(select(AuditEntry).where(AuditEntry.actor_id == coordinator.id)).all()
    assert {(r.action, r.actor_role) for r in rows} >= {("view_resident", "coordinator"), ("search", "coordinator")}
    assert next(r for r in rows if r.action == "search").records == 1
    assert next(r for r in rows if r.action == "view_resident").resident_id == req.resident_id


def test_a_user_reading_an_unusual_number_of_records_is_flagged(
    app: Any, client: Any, make_user: Any, login: Any, make_request: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "READ_ALERT_RECORDS", 3)
    busy = make_user("coordinator", email="busy@example.gov.uk")
    req = make_request()
    for _ in range(4):
        reads.record_view(busy, req.resident_id)
    unit_of_work.commit()
    assert [f.user_id for f in reads.flagged()] == [busy.id]
    login(make_user("admin"))
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "Unusual reading" in page and "busy@example.gov.uk" in page
    assert client.get("/admin/audit?resident_id=x").status_code == 400


def test_coordinators_cannot_read_the_audit_log(client: Any, make_user: Any, login: Any) -> None:
    login(make_user("coordinator"))
    assert client.get("/admin/audit").status_code == 403


def _closed_long_ago(make_request: Any, db: Any, days: int, **resident: Any) -> Any:
    req = make_request(resident=resident)
    row = db.session.get(HelpRequest, req.id)
    lifecycle.transition(row, "cancelled", Actor(role="coordinator"), "no longer needed")
    unit_of_work.commit()
    when = utcnow() - timedelta(days=days)
    db.session.execute(update(HelpRequest).where(HelpRequest.id == req.id).values(closed_at=when))
    unit_of_work.commit()
    return req


def test_retention_dry_run_reports_and_changes_nothing_then_the_run_anonymises(
    app: Any, make_request: Any, db: Any
) -> None:
    old = _closed_long_ago(make_request, db, 400, name="Old Person")
    soon = _closed_long_ago(make_request, db, 360, name="Soon Person")
    recent = _closed_long_ago(make_request, db, 10, name="Recent Person")
    db.session.add(SavedSearch(key="k" * 20, user_id=None, scope="queue", terms={"q": "x"}))
    db.session.add(Job(name="selftest", args={}, state="succeeded"))
    unit_of_work.commit()
    db.session.execute(update(SavedSearch).values(created_at=utcnow() - timedelta(days=2)))
    # Only the finished self-test job is old (taking a request also queues its "request received" message job).
    db.session.execute(update(Job).where(Job.name == "selftest").values(created_at=utcnow() - timedelta(days=100)))
    unit_of_work.commit()

    runner = app.test_cli_runner()
    dry = runner.invoke(args=["retention", "run", "--dry-run"], catch_exceptions=False)
    assert dry.exit_code == 0, dry.output
    lines = {line["record_type"]: line for line in map(json.loads, dry.output.strip().splitlines())}
    assert set(lines) == set(retention.DEFAULT_DAYS)
    assert lines["closed_requests"]["due"] == 1 and lines["closed_requests"]["warned"] == 1
    assert lines["saved_searches"]["purged"] == 1 and lines["jobs"]["purged"] == 1
    db.session.expire_all()
    assert db.session.get(Resident, old.resident_id).name == "Old Person"
    assert db.session.scalar(select(RetentionRun.id)) is None

    done = runner.invoke(args=["retention", "run"], catch_exceptions=False)
    assert done.exit_code == 0, done.output
    db.session.expire_all()
    assert db.session.get(Resident, old.resident_id).name == erasure.ERASED
    assert db.session.get(Resident, soon.resident_id).name == "Soon Person"
    assert db.session.get(Resident, recent.resident_id).name == "Recent Person"
    notice = db.session.scalars(select(RetentionNotice)).one()
    assert notice.record_id == soon.resident_id
    assert db.session.scalars(select(RetentionRun)).one().report[0]["anonymised"] == 1
    assert db.session.get(SavedSearch, "k" * 20) is None


def test_the_daily_task_runs_once_a_day(app: Any, db: Any) -> None:
    retention.daily()
    unit_of_work.commit()
    retention.daily()
    unit_of_work.commit()
    assert len(db.session.scalars(select(RetentionRun)).all()) == 1


def test_coordinator_privacy_page_records_consent_and_opens_a_review(
    client: Any, make_user: Any, login: Any, make_request: Any, db: Any
) -> None:
    req = make_request()
    login(make_user("coordinator"))
    url = f"/coordinator/privacy/residents/{req.resident_id}"
    assert client.get(url).status_code == 200
    bad = client.post(url + "/consents", data={"purpose": "nonsense", "lawful_basis": "consent", "source": ""})
    assert bad.status_code == 400
    ok = client.post(
        url + "/consents", data={"purpose": "feedback", "lawful_basis": "consent", "given": "yes", "source": "phone"}
    )
    assert ok.status_code == 302
    assert client.post(url + "/reviews", data={"decision": "", "grounds": ""}).status_code == 400
    assert client.post(url + "/reviews", data={"decision": "Matching run #1", "grounds": "x"}).status_code == 302
    page = client.get("/coordinator/privacy/reviews").get_data(as_text=True)
    assert "Matching run #1" in page
    # Without the privacy permission there is no export or erasure.
    assert client.post(url + "/erasure", data={"reason": "x", "password": "y"}).status_code == 403


def test_coordinator_erasure_page_needs_the_password_and_shows_a_block(
    client: Any, make_user: Any, login: Any, make_request: Any, db: Any
) -> None:
    from can_crm.models.safeguarding import SafeguardingConcern
    from tests.conftest import PASSWORD

    req = make_request()
    login(make_user("coordinator", privacy_officer=True))
    url = f"/coordinator/privacy/residents/{req.resident_id}"
    assert client.post(url + "/erasure", data={"reason": "asked", "password": "wrong"}).status_code == 400
    export = client.post(url + "/subject-access", data={"password": PASSWORD, "format": "json"})
    assert export.status_code == 200 and export.headers["Content-Disposition"].startswith("attachment")
    db.session.add(SafeguardingConcern(resident_id=req.resident_id, details="concern"))
    unit_of_work.commit()
    blocked = client.post(url + "/erasure", data={"reason": "asked", "password": PASSWORD})
    assert blocked.status_code == 409 and "safeguarding concern" in blocked.get_data(as_text=True)


def test_processing_record_lists_personal_columns_and_retention(client: Any, make_user: Any, login: Any) -> None:
    login(make_user("admin"))
    page = client.get("/admin/processing-record").get_data(as_text=True)
    assert "nhs_number" in page and "closed requests" in page and "Two-factor" in page


@pytest.mark.parametrize("path", ["/", "/auth/sign-in", "/request-help/form", "/api/v1/openapi.json"])
def test_security_headers_and_no_store_on_every_page(client: Any, db: Any, path: str) -> None:
    response = client.get(path)
    headers = response.headers
    assert headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer" and "camera=()" in headers["Permissions-Policy"]


def test_signed_in_pages_with_personal_data_are_not_stored(
    client: Any, make_user: Any, login: Any, make_request: Any
) -> None:
    req = make_request()
    login(make_user("coordinator"))
    assert client.get(f"/coordinator/requests/{req.reference}").headers["Cache-Control"] == "no-store"
    assert "max-age" in client.get("/static/app.css").headers["Cache-Control"]


def _refused(*args: Any, **kwargs: Any) -> Any:
    """What a call to a database that is down raises."""
    from sqlalchemy.exc import OperationalError

    raise OperationalError("connect", {}, ConnectionRefusedError("connection refused"))


def test_a_database_outage_answers_503_with_retry_after(
    client: Any, make_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from can_crm.services.accounts import users

    user = make_user("coordinator")
    _, plain = users.issue_token(user, "outage")
    unit_of_work.commit()

    monkeypatch.setattr("can_crm.services.requests.worklist.queue", _refused)
    response = client.get("/api/v1/requests", headers={"Authorization": f"Bearer {plain}"})
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert response.get_json()["error"]["code"] == "unavailable"


def _outage(db: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A call that finds the database gone, and from then on no connection to it can be made."""

    def down(*args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(db.engine, "raw_connection", _refused)
        _refused()

    return down


@pytest.mark.parametrize("signed_in_by", ["session", "token"])
def test_an_outage_mid_request_is_a_503_not_a_500_for_a_signed_in_user(
    client: Any, db: Any, make_user: Any, login: Any, monkeypatch: pytest.MonkeyPatch, signed_in_by: str
) -> None:
    """The user was read before the outage: the error page and the response's headers must not read it again
    (the rollback expired it, and the fault drill saw that turn a 503 into a 500)."""
    from can_crm.services.accounts import users

    user = make_user("coordinator")
    _, plain = users.issue_token(user, "outage")
    unit_of_work.commit()
    headers = {"Authorization": f"Bearer {plain}"} if signed_in_by == "token" else {}
    if signed_in_by == "session":
        login(user)
    monkeypatch.setattr("can_crm.services.requests.worklist.queue", _outage(db, monkeypatch))
    monkeypatch.setattr("can_crm.services.requests.worklist.queue_rows", _outage(db, monkeypatch))
    url = "/api/v1/requests" if signed_in_by == "token" else "/coordinator/?status=all&urgency=3"
    response = client.get(url, headers=headers)
    monkeypatch.undo()
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert response.headers["Cache-Control"] == "no-store"  # still a signed-in user's response
    if signed_in_by == "session":
        page = response.get_data(as_text=True)
        assert "Sorry, the service is unavailable" in page
        assert "Sign out" in page  # the menu of the user read before the outage


def test_an_outage_before_the_user_could_be_read_is_a_503_not_a_500(
    client: Any, db: Any, make_user: Any, login: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    login(make_user("coordinator"))
    monkeypatch.setattr("can_crm.services.accounts.users.load_session_user", _outage(db, monkeypatch))
    response = client.get("/coordinator/")
    monkeypatch.undo()
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
