"""Contact status: isolating volunteers leave matching and their tasks return to triage; isolating residents are
offered support; release dates; contacts are told through the notifier seam."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from can_crm import unit_of_work
from can_crm.models.enums import Status
from can_crm.models.notification import Notification
from can_crm.models.request import HelpRequest, RequestEvent
from can_crm.models.resident import Resident
from can_crm.models.tracing import ContactMessage, TraceContact
from can_crm.models.volunteer import Volunteer
from can_crm.services.matching import runs
from can_crm.services.requests import lifecycle
from can_crm.services.requests import operations as requests
from can_crm.services.requests.events import Actor
from can_crm.services.tracing import isolation
from tests.integration.tracing_helpers import TODAY, at, days_ago, make_tracer, meet, resident, volunteer

COORD = Actor(role="coordinator", user_id=None)


@pytest.fixture
def tracer_client(client: Any, make_user: Any, login: Any) -> Any:
    login(make_tracer(make_user))
    return client


def contacts_of(client: Any, case: Any) -> list[dict[str, Any]]:
    case_id = client.post(
        "/api/v1/cases", json={**{k: v for k, v in case.columns().items() if v}, "onset": days_ago(2).isoformat()}
    ).json["id"]
    return client.get(f"/api/v1/cases/{case_id}/contacts").json["contacts"]  # type: ignore[no-any-return]


def test_a_volunteer_told_to_isolate_mid_task_leaves_matching_and_the_task_returns_to_triage(
    db: Any, tracer_client: Any, make_request: Any, make_volunteer: Any
) -> None:
    req = make_request()
    helper = volunteer(make_volunteer)
    requests.triage(req, {"urgency": "2"}, COORD)
    requests.assign_volunteer(req, helper.id, COORD)
    own = Actor(role="volunteer", volunteer_id=helper.id)
    lifecycle.transition(req, "accepted", own)
    lifecycle.transition(req, "in_progress", own)
    case = resident("Index Case")
    meet(case, helper, at(days_ago(2)))
    unit_of_work.commit()
    [contact] = contacts_of(tracer_client, case)
    until = TODAY + timedelta(days=10)
    response = tracer_client.post(
        f"/api/v1/contacts/{contact['id']}/status", json={"status": "isolating", "until": until.isoformat()}
    )
    assert response.status_code == 200, response.json
    assert response.json["requests"] == [req.reference]
    db.session.expire_all()
    task = db.session.get(HelpRequest, req.id)
    assert task.status == Status.TRIAGED.value and task.volunteer_id is None
    history = select(RequestEvent).where(RequestEvent.request_id == req.id).order_by(RequestEvent.id.desc())
    last = db.session.scalars(history).first()
    assert (last.from_status, last.to_status, last.volunteer_id) == ("in_progress", "triaged", helper.id)
    assert last.reason == isolation.RETURN_REASON
    row = db.session.get(Volunteer, helper.id)
    assert row.isolating_until == until and not row.is_available(TODAY) and not row.is_available(until)
    assert row.is_available(until + timedelta(days=1))
    assert helper.id not in {v.id for v, _ in runs.available_volunteers(TODAY, placed_only=False)}
    # The contact is told, through the notifier seam: a message to give, in their language, as a call to make.
    [message] = db.session.scalars(select(ContactMessage))
    assert (message.volunteer_id, message.template, message.state) == (helper.id, "tracing_isolate", "to_call")


def test_an_isolating_resident_is_offered_food_and_prescription_support_once(db: Any, tracer_client: Any) -> None:
    case, neighbour = resident("Index Case"), resident("Neighbour", language="Polish")
    meet(case, neighbour, at(days_ago(2)))
    unit_of_work.commit()
    [contact] = contacts_of(tracer_client, case)
    body = {"status": "isolating", "until": (TODAY + timedelta(days=7)).isoformat()}
    first = tracer_client.post(f"/api/v1/contacts/{contact['id']}/status", json=body)
    assert first.status_code == 200, first.json
    assert len(first.json["requests"]) == 2
    made = db.session.scalars(select(HelpRequest).where(HelpRequest.resident_id == neighbour.id)).all()
    assert sorted(r.type for r in made) == ["food_parcel", "prescription"]
    assert all("isolat" not in r.details.lower() for r in made)  # the reason is health data: not in the request
    again = tracer_client.post(f"/api/v1/contacts/{contact['id']}/status", json=body)
    assert again.json["requests"] == []
    [message, _] = db.session.scalars(select(ContactMessage).order_by(ContactMessage.id))
    assert message.language == "Polish"


def test_isolation_ends_the_day_after_the_until_date(db: Any, tracer_client: Any, make_volunteer: Any) -> None:
    case, helper = resident("Index Case"), volunteer(make_volunteer)
    meet(case, helper, at(days_ago(2)))
    unit_of_work.commit()
    [contact] = contacts_of(tracer_client, case)
    tracer_client.post(
        f"/api/v1/contacts/{contact['id']}/status", json={"status": "isolating", "until": TODAY.isoformat()}
    )
    assert isolation.release_due(TODAY) == 0
    assert isolation.release_due(TODAY + timedelta(days=1)) == 1
    db.session.expire_all()
    assert db.session.get(TraceContact, contact["id"]).status == "released"
    assert db.session.get(Volunteer, helper.id).is_available(TODAY + timedelta(days=1))


def test_releasing_early_returns_the_volunteer_to_matching(db: Any, tracer_client: Any, make_volunteer: Any) -> None:
    case, helper = resident("Index Case"), volunteer(make_volunteer)
    meet(case, helper, at(days_ago(2)))
    unit_of_work.commit()
    [contact] = contacts_of(tracer_client, case)
    url = f"/api/v1/contacts/{contact['id']}/status"
    tracer_client.post(url, json={"status": "isolating", "until": (TODAY + timedelta(days=5)).isoformat()})
    assert tracer_client.post(url, json={"status": "released"}).json["status"] == "released"
    db.session.expire_all()
    assert db.session.get(Volunteer, helper.id).is_available(TODAY)
    templates = [m.template for m in db.session.scalars(select(ContactMessage).order_by(ContactMessage.id))]
    assert templates == ["tracing_isolate", "tracing_released"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "isolating"}, "until"),
        ({"status": "isolating", "until": (TODAY - timedelta(days=1)).isoformat()}, "until"),
        ({"status": "isolating", "until": (TODAY + timedelta(days=60)).isoformat()}, "until"),
        ({"status": "isolating", "until": "soon"}, "until"),
        ({"status": "isolating", "until": TODAY.isoformat(), "support": ["taxi"]}, "support"),
        ({"status": "to_notify"}, "status"),
        ({"status": "notified", "until": TODAY.isoformat()}, "until"),
    ],
)
def test_bad_statuses_are_refused(db: Any, tracer_client: Any, body: Any, field: str) -> None:
    case, other = resident("Index Case"), resident("Other")
    meet(case, other, at(days_ago(2)))
    unit_of_work.commit()
    [contact] = contacts_of(tracer_client, case)
    response = tracer_client.post(f"/api/v1/contacts/{contact['id']}/status", json=body)
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["fields"]
    assert tracer_client.post("/api/v1/contacts/99999/status", json={"status": "notified"}).status_code == 404


def test_an_isolating_contact_is_sent_a_message_and_kept_on_the_call_list(db: Any, tracer_client: Any) -> None:
    case, neighbour = resident("Index Case"), resident("Neighbour")
    row = db.session.get(Resident, neighbour.id)
    row.phone, row.preferred_channel = "+447911123456", "sms"
    meet(case, neighbour, at(days_ago(2)))
    unit_of_work.commit()
    [contact] = contacts_of(tracer_client, case)
    until = TODAY + timedelta(days=7)
    body = {"status": "isolating", "until": until.isoformat()}
    assert tracer_client.post(f"/api/v1/contacts/{contact['id']}/status", json=body).status_code == 200
    sent = db.session.scalars(
        select(Notification).where(Notification.resident_id == neighbour.id, Notification.template == "tracing_isolate")
    ).all()
    assert len(sent) == 1 and until.strftime("%-d %B %Y") in sent[0].body
    assert [m.template for m in db.session.scalars(select(ContactMessage))] == ["tracing_isolate"]
