"""Request history carries the volunteer concerned in a column; matching reads it, never event prose; the
migration fills the column for history written before it existed."""

from __future__ import annotations

from typing import Any

import psycopg
from flask_migrate import upgrade
from sqlalchemy import select

from can_crm import create_app, unit_of_work
from can_crm.models.enums import EventKind, Status
from can_crm.models.request import RequestEvent
from can_crm.services.matching import runs
from can_crm.services.requests import lifecycle
from can_crm.services.requests import operations as requests
from can_crm.services.requests.events import Actor
from tests.conftest import ADMIN_URL, ROOT

COORDINATOR = Actor(role="coordinator")


def test_offer_and_decline_events_name_the_volunteer_in_a_column(
    db: Any, make_request: Any, make_volunteer: Any
) -> None:
    req = make_request()
    volunteer = make_volunteer()
    lifecycle.transition(req, Status.TRIAGED.value, COORDINATOR)
    requests.assign_volunteer(req, volunteer.id, COORDINATOR)
    lifecycle.transition(req, Status.TRIAGED.value, Actor(role="volunteer", volunteer_id=volunteer.id), "Away")
    unit_of_work.commit()
    rows = db.session.execute(
        select(RequestEvent.kind, RequestEvent.to_status, RequestEvent.volunteer_id)
        .where(RequestEvent.request_id == req.id)
        .order_by(RequestEvent.id)
    ).all()
    assert rows[-2:] == [
        (EventKind.TRANSITION.value, Status.MATCHED.value, volunteer.id),
        (EventKind.TRANSITION.value, Status.TRIAGED.value, volunteer.id),
    ]
    assert "#" not in (db.session.scalars(select(RequestEvent.reason).where(RequestEvent.request_id == req.id)).all())
    assert runs.declined_by([req.id]) == {req.id: {volunteer.id}}


def test_a_coordinator_taking_an_offer_back_is_not_a_decline(db: Any, make_request: Any, make_volunteer: Any) -> None:
    req = make_request()
    volunteer = make_volunteer()
    lifecycle.transition(req, Status.TRIAGED.value, COORDINATOR)
    requests.assign_volunteer(req, volunteer.id, COORDINATOR)
    lifecycle.transition(req, Status.TRIAGED.value, COORDINATOR, "Offered to the wrong person")
    unit_of_work.commit()
    assert runs.declined_by([req.id]) == {}


def test_migration_fills_the_volunteer_of_history_written_before_the_column() -> None:
    name = "can_test_migration_0005"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        app = create_app(
            {"CAN_ENV": "test", "SQLALCHEMY_DATABASE_URI": url.replace("postgresql://", "postgresql+psycopg://")}
        )
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"), revision="0004")
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(
                    "INSERT INTO users (id, email, name, role, password_hash, active, session_version, created_at) "
                    "VALUES (1, 'v@example.gov.uk', 'V', 'volunteer', 'x', true, 1, now())"
                )
                conn.execute(
                    "INSERT INTO volunteers (id, name, home_postcode, max_km, capacity, skills, dbs_level, active, "
                    "availability, user_id, created_at, updated_at) VALUES (7, 'Sam', 'W6 9AA', 5, 2, '[]', 'none', "
                    "true, '{}', 1, now(), now())"
                )
                conn.execute(
                    "INSERT INTO residents (id, name, address_line1, postcode, preferred_channel, language, "
                    "shielding, consent_given, lawful_basis, created_at, updated_at) VALUES (1, 'R', '1 Road', "
                    "'W6 9AA', 'phone', 'English', false, true, 'public_task', now(), now())"
                )
                conn.execute(
                    "INSERT INTO requests (id, reference, resident_id, type, urgency, status, details, "
                    "required_skills, min_dbs, sla_due_at, recurrence, channel, created_at, updated_at, version) "
                    "VALUES (1, 'CAN-AAAA-BBBB', 1, 'shopping', 1, 'triaged', '', '[]', 'none', now(), 'none', "
                    "'phone', now(), now(), 1)"
                )
                conn.execute(
                    "INSERT INTO request_events (request_id, kind, from_status, to_status, reason, actor_id, "
                    "actor_role, created_at) VALUES "
                    "(1, 'transition', 'triaged', 'matched', 'Assigned by hand to volunteer #7', NULL, 'coordinator', "
                    "now()),"
                    "(1, 'transition', 'matched', 'triaged', 'Busy', 1, 'volunteer', now())"
                )
            upgrade(directory=str(ROOT / "migrations"), revision="0005")
            with psycopg.connect(url, autocommit=True) as conn:
                filled = conn.execute("SELECT volunteer_id FROM request_events ORDER BY id").fetchall()
                source = conn.execute("SELECT location_source FROM residents").fetchall()
        assert filled == [(7,), (7,)]
        assert source == [(None,)]
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
