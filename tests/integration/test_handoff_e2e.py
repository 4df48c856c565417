"""Two authorities on localhost hand a request over HTTP, and through files: what arrives equals what was sent,
the acknowledgement comes back, a replay creates nothing, a flipped byte is refused, both sharing logs agree."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import federation_helpers
import requests
from federation_helpers import AGREEMENT, Instance, coordinator_token
from sqlalchemy import func, select

from can_crm.extensions import db
from can_crm.models.federation import DataSharingEntry, Handoff, HandoffRefusal
from can_crm.models.request import HelpRequest, RequestEvent
from can_crm.models.resident import Resident
from can_crm.services.federation.bundle import RESIDENT_FIELDS
from tests.conftest import postcode_in

# The two running authorities, as fixtures of this module.
two_authorities = federation_helpers.two_authorities
linked = federation_helpers.linked
REASON = "The resident lives in Kensington and Chelsea"


def _raise(instance: Instance, token: str, postcode: str, **request_fields: Any) -> str:
    body: dict[str, Any] = {
        "type": "prescription",
        "urgency": 3,
        "details": "Collect a repeat prescription from the pharmacy on Earls Court Road",
        "volunteer_notes": "Ring the bell twice",
        "required_skills": ["pharmacy_collection"],
        "min_dbs": "basic",
        "resident": {
            "name": "Adaeze Nwosu-Whitfield",
            "address": "Flat 3, 41 Nevern Square",
            "town": "London",
            "postcode": postcode,
            "phone": "07911 123456",
            "email": "adaeze@example.org",
            "preferred_channel": "sms",
            "language": "Igbo",
            "accessibility_needs": "Hard of hearing",
            "vulnerabilities": "Lives alone; recent hospital discharge",
            "shielding": True,
            "consent_given": True,
        },
    }
    body.update(request_fields)
    response = requests.post(f"{instance.url}/api/v1/requests", json=body, headers=_auth(token), timeout=10)
    assert response.status_code == 201, response.text
    return str(response.json()["reference"])


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _count(instance: Instance, model: Any) -> int:
    with instance.app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def _handoff(instance: Instance, direction: str) -> Handoff:
    with instance.app.app_context():
        found = db.session.scalars(select(Handoff).where(Handoff.direction == direction)).one()
        db.session.expunge(found)
        return found


def _log(instance: Instance) -> list[dict[str, Any]]:
    with instance.app.app_context():
        rows = db.session.scalars(select(DataSharingEntry).order_by(DataSharingEntry.id)).all()
        return [{c.name: getattr(r, c.name) for c in DataSharingEntry.__table__.columns} for r in rows]


def _arrived(instance: Instance, reference: str) -> tuple[HelpRequest, Resident, list[RequestEvent]]:
    with instance.app.app_context():
        request = db.session.scalars(select(HelpRequest).where(HelpRequest.reference == reference)).one()
        resident = db.session.get(Resident, request.resident_id)
        events = list(db.session.scalars(select(RequestEvent).where(RequestEvent.request_id == request.id)))
        for obj in (request, resident, *events):
            db.session.expunge(obj)
        return request, resident, events


def _assert_arrived_as_sent(sent: dict[str, Any], request: HelpRequest, resident: Resident) -> None:
    block = sent["request"]
    assert request.status == "new"
    assert request.channel == "handoff"
    assert request.type == block["type"]
    assert request.details == block["need"]
    assert request.urgency == block["urgency"]
    assert (request.due_by.isoformat() if request.due_by else None) == block["due_by"]
    assert sorted(request.required_skills) == block["required_skills"]
    assert request.min_dbs == block["min_dbs"]
    assert request.recurrence == block["recurrence"]
    assert request.coordinator_notes == block["notes_for_receiver"]
    for field in RESIDENT_FIELDS:
        assert getattr(resident, field) == sent["resident"][field], field


def _assert_logs_agree(hf: Instance, kc: Instance, outcome: str, channel: str) -> None:
    (sent,), (received,) = _log(hf), _log(kc)
    assert sent["direction"] == "disclosed" and received["direction"] == "received"
    assert sent["outcome"] == outcome and received["outcome"] == "imported"
    assert sent["partner_gss"] == kc.gss and received["partner_gss"] == hf.gss
    assert sent["bundle_id"] == received["bundle_id"]
    assert sent["request_reference"] == received["partner_reference"]
    if outcome == "acknowledged":
        assert sent["partner_reference"] == received["request_reference"]
    for same in ("data_categories", "purpose", "agreement_ref", "lawful_basis", "channel"):
        assert sent[same] == received[same], same
    assert sent["agreement_ref"] == AGREEMENT and sent["purpose"] == REASON


def test_request_handed_over_http_arrives_as_sent_and_is_acknowledged(
    linked: tuple[Instance, Instance], postcode_index: Path
) -> None:
    hf, kc = linked
    token = coordinator_token(hf)
    reference = _raise(hf, token, postcode_in(postcode_index, "E09000020"))

    response = requests.post(
        f"{hf.url}/api/v1/requests/{reference}/handoff",
        json={"to": kc.gss, "reason": REASON, "notes": "Prefers texts in the morning"},
        headers=_auth(token),
        timeout=10,
    )
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "handed_off"
    with hf.app.app_context():
        hf.app.extensions["can_queue"].wait()

    detail = requests.get(f"{hf.url}/api/v1/requests/{reference}", headers=_auth(token), timeout=10).json()
    assert detail["status"] == "handed_off"
    (handoff,) = detail["handoffs"]
    assert handoff["state"] == "acknowledged" and handoff["partner_gss"] == kc.gss
    their_reference = handoff["partner_reference"]
    assert their_reference and their_reference != reference

    sent, received = _handoff(hf, "out"), _handoff(kc, "in")
    assert received.bundle == sent.bundle  # byte for byte the same document, signature included
    assert received.partner_reference == reference
    request, resident, events = _arrived(kc, their_reference)
    _assert_arrived_as_sent(sent.bundle, request, resident)
    assert sent.bundle["request"]["notes_for_receiver"] == "Prefers texts in the morning"
    assert any(reference in (e.reason or "") for e in events)
    _assert_logs_agree(hf, kc, "acknowledged", "http")

    # The same bundle again: the same 201 body, and nothing new.
    before = _count(kc, HelpRequest)
    replay = requests.post(f"{kc.url}/api/v1/handoffs/inbox", json=sent.bundle, timeout=10)
    assert replay.status_code == 201
    assert replay.json() == {"reference": their_reference, "bundle_id": sent.bundle["bundle_id"]}
    assert _count(kc, HelpRequest) == before
    assert len(_log(kc)) == 1

    # One byte flipped inside the resident's name: refused, recorded, nothing created.
    raw = json.dumps(sent.bundle).encode("utf-8")
    at = raw.index(b"Adaeze") + 2
    tampered = raw[:at] + bytes([raw[at] ^ 0x01]) + raw[at + 1 :]
    refused = requests.post(
        f"{kc.url}/api/v1/handoffs/inbox", data=tampered, headers={"Content-Type": "application/json"}, timeout=10
    )
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "bad_signature"
    assert _count(kc, HelpRequest) == before
    assert _count(kc, HandoffRefusal) == 1

    # Each side's admin reads the same disclosure in its log.
    for instance in (hf, kc):
        admin = coordinator_token(instance, "admin")
        log = requests.get(f"{instance.url}/api/v1/data-sharing-log", headers=_auth(admin), timeout=10)
        assert log.status_code == 200
        assert [e["bundle_id"] for e in log.json()["items"]] == [sent.bundle["bundle_id"]]


def test_a_food_parcels_parcels_and_window_arrive_in_the_receivers_terms(
    linked: tuple[Instance, Instance], postcode_index: Path
) -> None:
    """The same evening at both keeps its name; Hammersmith's morning (09:00 to 12:00) is not Kensington's (08:00
    to 11:00), so it arrives as the hours the resident gave. Another type's bundle carries no delivery."""
    hf, kc = linked
    token = coordinator_token(hf)
    postcode = postcode_in(postcode_index, "E09000020")
    food = {"type": "food_parcel", "required_skills": [], "min_dbs": "none"}
    sent = {
        "morning": _raise(hf, token, postcode, **food, parcels=2, delivery_window="morning"),
        "evening": _raise(hf, token, postcode, **food, parcels=3, delivery_window="evening"),
        "prescription": _raise(hf, token, postcode),
    }
    for reference in sent.values():
        response = requests.post(
            f"{hf.url}/api/v1/requests/{reference}/handoff",
            json={"to": kc.gss, "reason": REASON},
            headers=_auth(token),
            timeout=10,
        )
        assert response.status_code == 202, response.text
    with hf.app.app_context():
        hf.app.extensions["can_queue"].wait()

    arrived = {}
    for name, reference in sent.items():
        detail = requests.get(f"{hf.url}/api/v1/requests/{reference}", headers=_auth(token), timeout=10).json()
        (handoff,) = detail["handoffs"]
        assert handoff["state"] == "acknowledged", handoff
        arrived[name], _, _ = _arrived(kc, handoff["partner_reference"])
    morning, evening, prescription = arrived["morning"], arrived["evening"], arrived["prescription"]
    assert (morning.parcels, morning.delivery_window) == (2, "between")
    assert (morning.delivery_from_min, morning.delivery_to_min) == (9 * 60, 12 * 60)
    assert (evening.parcels, evening.delivery_window, evening.delivery_from_min) == (3, "evening", None)
    assert (prescription.parcels, prescription.delivery_window) == (None, None)
    with hf.app.app_context():
        outgoing = db.session.scalars(select(Handoff).where(Handoff.direction == "out"))
        bundles = {h.bundle["request"]["reference"]: h.bundle for h in outgoing}
    assert bundles[sent["evening"]]["request"]["delivery"] == {
        "parcels": 3,
        "delivery_window": "evening",
        "delivery_from": "17:00",
        "delivery_to": "20:00",
    }
    assert "delivery" not in bundles[sent["prescription"]]["request"]


