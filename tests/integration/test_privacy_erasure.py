"""Subject access and erasure, by the CLI and the API: everything held is exported; after erasure the
person's details are nowhere in the database; an open safeguarding concern blocks it with the reason."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from can_crm import unit_of_work
from can_crm.models.job import Job
from can_crm.models.request import HelpRequest, RequestEvent
from can_crm.models.resident import Resident
from can_crm.models.safeguarding import SafeguardingConcern
from can_crm.services.privacy import erasure
from can_crm.services.requests.events import Actor, record_event

SECRETS = {
    "name": "Zebedee Quattlebaum",
    "phone": "07911 123458",
    "email": "zebedee.q@example.org",
    "address_line1": "77 Wobblestone Lane",
    "vulnerabilities": "Recovering from hip surgery",
}


def _db_dump(database_url: str) -> str:
    """Every row of every table, as pg_dump writes it."""
    return subprocess.run(
        ["/usr/bin/pg_dump", "--data-only", database_url], capture_output=True, text=True, check=True
    ).stdout


def _person(make_request: Any, **extra: Any) -> Any:
    resident = {**SECRETS, **extra}
    return make_request(resident=resident, request={"details": "Needs shopping; key under the Wobblestone pot"})


@pytest.fixture
def cli(app: Any) -> Any:
    runner = app.test_cli_runner()

    def run(*args: str) -> Any:
        return runner.invoke(args=list(args), catch_exceptions=False)

    return run


def test_subject_access_cli_writes_html_and_json_covering_every_table(
    cli: Any, make_request: Any, tmp_path: Path, db: Any
) -> None:
    req = _person(make_request)
    result = cli("subject-access", str(req.resident_id), "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert {"residents", "requests", "request_events"} <= set(summary["tables"])
    assert summary["rows"] >= 3 and len(summary["files"]) == 2
    exported = json.loads((tmp_path / f"subject-access-{req.resident_id}.json").read_text())
    assert exported["tables"]["residents"][0]["name"] == SECRETS["name"]
    page = (tmp_path / f"subject-access-{req.resident_id}.html").read_text()
    assert SECRETS["name"] in page and "<table>" in page
    assert "password_hash" not in page
    # The export itself is logged, against the resident.
    db.session.expire_all()
    actions = db.session.scalars(text("SELECT action FROM audit_log WHERE resident_id = :r"), {"r": req.resident_id})
    assert "subject_access" in list(actions)


def test_subject_access_for_an_unknown_resident_is_refused(cli: Any, tmp_path: Path, db: Any) -> None:
    result = cli("subject-access", "999999", "--out", str(tmp_path))
    assert result.exit_code == 2 and "No resident" in result.output


def test_erasure_leaves_the_details_nowhere_in_the_database(
    cli: Any, make_request: Any, make_volunteer: Any, db: Any, database_url: str
) -> None:
    req = _person(make_request)
    other = make_request(resident={"name": "Unrelated Person", "address_line1": "1 Other Road"})
    request_row = db.session.get(HelpRequest, req.id)
    # The details were copied into history, a job row and a saved search: erasure must find them all.
    record_event(
        request_row, Actor(role="coordinator"), "note", reason=f"Called {SECRETS['name']} on {SECRETS['phone']}"
    )
    db.session.add(Job(name="selftest", args={"request_id": req.id}, error=f"failed for {SECRETS['email']}"))
    unit_of_work.commit()
    before = db.session.scalar(select(func.count()).select_from(HelpRequest))
    dump = _db_dump(database_url)
    assert SECRETS["name"] in dump and "7911123458" in dump

    result = cli("erase", str(req.resident_id), "--reason", "Art. 17 request by phone")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["erased"] is True and report["anonymised"]["residents"] == 1
    assert report["kept"] and report["scrubbed"].get("jobs") == 1

    dump = _db_dump(database_url)
    for value in [*SECRETS.values(), "Wobblestone", "7911123458"]:
        assert value.lower() not in dump.lower(), value
    # Counts are kept, the other resident is untouched, and the erasure is audited.
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(HelpRequest)) == before
    assert db.session.get(Resident, other.resident_id).name == "Unrelated Person"
    assert db.session.get(Resident, req.resident_id).erased_at is not None
    assert db.session.get(HelpRequest, req.id).status == "cancelled"
    actions = set(
        db.session.scalars(text("SELECT action FROM audit_log WHERE resident_id = :r"), {"r": req.resident_id})
    )
    assert {"erase_resident", "redact_history"} <= actions


def test_history_stays_append_only_outside_the_sanctioned_redaction(make_request: Any, db: Any) -> None:
    req = make_request()
    event_id = db.session.scalar(select(RequestEvent.id).where(RequestEvent.request_id == req.id))
    with pytest.raises(Exception, match="append-only"):
        db.session.execute(text("UPDATE request_events SET reason = 'x' WHERE id = :i"), {"i": event_id})
    db.session.rollback()
    with pytest.raises(Exception, match="append-only"):
        db.session.execute(text("SET LOCAL can.redaction = 'on'"))
        db.session.execute(text("DELETE FROM request_events WHERE id = :i"), {"i": event_id})
    db.session.rollback()


def test_an_open_safeguarding_concern_blocks_erasure_with_the_reason(cli: Any, make_request: Any, db: Any) -> None:
    req = _person(make_request)
    db.session.add(SafeguardingConcern(request_id=req.id, resident_id=req.resident_id, details="Worried about neglect"))
    unit_of_work.commit()
    result = cli("erase", str(req.resident_id), "--reason", "Asked by phone")
    assert result.exit_code == erasure_exit()
    line = json.loads(result.stdout.strip().splitlines()[-1])
    assert line["erased"] is False and "safeguarding concern" in line["blocked"]
    db.session.expire_all()
    assert db.session.get(Resident, req.resident_id).name == SECRETS["name"]


def erasure_exit() -> int:
    from can_crm.cli.privacy import BLOCKED_EXIT

    return BLOCKED_EXIT


def test_erasure_needs_a_reason(cli: Any, make_request: Any) -> None:
    req = make_request()
    result = cli("erase", str(req.resident_id), "--reason", "  ")
    assert result.exit_code == 2 and "reason" in result.output


# -- the API ---------------------------------------------------------------------------------------------


@pytest.fixture
def privacy_headers(make_user: Any) -> Any:
    from can_crm.services.accounts import users

    def make(privacy_officer: bool = True, scopes: list[str] | None = None, role: str = "coordinator") -> Any:
        user = make_user(role, privacy_officer=privacy_officer)
        _, plain = users.issue_token(user, "test", scopes)
        unit_of_work.commit()
        return {"Authorization": f"Bearer {plain}"}

    return make


def test_api_subject_access_and_erasure_for_privacy_officers(
    client: Any, make_request: Any, privacy_headers: Any, db: Any
) -> None:
    req = _person(make_request)
    headers = privacy_headers()
    export = client.get(f"/api/v1/residents/{req.resident_id}/subject-access", headers=headers)
    assert export.status_code == 200
    assert export.get_json()["tables"]["residents"][0]["name"] == SECRETS["name"]
    erased = client.post(f"/api/v1/residents/{req.resident_id}/erasure", json={"reason": "Art. 17"}, headers=headers)
    assert erased.status_code == 200 and erased.get_json()["erased"] is True
    db.session.expire_all()
    assert db.session.get(Resident, req.resident_id).name == erasure.ERASED
    # The touched tables were vacuumed once the erasure committed (old row versions gone).
    db.session.rollback()  # a fresh transaction sees fresh statistics
    vacuumed = db.session.scalar(text("SELECT last_vacuum FROM pg_stat_user_tables WHERE relname = 'residents'"))
    assert vacuumed is not None


def test_api_privacy_operations_refuse_without_the_permission_or_scope(
    client: Any, make_request: Any, privacy_headers: Any
) -> None:
    req = make_request()
    url = f"/api/v1/residents/{req.resident_id}/subject-access"
    assert client.get(url, headers=privacy_headers(privacy_officer=False)).status_code == 403
    assert client.get(url, headers=privacy_headers(scopes=["read"])).status_code == 403
    assert client.get(url, headers=privacy_headers(scopes=["privacy"])).status_code == 200
    assert client.get(url).status_code == 401
    missing = client.get("/api/v1/residents/999999/subject-access", headers=privacy_headers())
    assert missing.status_code == 404
    bad = client.post(f"/api/v1/residents/{req.resident_id}/erasure", json={}, headers=privacy_headers())
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "validation_failed"


def test_api_erasure_blocked_by_safeguarding_answers_409_with_the_reason(
    client: Any, make_request: Any, privacy_headers: Any, db: Any
) -> None:
    req = make_request()
    db.session.add(SafeguardingConcern(resident_id=req.resident_id, details="Open concern"))
    unit_of_work.commit()
    response = client.post(
        f"/api/v1/residents/{req.resident_id}/erasure", json={"reason": "asked"}, headers=privacy_headers()
    )
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "erasure_blocked" and "safeguarding" in error["message"]


def test_api_audit_log_is_for_admins_and_lists_who_viewed_a_resident(
    client: Any, make_request: Any, privacy_headers: Any, make_user: Any
) -> None:
    req = make_request()
    coordinator = privacy_headers(privacy_officer=False)
    assert client.get(f"/api/v1/residents/{req.resident_id}", headers=coordinator).status_code == 200
    assert client.get(f"/api/v1/audit?resident_id={req.resident_id}", headers=coordinator).status_code == 403
    admin = privacy_headers(privacy_officer=False, role="admin")
    log = client.get(f"/api/v1/audit?resident_id={req.resident_id}", headers=admin)
    assert log.status_code == 200
    items = log.get_json()["items"]
    assert [i["action"] for i in items] == ["view_resident"] and items[0]["actor_role"] == "coordinator"
    assert client.get("/api/v1/audit?resident_id=abc", headers=admin).status_code == 422


def test_erasure_scrub_ignores_other_peoples_records(make_request: Any, db: Any) -> None:
    """A neighbour sharing the postcode keeps it: only copies in the person's own rows and in
    tables about no one in particular are cut out."""
    first = _person(make_request)
    second = make_request(resident={"name": "Neighbour Person"})
    erasure.erase(first.resident_id, "asked", None, "system")
    unit_of_work.commit()
    db.session.expire_all()
    neighbour = db.session.get(Resident, second.resident_id)
    assert neighbour.postcode == db.session.get(Resident, second.resident_id).postcode != erasure.ERASED
    assert neighbour.phone is not None
