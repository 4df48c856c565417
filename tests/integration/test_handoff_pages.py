"""Coordinators hand a request off from its page (no JavaScript); admins manage partners, read the data-sharing
log and its CSV, and issue Open311 keys."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from can_crm import unit_of_work
from can_crm.clients.peer import FakePeerClient
from can_crm.models.federation import DataSharingEntry, Handoff, Partner
from can_crm.services.federation import keys, partners
from tests.conftest import postcode_in

KC = "E09000020"


def text(response: Any) -> str:
    return response.get_data(as_text=True)


def add_partner(
    gss: str = KC, name: str = "Kensington and Chelsea", url: str | None = "https://can.rbkc.example"
) -> None:
    partners.save_partner(
        {
            "gss_code": gss,
            "name": name,
            "base_url": url,
            "public_key": keys.public_key_text(Ed25519PrivateKey.generate()),
            "agreement_ref": "ISA-2026-014",
            "lawful_basis": "public_task",
        }
    )
    unit_of_work.commit()


@pytest.fixture
def fake_peer(app: Any) -> Iterator[FakePeerClient]:
    fake = FakePeerClient()
    app.extensions["can_peer_client"] = fake
    yield fake
    app.extensions.pop("can_peer_client", None)


def test_out_of_area_request_proposes_the_responsible_partner(
    client: Any, db: Any, make_user: Any, login: Any, make_request: Any, postcode_index: Any
) -> None:
    add_partner("E09000033", "Westminster", "https://can.westminster.example")
    add_partner()
    login(make_user("coordinator"))
    req = make_request(resident={"postcode": postcode_in(postcode_index, KC)})
    page = text(client.get(f"/coordinator/requests/{req.reference}"))
    assert "Hand off to" in page and "Kensington and Chelsea (E09000020)" in page
    # The responsible authority is listed first and already chosen.
    assert page.index("Kensington and Chelsea (E09000020)") < page.index("Westminster (E09000033)")
    assert f'value="{KC}" checked' in page


def test_coordinator_hands_off_from_the_request_page(
    client: Any, db: Any, make_user: Any, login: Any, make_request: Any, fake_peer: FakePeerClient
) -> None:
    add_partner()
    login(make_user("coordinator"))
    req = make_request()
    url = f"/coordinator/requests/{req.reference}/handoff"
    missing = client.post(url, data={"reason": "Moved"})
    assert missing.status_code == 400 and "Choose the authority" in text(missing)
    no_reason = client.post(url, data={"to": KC, "reason": ""})
    assert no_reason.status_code == 400 and "Enter why the request is handed off" in text(no_reason)
    done = client.post(url, data={"to": KC, "reason": "Moved to Kensington"})
    assert done.status_code == 302
    client.application.extensions["can_queue"].wait()
    db.session.expire_all()
    db.session.refresh(req)
    assert req.status == "handed_off"
    page = text(client.get(f"/coordinator/requests/{req.reference}"))
    assert "Acknowledged" in page and "CAN-FAKE-0001" in page
    assert len(fake_peer.sent) == 1


def test_all_of_a_residents_open_requests_go_in_one_action(
    client: Any, db: Any, make_user: Any, login: Any, make_request: Any, fake_peer: FakePeerClient
) -> None:
    add_partner()
    login(make_user("coordinator"))
    first = make_request()
    second = make_request(resident_id=first.resident_id)
    response = client.post(
        f"/coordinator/requests/{first.reference}/handoff", data={"to": KC, "reason": "Moved", "all_open": "y"}
    )
    assert response.status_code == 302
    client.application.extensions["can_queue"].wait()
    db.session.expire_all()
    for req in (first, second):
        db.session.refresh(req)
        assert req.status == "handed_off"
    assert len(fake_peer.sent) == 2


def test_partner_that_takes_files_gets_a_downloaded_bundle(
    client: Any, db: Any, make_user: Any, login: Any, make_request: Any
) -> None:
    add_partner(url=None)
    login(make_user("coordinator"))
    req = make_request()
    response = client.post(f"/coordinator/requests/{req.reference}/handoff", data={"to": KC, "reason": "Moved"})
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.get_json()["request"]["reference"] == req.reference
    entry = db.session.scalars(select(DataSharingEntry)).one()
    assert (entry.outcome, entry.channel) == ("exported", "file")


@pytest.fixture
def admin(make_user: Any, login: Any) -> Any:
    user = make_user("admin")
    login(user)
    return user


def test_admin_adds_a_partner_and_bad_input_is_shown_next_to_the_field(client: Any, db: Any, admin: Any) -> None:
    assert client.get("/admin/partners").status_code == 200
    bad = client.post(
        "/admin/partners",
        data={"gss_code": "nope", "name": "", "public_key": "short", "agreement_ref": "", "lawful_basis": "x"},
    )
    assert bad.status_code == 400
    for message in ("Enter a GSS code", "Enter the authority", "public key", "Enter the data-sharing agreement"):
        assert message in text(bad), message
    good = client.post(
        "/admin/partners",
        data={
            "gss_code": KC,
            "name": "Kensington and Chelsea",
            "base_url": "https://can.rbkc.example",
            "public_key": keys.public_key_text(Ed25519PrivateKey.generate()),
            "agreement_ref": "ISA-2026-014",
            "lawful_basis": "public_task",
        },
    )
    assert good.status_code == 302
    assert db.session.scalars(select(Partner.gss_code)).all() == [KC]
    assert "ISA-2026-014" in text(client.get("/admin/partners"))


def test_admin_reads_the_data_sharing_log_and_exports_it_as_csv(
    client: Any, db: Any, admin: Any, make_request: Any, fake_peer: FakePeerClient
) -> None:
    from can_crm.services.federation import sending

    add_partner()
    req = make_request()
    sending.hand_off(None, [req.reference], KC, "=cmd|' /C calc'!A0")
    unit_of_work.commit()
    client.application.extensions["can_queue"].wait()
    db.session.expire_all()
    page = client.get("/admin/data-sharing-log")
    assert page.status_code == 200 and req.reference in text(page)
    exported = client.get("/admin/data-sharing-log.csv")
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(text(exported))))
    assert [r["request_reference"] for r in rows] == [req.reference]
    assert rows[0]["purpose"].startswith("'=")  # a formula in a spreadsheet is neutralised
    assert client.get("/api/v1/data-sharing-log?limit=0").status_code == 422


def test_admin_issues_and_revokes_an_open311_key(client: Any, db: Any, admin: Any) -> None:
    assert client.post("/admin/open311-keys", data={"name": ""}).status_code == 400
    issued = client.post("/admin/open311-keys", data={"name": "FixMyStreet"})
    assert issued.status_code == 200 and "o311_" in text(issued)
    assert client.post("/admin/open311-keys/1/revoke").status_code == 302
    assert "Revoked" in text(client.get("/admin/open311-keys"))


@pytest.mark.parametrize(
    "path", ["/admin/partners", "/admin/data-sharing-log", "/admin/data-sharing-log.csv", "/admin/open311-keys"]
)
def test_handoff_admin_pages_refuse_coordinators(client: Any, make_user: Any, login: Any, path: str) -> None:
    login(make_user("coordinator"))
    assert client.get(path).status_code == 403
    assert client.get("/api/v1/data-sharing-log").status_code == 403


def test_handoffs_only_leave_with_a_handoff_record(db: Any, make_request: Any) -> None:
    assert db.session.scalars(select(Handoff)).all() == []
