"""The inbox refuses anything it should not take, with the error envelope and a record, and creates nothing;
pushes that get no answer back off and retry, then give up and return the request to triage."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select

from can_crm import unit_of_work
from can_crm.clients.peer import Delivery, FakePeerClient
from can_crm.models.federation import Handoff, HandoffRefusal
from can_crm.models.request import HelpRequest
from can_crm.models.resident import Resident
from can_crm.services.federation import bundle as bundles
from can_crm.services.federation import keys, partners, sending
from can_crm.services.requests.events import Actor

KC = "E09000020"
AGREEMENT = "ISA-2026-014"


@pytest.fixture
def partner_key(db: Any) -> Ed25519PrivateKey:
    """Kensington and Chelsea, registered as our partner with a key this test holds."""
    key = Ed25519PrivateKey.generate()
    partners.save_partner(
        {
            "gss_code": KC,
            "name": "Kensington and Chelsea",
            "base_url": "https://can.rbkc.example",
            "public_key": keys.public_key_text(key),
            "agreement_ref": AGREEMENT,
            "lawful_basis": "public_task",
        }
    )
    unit_of_work.commit()
    return key


def unsigned(hf_postcode: str, **changes: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    document: dict[str, Any] = {
        "format": "can-handoff/1",
        "bundle_id": str(uuid.uuid4()),
        "created_at": bundles.timestamp(now),
        "expires_at": bundles.timestamp(now + timedelta(days=7)),
        "sender": {"gss_code": KC, "name": "Kensington and Chelsea"},
        "receiver": {"gss_code": "E09000013", "name": "Hammersmith and Fulham"},
        "reason": "Moved to Hammersmith",
        "agreement": {"reference": AGREEMENT, "lawful_basis": "public_task"},
        "request": {
            "reference": "CAN-ABCD-EFGH",
            "type": "shopping",
            "need": "Weekly shop",
            "urgency": 2,
            "due_by": None,
            "required_skills": [],
            "min_dbs": "none",
            "recurrence": "none",
            "raised_at": bundles.timestamp(now),
            "history": [{"at": bundles.timestamp(now), "kind": "created", "from": None, "to": "new"}],
            "notes_for_receiver": None,
        },
        "resident": {
            "name": "Margaret Okafor",
            "address_line1": "12 Fulham Palace Road",
            "address_line2": None,
            "town": None,
            "postcode": hf_postcode,
            "phone": "+447911123456",
            "email": None,
            "preferred_channel": "phone",
            "language": "English",
            "accessibility_needs": None,
            "vulnerabilities": None,
            "shielding": True,
            "consent_given": True,
            "lawful_basis": "public_task",
        },
    }
    document.update(changes)
    return document


def signed(key: Ed25519PrivateKey, document: dict[str, Any]) -> dict[str, Any]:
    return bundles.sign(document, key, keys.public_key_text(key))


def post(client: Any, body: Any) -> Any:
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return client.post("/api/v1/handoffs/inbox", data=data, content_type="application/json")


def counts(db: Any) -> tuple[int, int]:
    return (
        db.session.scalar(select(func.count()).select_from(HelpRequest)),
        db.session.scalar(select(func.count()).select_from(HandoffRefusal)),
    )


def test_inbox_creates_the_request_once_and_answers_a_replay_the_same(
    client: Any, db: Any, partner_key: Ed25519PrivateKey, hf_postcode: str
) -> None:
    bundle = signed(partner_key, unsigned(hf_postcode))
    first = post(client, bundle)
    assert first.status_code == 201, first.get_json()
    again = post(client, bundle)
    assert again.status_code == 201 and again.get_json() == first.get_json()
    assert counts(db) == (1, 0)
    created = db.session.scalars(select(HelpRequest)).one()
    assert created.status == "new" and created.channel == "handoff"
    # It carries its resident's location for Nearby's cell index (services/residents/request_location).
    home = db.session.get(Resident, created.resident_id)
    assert (created.h3_map, created.lat, created.lon) == (home.h3_map, home.lat, home.lon) != (None, None, None)
    handoff = db.session.scalars(select(Handoff)).one()
    assert (handoff.direction, handoff.partner_reference, handoff.bundle_id) == (
        "in",
        "CAN-ABCD-EFGH",
        bundle["bundle_id"],
    )


def _refusals(hf_postcode: str, key: Ed25519PrivateKey) -> list[tuple[str, Any, int, str]]:
    stranger = Ed25519PrivateKey.generate()
    past = datetime.now(UTC) - timedelta(days=30)
    good = unsigned(hf_postcode)
    no_sig = copy.deepcopy(good)
    extra = signed(key, {**unsigned(hf_postcode), "surprise": 1})
    bad_postcode = unsigned(hf_postcode)
    bad_postcode["resident"]["postcode"] = "W1234 5"  # malformed: a real but unlisted postcode is accepted instead
    return [
        ("not JSON", b"{not json", 400, "malformed_bundle"),
        ("a list", b"[1, 2]", 400, "malformed_bundle"),
        ("unsigned", no_sig, 401, "unsigned"),
        ("unknown field", extra, 422, "schema_invalid"),
        ("wrong format", signed(key, unsigned(hf_postcode, format="can-handoff/9")), 422, "schema_invalid"),
        (
            "unknown sender",
            signed(key, unsigned(hf_postcode, sender={"gss_code": "E09000033", "name": "W"})),
            403,
            "unknown_sender",
        ),
        (
            "wrong receiver",
            signed(key, unsigned(hf_postcode, receiver={"gss_code": "E09000027", "name": "R"})),
            422,
            "wrong_receiver",
        ),
        ("signed by a stranger", signed(stranger, unsigned(hf_postcode)), 401, "bad_signature"),
        (
            "expired",
            signed(
                key,
                unsigned(
                    hf_postcode,
                    created_at=bundles.timestamp(past),
                    expires_at=bundles.timestamp(past + timedelta(days=7)),
                ),
            ),
            422,
            "expired",
        ),
        (
            "another agreement",
            signed(key, unsigned(hf_postcode, agreement={"reference": "X-1", "lawful_basis": "public_task"})),
            403,
            "no_agreement",
        ),
        ("a malformed postcode", signed(key, bad_postcode), 422, "invalid_content"),
    ]


def test_inbox_refuses_bad_bundles_with_a_clear_error_and_creates_nothing(
    client: Any, db: Any, partner_key: Ed25519PrivateKey, hf_postcode: str
) -> None:
    cases = _refusals(hf_postcode, partner_key)
    for n, (label, body, status, code) in enumerate(cases, start=1):
        response = post(client, body)
        assert response.status_code == status, (label, response.get_json())
        error = response.get_json()["error"]
        assert error["code"] == code and error["message"], label
        assert counts(db) == (0, n), label
    assert db.session.scalar(select(func.count()).select_from(Handoff)) == 0


def test_schema_is_published_and_every_bundle_we_sign_matches_it(client: Any) -> None:
    response = client.get("/api/v1/schemas/can-handoff-1.json")
    assert response.status_code == 200
    schema = response.get_json()
    assert schema["properties"]["format"] == {"const": "can-handoff/1"}
    assert "signature" in schema["required"]


def test_handoff_api_refuses_bad_input_without_changing_the_request(
    client: Any, db: Any, make_user: Any, login: Any, make_request: Any, partner_key: Ed25519PrivateKey
) -> None:
    login(make_user("coordinator"))
    req = make_request()
    url = f"/api/v1/requests/{req.reference}/handoff"
    for body, status, field in [
        ({"to": "E09000099", "reason": "x"}, 422, "to"),
        ({"to": "nonsense", "reason": "x"}, 422, "to"),
        ({"to": KC, "reason": ""}, 422, "reason"),
        ({"to": KC}, 422, "reason"),
        ({"to": KC, "reason": "x", "extra": 1}, 422, "extra"),
    ]:
        response = client.post(url, json=body)
        assert response.status_code == status, (body, response.get_json())
        assert field in response.get_json()["error"].get("fields", {}), body
    assert client.post("/api/v1/requests/CAN-2222-2222/handoff", json={"to": KC, "reason": "x"}).status_code == 404
    db.session.refresh(req)
    assert req.status == "new"


def test_plain_status_change_cannot_mark_a_request_handed_off(
    client: Any, db: Any, make_user: Any, login: Any, make_request: Any
) -> None:
    login(make_user("coordinator"))
    req = make_request()
    response = client.post(f"/api/v1/requests/{req.reference}/transitions", json={"to": "handed_off", "reason": "x"})
    assert response.status_code == 409
    assert "handoff" in response.get_json()["error"]["message"]


def test_push_without_answer_backs_off_then_gives_up_and_returns_to_triage(
    app: Any, db: Any, make_request: Any, partner_key: Ed25519PrivateKey
) -> None:
    fake = FakePeerClient(responder=lambda url, b: Delivery("transient", code="unreachable", message="timeout"))
    app.extensions["can_peer_client"] = fake
    app.config["HANDOFF_MAX_ATTEMPTS"] = 3
    try:
        req = make_request(actor=Actor(role="coordinator"))
        (handoff,) = sending.hand_off(None, [req.reference], KC, "Moved")
        unit_of_work.commit()
        app.extensions["can_queue"].wait()
        db.session.refresh(handoff)
        assert (handoff.state, handoff.attempts) == ("queued", 1)
        first_wait = handoff.next_attempt_at - handoff.updated_at
        for _ in range(2):
            handoff.next_attempt_at = datetime.now(UTC) - timedelta(seconds=1)
            unit_of_work.commit()
            assert sending.retry_due() == 1
            unit_of_work.commit()
            app.extensions["can_queue"].wait()
            db.session.refresh(handoff)
            if handoff.state == "queued":
                assert handoff.next_attempt_at - handoff.updated_at > first_wait  # the wait doubles
        assert (handoff.state, handoff.attempts) == ("failed", 3)
        db.session.refresh(req)
        assert req.status == "triaged"
        assert len(fake.sent) == 3 and {b["bundle_id"] for _, b in fake.sent} == {handoff.bundle_id}
    finally:
        app.extensions.pop("can_peer_client", None)
        app.config["HANDOFF_MAX_ATTEMPTS"] = 8


def test_batch_inbox_answers_each_bundle_as_the_single_inbox_would(
    client: Any, db: Any, partner_key: Ed25519PrivateKey, hf_postcode: str
) -> None:
    good = signed(partner_key, unsigned(hf_postcode))
    other = signed(partner_key, unsigned(hf_postcode))
    stranger = signed(Ed25519PrivateKey.generate(), unsigned(hf_postcode))
    response = client.post("/api/v1/handoffs/inbox/batch", json={"bundles": [good, stranger, good, other, "x"]})
    assert response.status_code == 200, response.get_json()
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == [201, 401, 201, 201, 400]
    assert results[0]["reference"] == results[2]["reference"] != results[3]["reference"]
    assert results[1]["error"]["code"] == "bad_signature"
    assert counts(db) == (2, 2)
    replay = client.post("/api/v1/handoffs/inbox", json=good)
    assert replay.status_code == 201 and replay.get_json()["reference"] == results[0]["reference"]
    for body, status in [(b"nope", 400), (b'{"bundles": []}', 400), (json.dumps({"bundles": [{}] * 501}), 413)]:
        bad = client.post("/api/v1/handoffs/inbox/batch", data=body, content_type="application/json")
        assert bad.status_code == status and bad.get_json()["error"]["code"], body
    assert counts(db)[0] == 2