def test_partner_refusal_returns_the_request_to_triage_with_the_reason(
    linked: tuple[Instance, Instance], postcode_index: Path
) -> None:
    hf, kc = linked
    token = coordinator_token(hf)
    reference = _raise(hf, token, postcode_in(postcode_index, "E09000020"))
    with kc.app.app_context():
        from can_crm import unit_of_work
        from can_crm.models.federation import Partner

        db.session.scalars(select(Partner)).one().active = False  # K&C no longer takes bundles from H&F
        unit_of_work.commit()

    response = requests.post(
        f"{hf.url}/api/v1/requests/{reference}/handoff",
        json={"to": kc.gss, "reason": REASON},
        headers=_auth(token),
        timeout=10,
    )
    assert response.status_code == 202
    with hf.app.app_context():
        hf.app.extensions["can_queue"].wait()
    detail = requests.get(f"{hf.url}/api/v1/requests/{reference}", headers=_auth(token), timeout=10).json()
    assert detail["status"] == "triaged"
    assert detail["handoffs"][0]["state"] == "rejected"
    back = detail["events"][-1]
    assert back["from"] == "handed_off" and back["to"] == "triaged"
    assert "refused the handoff" in back["reason"] and "not a partner authority" in back["reason"]
    assert _count(kc, HelpRequest) == 0


