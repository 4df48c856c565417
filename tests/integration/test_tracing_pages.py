"""Track and Trace pages: render for tracers, forms refuse bad input next to the field, views are audited."""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from sqlalchemy import select

from can_crm import unit_of_work
from can_crm.models.audit import AuditEntry
from can_crm.models.tracing import Case, ContactMessage, Interaction, TraceContact, TraceIdentity
from tests.integration.tracing_helpers import TODAY, at, days_ago, make_tracer, meet, resident


def text(response: Any) -> str:
    body = response.get_data(as_text=True)
    HTMLParser().feed(body)  # parsable
    return body


@pytest.fixture
def tracer(client: Any, make_user: Any, login: Any) -> Any:
    user = make_tracer(make_user)
    login(user)
    return user


def _case(client: Any, person_id: int, onset: Any) -> int:
    day = onset
    response = client.post(
        "/coordinator/tracing/cases",
        data={
            "person_kind": "resident",
            "person_id": str(person_id),
            "onset": [str(day.day), str(day.month), str(day.year)],
            "onset_kind": "symptoms",
        },
    )
    assert response.status_code == 302, text(response)
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_a_tracer_records_a_case_and_sets_a_contact_isolating_from_the_pages(db: Any, client: Any, tracer: Any) -> None:
    assert "Track and Trace" in text(client.get("/coordinator/"))
    case, other = resident("Index Case"), resident("Neighbour Person")
    meet(case, other, at(days_ago(1)), setting="inside", minutes=40)
    unit_of_work.commit()
    assert client.get("/coordinator/tracing/").status_code == 200
    case_id = _case(client, case.id, days_ago(2))
    page = text(client.get(f"/coordinator/tracing/cases/{case_id}"))
    assert "Neighbour Person" in page and "Inside, 40 minutes" in page
    contact = db.session.scalar(select(TraceContact))
    until = TODAY + timedelta(days=5)
    response = client.post(
        f"/coordinator/tracing/contacts/{contact.id}/status",
        data={
            "status": "isolating",
            "until": [str(until.day), str(until.month), str(until.year)],
            "support": ["food_parcel"],
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(TraceContact, contact.id).isolating_until == until
    calls = text(client.get("/coordinator/tracing/calls"))
    assert "Neighbour Person" in calls
    message = db.session.scalar(select(ContactMessage))
    assert client.post(f"/coordinator/tracing/calls/{message.id}/done").status_code == 302
    assert client.post(f"/coordinator/tracing/calls/{message.id}/done").status_code == 302  # already made: told, no 500
    chain = text(client.get(f"/coordinator/tracing/cases/{case_id}/chain"))
    assert "not linked" in chain


def test_case_form_errors_are_shown_next_to_the_field(db: Any, client: Any, tracer: Any) -> None:
    response = client.post(
        "/coordinator/tracing/cases",
        data={
            "person_kind": "resident",
            "person_id": "abc",
            "onset-day": "31",
            "onset-month": "2",
            "onset-year": "2026",
        },
    )
    page = text(response)
    assert response.status_code == 400 and "<title>Error:" in page
    assert "Onset must be a real date" in page
    assert db.session.scalar(select(Case)) is None


def test_status_form_errors_are_shown(db: Any, client: Any, tracer: Any) -> None:
    case, other = resident("Index Case"), resident("Neighbour Person")
    meet(case, other, at(days_ago(1)))
    unit_of_work.commit()
    case_id = _case(client, case.id, days_ago(2))
    client.get(f"/coordinator/tracing/cases/{case_id}")
    contact = db.session.scalar(select(TraceContact))
    response = client.post(f"/coordinator/tracing/contacts/{contact.id}/status", data={"status": "isolating"})
    assert response.status_code == 400 and "Isolating until must be a real date" in text(response)


def test_record_a_hub_shift_for_several_people(db: Any, client: Any, tracer: Any, make_volunteer: Any) -> None:
    v1, v2, v3 = (make_volunteer(name=n).id for n in ("Ann Helper", "Bob Helper", "Cat Helper"))
    data = {
        "a_kind": "volunteer",
        "a_id": str(v1),
        "b_kind": "volunteer",
        "b_id": str(v2),
        "others": f"v{v3}",
        "occurred_at": at(days_ago(1)).strftime("%Y-%m-%d %H:%M"),
        "duration_minutes": "180",
        "setting": "inside",
        "kind": "hub_shift",
    }
    assert client.get("/coordinator/tracing/interactions/new").status_code == 200
    response = client.post("/coordinator/tracing/interactions/new", data=data)
    assert response.status_code == 302, text(response)
    assert len(db.session.scalars(select(Interaction)).all()) == 3
    bad = client.post("/coordinator/tracing/interactions/new", data={**data, "others": "x9", "duration_minutes": "0"})
    page = text(bad)
    assert bad.status_code == 400 and "Minutes must be between 1 and 1440" in page and "like r12" in page


def test_record_a_test_and_trace_id(db: Any, client: Any, tracer: Any) -> None:
    person = resident()
    unit_of_work.commit()
    url = f"/coordinator/tracing/people/resident/{person.id}/test-and-trace-id"
    assert client.post(url, data={"test_and_trace_id": "ab12 cd34"}).status_code == 302
    assert db.session.scalar(select(TraceIdentity.test_and_trace_id)) == "AB12CD34"
    assert client.post(url, data={"test_and_trace_id": "<b>"}).status_code == 400
    assert client.post("/coordinator/tracing/people/council/1/test-and-trace-id", data={}).status_code == 404


def test_clusters_and_map_pages(db: Any, client: Any, tracer: Any) -> None:
    a, b = resident("Alpha Case"), resident("Bravo Case")
    meet(a, b, at(days_ago(6)))
    unit_of_work.commit()
    first = _case(client, a.id, days_ago(7))
    second = _case(client, b.id, days_ago(3))
    clusters = text(client.get("/coordinator/tracing/clusters"))
    assert "Cluster of 2 cases" in clusters and "met case" in clusters
    chain = text(client.get(f"/coordinator/tracing/cases/{second}/chain"))
    assert f"met case {first}" in chain
    area = text(client.get("/coordinator/tracing/map"))
    assert "Fewer than 5" in area  # two people in one area: hidden
    assert client.get("/coordinator/tracing/map?date_from=40&date_from=1&date_from=2026").status_code == 400
    actions = {e.action for e in db.session.scalars(select(AuditEntry))}
    assert {"view_cluster_case", "view_case_map", "create_case"} <= actions
