"""Offers by text message, for volunteers without a smartphone: the offer goes out (what, roughly where, by when,
never who), YES or NO comes back through Notify's inbound callback, and the task's details follow a YES."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from can_crm import unit_of_work
from can_crm.models.notification import InboundMessage, Notification
from can_crm.models.request import HelpRequest
from can_crm.models.volunteer import Volunteer
from can_crm.services.common.errors import FieldErrors
from can_crm.services.volunteers import profiles
from tests.integration.volunteer_helpers import offer, volunteer_with_account

CALLBACK_TOKEN = "callback-token-for-volunteer-texts-0123"
NUMBER = "+447911123457"  # make_volunteer's mobile, as E.164


@pytest.fixture
def callbacks(app: Any) -> Any:
    app.config["NOTIFY_CALLBACK_TOKEN"] = CALLBACK_TOKEN
    yield {"Authorization": f"Bearer {CALLBACK_TOKEN}"}
    app.config["NOTIFY_CALLBACK_TOKEN"] = None


def texts_to(db: Any, volunteer: Any) -> list[Notification]:
    db.session.expire_all()
    query = select(Notification).where(Notification.volunteer_id == volunteer.id).order_by(Notification.id)
    return list(db.session.scalars(query))


def reply(client: Any, headers: Any, text: str, provider_id: str, number: str = "07911 123457") -> Any:
    body = {
        "id": provider_id,
        "source_number": number,
        "destination_number": "07700900000",
        "message": text,
        "date_received": "2026-11-30T10:00:00.000000Z",
    }
    response = client.post("/notify/inbound-sms", json=body, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["understood_as"]


def status_of(db: Any, request: Any) -> str:
    db.session.expire_all()
    return db.session.get(HelpRequest, request.id).status


def test_an_offer_by_text_names_no_one_and_yes_sends_the_task(
    app: Any, client: Any, db: Any, make_request: Any, make_volunteer: Any, callbacks: Any
) -> None:
    texter = make_volunteer(offers_by="sms")
    request = offer(make_request, texter)
    app.extensions["can_queue"].wait()
    [sent] = texts_to(db, texter)
    assert (sent.template, sent.channel, sent.recipient, sent.status) == ("volunteer_offer", "sms", NUMBER, "sent")
    assert "Shopping" in sent.body and f"Reply YES {request.reference}" in sent.body and "needed by" in sent.body
    for private in ("Margaret", "Fulham Palace Road", "7911 123456", "+447911123456"):
        assert private not in sent.body  # nobody's name, address or phone before they take it on
    assert sent.request_id == request.id  # the resident's erasure reaches it

    assert reply(client, callbacks, "Yes please", "in-yes") == "accepted"
    assert status_of(db, request) == "accepted"
    task = texts_to(db, texter)[-1]
    assert task.template == "volunteer_task" and task.request_id == request.id
    assert "Margaret Okafor" in task.body and "12 Fulham Palace Road" in task.body and "+447911123456" in task.body
    # Notify calls again with the same message: nothing changes and nothing more is sent.
    assert reply(client, callbacks, "Yes please", "in-yes") == "accepted"
    assert len(texts_to(db, texter)) == 2
    assert db.session.scalar(select(InboundMessage.understood_as)) == "accepted"

    # DONE marks it delivered, through the same progress service as the app: the resident is asked if help arrived.
    assert f"Reply DONE {request.reference}" in task.body
    assert reply(client, callbacks, "Done", "in-done") == "done"
    app.extensions["can_queue"].wait()
    assert status_of(db, request) == "delivered"
    assert texts_to(db, texter)[-1].template == "volunteer_done"
    asked = db.session.scalars(select(Notification.template).where(Notification.resident_id == request.resident_id))
    assert "delivered_check" in list(asked)
    assert reply(client, callbacks, "Done", "in-done-again") is None  # nothing open on that number any more


def test_no_by_text_turns_the_offer_down_and_says_thank_you(
    client: Any, db: Any, make_request: Any, make_volunteer: Any, callbacks: Any
) -> None:
    texter = make_volunteer(offers_by="sms")
    request = offer(make_request, texter)
    assert reply(client, callbacks, f"no {request.reference.lower()}", "in-no", "+44 7911 123457") == "declined"
    assert status_of(db, request) == "triaged"
    assert texts_to(db, texter)[-1].template == "volunteer_declined"


def test_with_two_offers_open_the_reference_says_which(
    client: Any, db: Any, make_request: Any, make_volunteer: Any, callbacks: Any
) -> None:
    texter = make_volunteer(offers_by="sms")
    first, second = offer(make_request, texter), offer(make_request, texter)
    assert reply(client, callbacks, "YES", "in-1") == "unclear"
    unclear = texts_to(db, texter)[-1]
    assert unclear.template == "volunteer_reply_unclear"
    assert first.reference in unclear.body and second.reference in unclear.body
    assert (status_of(db, first), status_of(db, second)) == ("matched", "matched")
    assert reply(client, callbacks, "maybe later", "in-2") == "unclear"  # neither yes nor no

    compact = second.reference.replace("-", "")  # typed without the dashes
    assert reply(client, callbacks, f"YES {compact}", "in-3") == "accepted"
    assert (status_of(db, first), status_of(db, second)) == ("matched", "accepted")
    # An offer already gone (declined on the web meanwhile, say) is said to be gone.
    assert reply(client, callbacks, f"YES {second.reference}", "in-4") == "gone"
    assert texts_to(db, texter)[-1].template == "volunteer_no_offer"


def test_volunteers_on_the_app_get_no_text_and_a_late_yes_is_told_nothing_is_waiting(
    app: Any, client: Any, db: Any, make_request: Any, make_volunteer: Any, callbacks: Any
) -> None:
    on_app = make_volunteer()
    offer(make_request, on_app)
    app.extensions["can_queue"].wait()
    assert texts_to(db, on_app) == []
    texter = make_volunteer(offers_by="sms", phone="07911 123458")
    # Nothing open to them and no resident's answer awaited from the number: a YES that came too late (the offer
    # went to someone else meanwhile) is told so, once, and nothing is recorded.
    assert reply(client, callbacks, "yes", "in-5", "07911 123458") == "late"
    assert reply(client, callbacks, "yes", "in-5", "07911 123458") == "late"  # Notify retried the callback
    app.extensions["can_queue"].wait()
    [told] = texts_to(db, texter)
    assert told.template == "volunteer_nothing_open" and told.request_id is None
    assert "nothing is waiting for an answer from you" in told.body
    # Not an answer (a thank-you, say): no reply. A volunteer on the app texting YES: not ours to answer either.
    assert reply(client, callbacks, "Thanks, have a good day", "in-6", "07911 123458") is None
    on_app.phone = "07911 123459"
    unit_of_work.commit()
    assert reply(client, callbacks, "yes", "in-7", "07911 123459") is None
    app.extensions["can_queue"].wait()
    assert len(texts_to(db, texter)) == 1 and texts_to(db, on_app) == []


def test_offers_by_text_need_a_mobile_number(
    client: Any, db: Any, make_user: Any, make_volunteer: Any, login: Any, headers: Any
) -> None:
    with pytest.raises(FieldErrors) as refused:
        make_volunteer(offers_by="sms", phone="020 7946 0000")  # a landline
    assert refused.value.fields == {"phone": profiles.NO_MOBILE_FOR_TEXTS}
    unit_of_work.rollback()

    no_phone = make_volunteer(phone="")
    api = client.patch(f"/api/v1/volunteers/{no_phone.id}", json={"offers_by": "sms"}, headers=headers)
    assert api.status_code == 422 and api.get_json()["error"]["fields"] == {"offers_by": profiles.NO_MOBILE_FOR_TEXTS}
    bad = client.patch(f"/api/v1/volunteers/{no_phone.id}", json={"offers_by": "pigeon"}, headers=headers)
    assert bad.status_code == 422 and "offers_by" in bad.get_json()["error"]["fields"]
    both = client.patch(
        f"/api/v1/volunteers/{no_phone.id}", json={"offers_by": "sms", "phone": "07911 123459"}, headers=headers
    )
    assert both.status_code == 200 and both.get_json()["offers_by"] == "sms"

    user, me = volunteer_with_account(make_user, make_volunteer, phone="07911 123460")
    login(user)
    page = client.get("/volunteer/profile").get_data(as_text=True)
    assert "By text message: I reply YES or NO" in page
    form = {
        "name": me.name,
        "phone": "",
        "home_postcode": me.home_postcode,
        "max_km": "5",
        "capacity": "2",
        "offers_by": "sms",
        "transport": "walk",
    }
    refused_page = client.post("/volunteer/profile", data=form)
    body = refused_page.get_data(as_text=True)
    assert refused_page.status_code == 400 and profiles.NO_MOBILE_FOR_TEXTS in body and 'href="#phone"' in body
    assert 'value="sms" checked' in body or 'checked value="sms"' in body  # the choice is kept
    assert client.post("/volunteer/profile", data={**form, "phone": "07911 123460"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Volunteer, me.id).offers_by == "sms"


def test_an_approved_matching_proposal_is_texted_too(app: Any, db: Any, make_request: Any, make_volunteer: Any) -> None:
    from can_crm.services.matching import decisions
    from tests.integration.matching_helpers import proposals, run_matching, triaged, volunteer

    texter = volunteer(make_volunteer, 0.0, offers_by="sms")
    request = triaged(make_request, 0.2)
    [proposal] = proposals(run_matching(app, db)).values()
    assert proposal.volunteer_id == texter.id
    decisions.approve([proposal.id], None)
    unit_of_work.commit()
    [sent] = texts_to(db, texter)
    assert sent.template == "volunteer_offer" and request.reference in sent.body and "0.2 km from you" in sent.body


def test_coordinators_see_who_gets_offers_by_text(
    client: Any, db: Any, make_request: Any, make_volunteer: Any, make_user: Any, login: Any
) -> None:
    from tests.integration.matching_helpers import triaged, volunteer

    volunteer(make_volunteer, 0.0, name="Pat Texter", offers_by="sms")
    volunteer(make_volunteer, 0.1, name="Ali Online", phone="07911 123461")
    request = triaged(make_request, 0.0)
    login(make_user("coordinator"))
    listing = client.get("/coordinator/volunteers").get_data(as_text=True)
    assert listing.count("Offers by text message") == 1
    page = client.get(f"/coordinator/requests/{request.reference}").get_data(as_text=True)
    options = [line for line in page.splitlines() if "<option value=" in line]
    assert [o for o in options if "offered by text message" in o] == [o for o in options if "Pat Texter" in o]


def test_two_volunteers_sharing_a_phone_answer_by_reference(
    client: Any, db: Any, make_request: Any, make_volunteer: Any, callbacks: Any
) -> None:
    first, second = (make_volunteer(name=n, offers_by="sms") for n in ("Pat Shared", "Sam Shared"))
    hers = offer(make_request, second)
    assert reply(client, callbacks, "yes", "in-s1") == "accepted"  # the only offer open on that number
    assert status_of(db, hers) == "accepted" and texts_to(db, second)[-1].template == "volunteer_task"
    his = offer(make_request, first)
    assert reply(client, callbacks, f"no {his.reference}", "in-s2") == "declined"
    assert status_of(db, his) == "triaged" and texts_to(db, first)[-1].template == "volunteer_declined"


@pytest.mark.parametrize(
    "text",
    [
        "   ",  # blank (an empty one is refused by the callback itself, below)
        "?!",
        "maybe " * 1000,  # huge (Notify's limit is far lower; the inbound row keeps 2,000 characters)
        "<script>alert(1)</script> yes",
        "'; DROP TABLE requests; --",
        "نعم",  # not a word the volunteers' texts read
        "yes CAN-AAAA-AAAA CAN-BBBB-BBBB",  # two references: which?
    ],
)
def test_texts_we_cannot_act_on_change_nothing_and_say_how_to_answer(
    client: Any, db: Any, make_request: Any, make_volunteer: Any, callbacks: Any, text: str
) -> None:
    texter = make_volunteer(offers_by="sms")
    request = offer(make_request, texter)
    assert reply(client, callbacks, text, "in-bad") == "unclear"
    assert status_of(db, request) == "matched"
    told = texts_to(db, texter)[-1]
    assert told.template == "volunteer_reply_unclear" and request.reference in told.body
    assert "<script>" not in told.body and "DROP" not in told.body  # nothing they sent is echoed back


def test_an_empty_text_is_refused_by_the_callback(
    client: Any, db: Any, make_request: Any, make_volunteer: Any, callbacks: Any
) -> None:
    request = offer(make_request, make_volunteer(offers_by="sms"))
    body = {"id": "in-empty", "source_number": "07911 123457", "message": "", "date_received": "2026-11-30T10:00:00Z"}
    refused = client.post("/notify/inbound-sms", json=body, headers=callbacks)
    assert refused.status_code == 422 and refused.get_json()["error"]["fields"] == {
        "message": "Missing or not text: message"
    }
    assert status_of(db, request) == "matched"


def test_the_forms_refuse_an_unknown_way_to_send_offers_and_keep_what_was_typed(
    client: Any, db: Any, make_user: Any, make_volunteer: Any, login: Any
) -> None:
    user, me = volunteer_with_account(make_user, make_volunteer)
    login(user)
    form = {
        "name": "Pat <b>Helper</b>",
        "phone": "07911 123457",
        "home_postcode": me.home_postcode,
        "max_km": "5",
        "capacity": "2",
        "transport": "walk",
    }
    for hostile in ("pigeon", "<script>x</script>", "sms" * 500):
        page = client.post("/volunteer/profile", data={**form, "offers_by": hostile})
        body = page.get_data(as_text=True)
        assert page.status_code == 400 and 'href="#offers_by"' in body, hostile
        assert "<script>x</script>" not in body
        assert 'value="07911 123457"' in body  # what they typed stays
    db.session.expire_all()
    assert db.session.get(Volunteer, me.id).offers_by == "web"