def test_request_handed_over_through_files(
    linked: tuple[Instance, Instance], postcode_index: Path, tmp_path: Path
) -> None:
    hf, kc = linked
    token = coordinator_token(hf)
    reference = _raise(hf, token, postcode_in(postcode_index, "E09000020"))
    out = tmp_path / "bundle.json"

    exported = hf.app.test_cli_runner().invoke(
        args=["handoff", "export", reference, "--to", kc.gss, "--out", str(out), "--reason", REASON]
    )
    assert exported.exit_code == 0, exported.output
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    sent = json.loads(out.read_text(encoding="utf-8"))

    imported = kc.app.test_cli_runner().invoke(args=["handoff", "import", str(out)])
    assert imported.exit_code == 0, imported.output
    answer = json.loads(imported.stdout.strip().splitlines()[-1])
    assert answer["bundle_id"] == sent["bundle_id"] and answer["created"] is True
    request, resident, _events = _arrived(kc, answer["reference"])
    _assert_arrived_as_sent(sent, request, resident)
    assert _handoff(kc, "in").bundle == sent

    again = kc.app.test_cli_runner().invoke(args=["handoff", "import", str(out)])
    assert json.loads(again.stdout.strip().splitlines()[-1]) == {**answer, "created": False}
    assert _count(kc, HelpRequest) == 1

    raw = out.read_bytes()
    at = raw.index(b"Nevern") + 1
    tampered = tmp_path / "tampered.json"
    tampered.write_bytes(raw[:at] + bytes([raw[at] ^ 0x01]) + raw[at + 1 :])
    refused = kc.app.test_cli_runner().invoke(args=["handoff", "import", str(tampered)])
    assert refused.exit_code == 2
    assert "signature" in refused.output
    assert _count(kc, HelpRequest) == 1
    _assert_logs_agree(hf, kc, "exported", "file")
    with hf.app.app_context():
        assert db.session.scalars(select(HelpRequest.status)).one() == "handed_off"
