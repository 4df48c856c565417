"""The Track and Trace API: cases, contacts, interactions, contact status; access and audit."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from can_crm import unit_of_work
from can_crm.models.audit import AuditEntry
from tests.integration.tracing_helpers import TODAY, at, days_ago, make_tracer, meet, resident, volunteer


@pytest.fixture
def tracer_client(client: Any, make_user: Any, login: Any) -> Any:
    login(make_tracer(make_user))
    return client


def test_only_coordinators_with_the_tracing_permission_reach_tracing(
    db: Any, client: Any, make_user: Any, login: Any
) -> None:
    person = resident()
    unit_of_work.commit()
    body = {"resident_id": person.id, "onset": days_ago(3).isoformat()}
    assert client.post("/api/v1/cases", json=body).status_code == 401
    for role in ("coordinator", "volunteer", "partner", "councillor", "admin"):
        login(make_user(role))
        assert client.post("/api/v1/cases", json=body).status_code == 403, role
        assert client.get("/api/v1/cases/1/contacts").status_code == 403, role
        assert client.get("/coordinator/tracing/").status_code == 403, role
        client.post("/auth/sign-out")


def test_record_a_case_and_list_its_contacts_ranked_with_their_interactions(
    db: Any, tracer_client: Any, make_volunteer: Any
) -> None:
    onset = days_ago(5)
    case, household, neighbour = resident("Index Case"), resident("Household"), resident("Neighbour")
    helper = volunteer(make_volunteer)
    door = meet(helper, case, at(onset), minutes=10, setting="doorstep", kind="visit")
    inside = meet(case, household, at(onset - timedelta(days=1)), minutes=600, setting="inside", kind="household")
    onward = meet(helper, neighbour, at(onset + timedelta(days=1)))
    unit_of_work.commit()
    response = tracer_client.post("/api/v1/cases", json={"resident_id": case.id, "onset": onset.isoformat()})
    assert response.status_code == 201, response.json
    case_id = response.json["id"]
    first = tracer_client.get(f"/api/v1/cases/{case_id}/contacts?degree=1").json
    assert [(c["resident_id"], c["volunteer_id"], c["degree"], c["exposure"]) for c in first["contacts"]] == [
        (household.id, None, 1, "inside"),
        (None, helper.id, 1, "doorstep"),
    ]
    assert [i["id"] for i in first["contacts"][1]["interactions"]] == [door]
    assert first["window_start"] == (onset - timedelta(days=2)).isoformat()
    assert first["window_end"] == (onset + timedelta(days=10)).isoformat()
    second = tracer_client.get(f"/api/v1/cases/{case_id}/contacts?degree=2").json["contacts"]
    assert [(c["resident_id"], c["degree"]) for c in second][-1] == (neighbour.id, 2)
    assert second[-1]["via"] == [{"resident_id": None, "volunteer_id": helper.id}]
    assert [i["id"] for i in second[-1]["interactions"]] == [onward]
    assert {c["status"] for c in second} == {"to_notify"}
    assert inside in [i["id"] for i in second[0]["interactions"]]


def test_viewing_contacts_is_audited(db: Any, tracer_client: Any) -> None:
    case, other = resident("Index Case"), resident("Other")
    meet(case, other, at(days_ago(3)))
    unit_of_work.commit()
    case_id = tracer_client.post("/api/v1/cases", json={"resident_id": case.id, "onset": days_ago(3).isoformat()}).json[
        "id"
    ]
    contact_id = tracer_client.get(f"/api/v1/cases/{case_id}/contacts").json["contacts"][0]["id"]
    actions = {(e.action, e.object_type, e.object_id) for e in db.session.scalars(select(AuditEntry))}
    assert {
        ("create_case", "tracing_case", case_id),
        ("view_case", "tracing_case", case_id),
        ("view_contacts", "tracing_case", case_id),
        ("view_contact", "tracing_contact", contact_id),
    } <= actions


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"onset": "2026-01-01"}, "resident_id"),
        ({"resident_id": 1, "volunteer_id": 1, "onset": "2026-01-01"}, "resident_id"),
        ({"resident_id": 999999, "onset": TODAY.isoformat()}, "resident_id"),
        ({"resident_id": "one", "onset": TODAY.isoformat()}, "resident_id"),
        ({"resident_id": 1, "onset": "yesterday"}, "onset"),
        ({"resident_id": 1, "onset": (TODAY + timedelta(days=1)).isoformat()}, "onset"),
        ({"resident_id": 1, "onset": (TODAY - timedelta(days=400)).isoformat()}, "onset"),
        ({"resident_id": 1, "onset": TODAY.isoformat(), "onset_kind": "rumour"}, "onset_kind"),
        ({"resident_id": 1, "onset": TODAY.isoformat(), "extra": 1}, "extra"),
    ],
)
def test_bad_cases_are_refused_with_the_field_named(db: Any, tracer_client: Any, body: Any, field: str) -> None:
    resident()
    unit_of_work.commit()
    response = tracer_client.post("/api/v1/cases", json=body)
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["fields"], response.json


def test_contacts_of_a_missing_case_or_a_bad_degree(db: Any, tracer_client: Any) -> None:
    assert tracer_client.get("/api/v1/cases/12345/contacts").status_code == 404
    case = resident()
    unit_of_work.commit()
    case_id = tracer_client.post("/api/v1/cases", json={"resident_id": case.id, "onset": TODAY.isoformat()}).json["id"]
    assert tracer_client.get(f"/api/v1/cases/{case_id}/contacts?degree=3").status_code == 422
    assert tracer_client.get(f"/api/v1/cases/{case_id}/contacts?degree=x").status_code == 422


def test_record_an_interaction_between_two_people(db: Any, tracer_client: Any, make_volunteer: Any) -> None:
    a, v = resident(), volunteer(make_volunteer)
    unit_of_work.commit()
    body = {
        "person_a": {"resident_id": a.id},
        "person_b": {"volunteer_id": v.id},
        "occurred_at": at(days_ago(1)).isoformat(),
        "duration_minutes": 30,
        "setting": "inside",
        "kind": "hub_shift",
    }
    response = tracer_client.post("/api/v1/interactions", json=body)
    assert response.status_code == 201 and response.json["id"] > 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"duration_minutes": "10"}, "duration_minutes"),
        ({"setting": "garden"}, "setting"),
        ({"kind": "party"}, "kind"),
        ({"occurred_at": "tomorrow"}, "occurred_at"),
        ({"occurred_at": at(TODAY + timedelta(days=2)).isoformat()}, "occurred_at"),
        ({"person_b": {"resident_id": "same"}}, "person_b"),
        ({"person_b": {}}, "person_b"),
        ({"notes": "<script>x</script>"}, "notes"),
    ],
)
def test_bad_interactions_are_refused(db: Any, tracer_client: Any, change: Any, field: str) -> None:
    a, b = resident("Ann Example"), resident("Bea Example")
    unit_of_work.commit()
    body = {
        "person_a": {"resident_id": a.id},
        "person_b": {"resident_id": b.id},
        "occurred_at": at(days_ago(1)).isoformat(),
        "duration_minutes": 30,
        "setting": "inside",
    }
    if change.get("person_b") == {"resident_id": "same"}:
        change = {"person_b": {"resident_id": a.id}}
    response = tracer_client.post("/api/v1/interactions", json={**body, **change})
    assert response.status_code == 422, response.json
    assert any(key.startswith(field) for key in response.json["error"]["fields"]), response.json


def test_the_openapi_document_describes_tracing(db: Any, client: Any) -> None:
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert {"/api/v1/cases", "/api/v1/cases/{case_id}/contacts", "/api/v1/interactions"} <= set(paths)
    assert "/api/v1/contacts/{contact_id}/status" in paths
