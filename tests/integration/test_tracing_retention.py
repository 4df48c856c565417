"""Tracing data has its own retention; the tracing permission is an admin's to give, to coordinators only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from can_crm import unit_of_work
from can_crm.extensions import db as _db
from can_crm.models.audit import AuditEntry
from can_crm.models.resident import Resident
from can_crm.models.tracing import Case, Interaction, TraceContact
from can_crm.models.user import User
from can_crm.services.tracing import cases
from tests.integration.tracing_helpers import at, days_ago, meet, resident


def count(model: Any) -> int:
    return int(_db.session.scalar(select(func.count()).select_from(model)) or 0)


def test_purge_deletes_case_data_older_than_its_retention_only(db: Any, app: Any) -> None:
    days = app.config["TRACING_RETENTION_DAYS"]
    case, other = resident("Old Case"), resident("Other Person")
    meet(case, other, at(days_ago(days + 5)))
    meet(case, other, at(days_ago(3)))
    old = cases.create_case({"resident_id": case.id, "onset": days_ago(4).isoformat()}, None)
    cases.contacts_of(old, 2, None)
    recent = cases.create_case({"resident_id": other.id, "onset": days_ago(2).isoformat()}, None)
    old.created_at = datetime.now(UTC) - timedelta(days=days + 1)
    unit_of_work.commit()
    assert count(TraceContact) == 1
    assert cases.purge_expired() == {"cases": 1, "interactions": 1, "messages": 0, "identities": 0}
    unit_of_work.commit()
    assert [c.id for c in db.session.scalars(select(Case))] == [recent.id]
    assert count(TraceContact) == 0 and count(Interaction) == 1
    assert cases.purge_expired() == {"cases": 0, "interactions": 0, "messages": 0, "identities": 0}


def test_erasing_a_person_erases_their_tracing_rows(db: Any) -> None:
    case, other = resident("Case Person"), resident("Gone Person")
    meet(case, other, at(days_ago(2)))
    found = cases.create_case({"resident_id": case.id, "onset": days_ago(2).isoformat()}, None)
    cases.contacts_of(found, 1, None)
    unit_of_work.commit()
    db.session.execute(Resident.__table__.delete().where(Resident.id == other.id))
    assert count(Interaction) == 0 and count(TraceContact) == 0 and count(Case) == 1


def test_an_admin_gives_and_withdraws_the_tracing_permission(db: Any, client: Any, make_user: Any, login: Any) -> None:
    coordinator = make_user("coordinator")
    partner = make_user("partner")
    admin = make_user("admin")
    login(admin)
    page = client.get(f"/admin/users/{coordinator.id}").get_data(as_text=True)
    assert "Give the tracing permission" in page
    assert client.post(f"/admin/users/{coordinator.id}/tracing", data={"active": "yes"}).status_code == 302
    assert db.session.get(User, coordinator.id).can_trace
    assert client.post(f"/admin/users/{partner.id}/tracing", data={"active": "yes"}).status_code == 400
    assert client.post(f"/admin/users/{coordinator.id}/tracing", data={"active": "maybe"}).status_code == 400
    audited = {(e.action, e.object_id) for e in db.session.scalars(select(AuditEntry))}
    assert ("grant_tracing", coordinator.id) in audited
    # A change of role takes the permission away.
    assert client.post(f"/admin/users/{coordinator.id}/role", data={"role": "partner"}).status_code == 302
    db.session.expire_all()
    assert not db.session.get(User, coordinator.id).can_trace
