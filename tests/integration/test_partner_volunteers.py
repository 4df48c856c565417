"""Partner organisations add their own people as volunteers: one at a time, from a CSV file, and by invitation
they set their password; coordinators vet them; each organisation sees only its own people."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from can_crm import unit_of_work
from can_crm.models.notification import Notification
from can_crm.models.user import AccountInvitation, User
from can_crm.models.volunteer import Volunteer
from can_crm.services.accounts import users
from tests.conftest import PASSWORD


def text(response: Any) -> str:
    return response.get_data(as_text=True)


def person_form(postcode: str, **overrides: Any) -> dict[str, Any]:
    return {
        "name": "Ola Nowak",
        "email": "ola@example.org",
        "phone": "07911 123459",
        "home_postcode": postcode,
        "max_km": "4",
        "transport": "walk",
        "capacity": "2",
        "skills": ["shopping", "befriending"],
        "avail_mon": ["morning"],
        **overrides,
    }


@pytest.fixture
def partner(make_user: Any) -> Any:
    return make_user("partner", organisation="Fulham Mutual Aid")


def _link(notification: Notification) -> str:
    found = re.search(r"/auth/invitation/[A-Za-z0-9_-]+", notification.body)
    assert found, notification.body
    return found.group(0)


def test_a_partner_adds_a_volunteer_who_waits_for_vetting_and_is_invited(
    client: Any, db: Any, partner: Any, login: Any, hf_postcode: str
) -> None:
    login(partner)
    assert client.get("/partner/volunteers/new").status_code == 200
    response = client.post("/partner/volunteers/new", data=person_form(hf_postcode, organisation="Someone Else"))
    assert response.status_code == 302, text(response)[:3000]
    volunteer = db.session.scalar(select(Volunteer).where(Volunteer.email == "ola@example.org"))
    assert volunteer.status == "pending" and volunteer.lat is not None
    assert volunteer.added_by_id == partner.id and volunteer.added_by_organisation == "Fulham Mutual Aid"
    assert volunteer.organisation == "Fulham Mutual Aid"  # the partner's, whatever the form sent
    assert volunteer.availability == {"mon": ["morning"]} and volunteer.transport == "walk"
    assert not volunteer.is_available(volunteer.created_at.date())
    account = db.session.get(User, volunteer.user_id)
    assert account.role == "volunteer" and account.password_hash == users.UNUSABLE_PASSWORD
    # Nobody can sign in to the account until they set a password (not even with an empty one).
    assert users.authenticate("ola@example.org", "") is None
    message = db.session.scalar(select(Notification).where(Notification.volunteer_id == volunteer.id))
    assert message.template == "volunteer_invitation" and "Fulham Mutual Aid" in message.body
    listing = text(client.get("/partner/volunteers"))
    assert "Ola Nowak" in listing and "Waiting for checks" in listing and "Has not set a password yet" in listing


def test_the_invitation_sets_the_password_once_and_signs_the_volunteer_in(
    app: Any, db: Any, partner: Any, login: Any, client: Any, hf_postcode: str
) -> None:
    login(partner)
    assert client.post("/partner/volunteers/new", data=person_form(hf_postcode)).status_code == 302
    link = _link(db.session.scalar(select(Notification)))
    volunteer_client = app.test_client()
    assert volunteer_client.get(link).status_code == 200
    short = volunteer_client.post(link, data={"password": "short"})
    assert short.status_code == 400 and "Password must be 12 characters or more" in text(short)
    done = volunteer_client.post(link, data={"password": PASSWORD})
    assert done.status_code == 302
    assert "nothing will be offered to you until then" in text(volunteer_client.get("/volunteer/"))
    again = app.test_client().get(link)
    assert again.status_code == 410 and "already set your password" in text(again)
    assert app.test_client().post(link, data={"password": "another long password"}).status_code == 410
    assert users.authenticate("ola@example.org", PASSWORD) is not None
    assert "Has not set a password yet" not in text(client.get("/partner/volunteers"))


def test_invitation_links_that_do_not_work_say_why(app: Any, db: Any, partner: Any) -> None:
    from can_crm.models.base import utcnow
    from can_crm.services.volunteers import organisations

    client = app.test_client()
    assert client.get("/auth/invitation/not-a-token").status_code == 404
    assert client.get("/auth/invitation/" + "x" * 500).status_code == 404
    assert client.get("/auth/invitation/%00%01").status_code == 404
    volunteer = organisations.add_person(
        partner, person_form("W6 9JH", email="late@example.org", home_postcode="SW6 1AA")
    )
    unit_of_work.commit()
    link = _link(db.session.scalar(select(Notification).where(Notification.volunteer_id == volunteer.id)))
    invitation = db.session.scalar(select(AccountInvitation))
    invitation.expires_at = utcnow()
    unit_of_work.commit()
    assert client.get(link).status_code == 410
    assert "expired" in text(client.post(link, data={"password": PASSWORD}))


def test_a_lost_or_expired_link_is_sent_again_and_the_old_one_stops_working(
    app: Any, db: Any, partner: Any, make_user: Any, login: Any, client: Any, hf_postcode: str
) -> None:
    login(partner)
    assert client.post("/partner/volunteers/new", data=person_form(hf_postcode)).status_code == 302
    volunteer = db.session.scalar(select(Volunteer).where(Volunteer.email == "ola@example.org"))
    first = _link(db.session.scalar(select(Notification).where(Notification.volunteer_id == volunteer.id)))
    listing = text(client.get("/partner/volunteers"))
    assert "Send a new link" in listing and "to Ola Nowak to set a password" in listing

    sent = client.post(f"/partner/volunteers/{volunteer.id}/invitation", follow_redirects=True)
    assert "We have sent Ola Nowak a new link" in text(sent)
    messages = db.session.scalars(
        select(Notification).where(Notification.volunteer_id == volunteer.id).order_by(Notification.id)
    ).all()
    assert [m.template for m in messages] == ["volunteer_invitation"] * 2
    second = _link(messages[-1])
    assert second != first
    volunteer_client = app.test_client()
    assert volunteer_client.get(first).status_code == 410  # the older link no longer works
    assert volunteer_client.post(second, data={"password": PASSWORD}).status_code == 302

    # Once they have a password, or for someone else's volunteer, nothing is sent.
    done = client.post(f"/partner/volunteers/{volunteer.id}/invitation", follow_redirects=True)
    assert "has already set a password" in text(done)
    assert "Send a new link" not in text(client.get("/partner/volunteers"))
    other = make_user("partner", organisation="Another Group")
    login(other)
    assert client.post(f"/partner/volunteers/{volunteer.id}/invitation").status_code == 404
    assert client.post("/partner/volunteers/999999999/invitation").status_code == 404
    headers = _bearer(partner)
    api = client.post(f"/api/v1/organisation/volunteers/{volunteer.id}/invitation", headers=headers)
    assert api.status_code == 409 and "already set a password" in api.get_json()["error"]["message"]
    missing = client.post("/api/v1/organisation/volunteers/424242/invitation", headers=headers)
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    assert len(db.session.scalars(select(Notification).where(Notification.volunteer_id == volunteer.id)).all()) == 2


def test_the_api_sends_a_new_link(client: Any, db: Any, partner: Any, hf_postcode: str) -> None:
    from can_crm.services.volunteers import organisations

    volunteer = organisations.add_person(partner, person_form(hf_postcode))
    unit_of_work.commit()
    answer = client.post(f"/api/v1/organisation/volunteers/{volunteer.id}/invitation", headers=_bearer(partner))
    assert answer.status_code == 202, answer.get_json()
    assert answer.get_json()["name"] == "Ola Nowak" and answer.get_json()["account_ready"] is False
    count = db.session.scalar(
        select(func.count()).select_from(Notification).where(Notification.volunteer_id == volunteer.id)
    )
    assert count == 2


def test_every_bad_field_gets_its_message_and_what_was_typed_stays(
    client: Any, db: Any, partner: Any, login: Any
) -> None:
    login(partner)
    response = client.post(
        "/partner/volunteers/new",
        data=person_form(
            "ZZ9 9ZZ", name="", email="not-an-email", phone="12", max_km="lots", capacity="99", transport="boat"
        )
        | {"skills": ["juggling"], "avail_mon": ["midnight"]},
    )
    assert response.status_code == 400
    page = text(response)
    for message in (
        "Enter full name",
        "Enter an email address in the correct format",
        "How far they travel (km) must be a number",
        "How many tasks at once must be between 1 and 20",
        "Unknown skill: juggling",
    ):
        assert message.lower() in page.lower(), message
    assert 'value="ZZ9 9ZZ"' in page and 'value="not-an-email"' in page and 'value="lots"' in page
    assert db.session.scalar(select(func.count()).select_from(Volunteer)) == 0
    assert db.session.scalar(select(func.count()).select_from(User).where(User.role == "volunteer")) == 0


def test_an_email_already_registered_is_refused_on_its_field(
    client: Any, db: Any, partner: Any, login: Any, make_user: Any, hf_postcode: str
) -> None:
    make_user("volunteer", email="taken@example.org")
    login(partner)
    response = client.post("/partner/volunteers/new", data=person_form(hf_postcode, email="taken@example.org"))
    assert response.status_code == 400 and "already exists" in text(response)


def test_a_partner_sees_only_their_own_organisation_and_no_vetting_file(
    client: Any, db: Any, make_user: Any, login: Any, hf_postcode: str
) -> None:
    from can_crm.services.volunteers import organisations

    ours = make_user("partner", organisation="Fulham Mutual Aid")
    colleague = make_user("partner", organisation="Fulham Mutual Aid")
    theirs = make_user("partner", organisation="Age UK")
    mine = organisations.add_person(ours, person_form(hf_postcode, name="Our Person", email="ours@example.org"))
    organisations.add_person(theirs, person_form(hf_postcode, name="Their Person", email="theirs@example.org"))
    mine.dbs_level, mine.dbs_certificate_number = "basic", "001234567890"
    mine.vetting_reason = "Private vetting note"
    unit_of_work.commit()
    login(colleague)
    page = text(client.get("/partner/volunteers"))
    assert "Our Person" in page and "Their Person" not in page
    assert "001234567890" not in page and "Private vetting note" not in page and hf_postcode not in page


def test_a_partner_without_an_organisation_name_is_told_to_ask_an_admin(
    client: Any, db: Any, make_user: Any, login: Any
) -> None:
    login(make_user("partner"))
    response = client.get("/partner/volunteers")
    assert response.status_code == 403 and "ask an administrator" in text(response)
    assert client.post("/partner/volunteers/new", data={"name": "x"}).status_code == 403


@pytest.mark.parametrize("role", ["councillor", "coordinator", "volunteer", "admin"])
def test_only_partner_organisations_reach_the_volunteer_pages(
    client: Any, db: Any, make_user: Any, login: Any, role: str
) -> None:
    login(make_user(role, organisation="Somewhere"))
    for path in ("/partner/volunteers", "/partner/volunteers/new", "/partner/volunteers/upload"):
        assert client.get(path).status_code == 403, path


def test_coordinators_see_who_added_whom_and_vet_as_usual(
    client: Any, db: Any, partner: Any, make_user: Any, login: Any, hf_postcode: str
) -> None:
    from can_crm.services.volunteers import organisations

    volunteer = organisations.add_person(partner, person_form(hf_postcode))
    unit_of_work.commit()
    login(make_user("coordinator"))
    listing = text(client.get("/coordinator/volunteers"))
    assert "Added by Fulham Mutual Aid" in listing and "Waiting for vetting" in listing
    url = f"/coordinator/volunteers/{volunteer.id}/vetting"
    assert "Fulham Mutual Aid (partner organisation)" in text(client.get(url))
    assert client.post(url, data={"decision": "approved", "identity_checked": "y"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Volunteer, volunteer.id).status == "active"


# -- CSV ---------------------------------------------------------------------------------------------------


def _upload(client: Any, content: bytes | str, filename: str = "people.csv") -> Any:
    raw = content.encode() if isinstance(content, str) else content
    return client.post(
        "/partner/volunteers/upload",
        data={"file": (io.BytesIO(raw), filename)},
        content_type="multipart/form-data",
    )


HEADER = "name,email,phone,postcode,max_km,transport,capacity,skills,availability\n"


def test_a_good_file_adds_everyone_with_an_invitation_each(
    client: Any, db: Any, partner: Any, login: Any, hf_postcode: str
) -> None:
    login(partner)
    assert client.get("/partner/volunteers/upload").status_code == 200
    template = client.get("/partner/volunteers/template.csv")
    assert template.status_code == 200 and text(template).startswith("name,email,")
    csv_text = (
        "\ufeff"
        + HEADER
        + f"Ann One,ann@example.org,07911 123460,{hf_postcode},3,walk,1,Shopping; pharmacy collection,mon morning\n"
        + f'Bo Two,BO@example.org,,{hf_postcode.lower()},2.5,,2,,"sat afternoon evening; Sunday morning"\n'
        + ",,,,,,,,\n"
    )
    response = _upload(client, csv_text)
    assert response.status_code == 200, re.findall(r"Row [^<]*|govuk-error-message[^/]*", text(response))
    assert "2 volunteers added" in text(response)
    rows = list(db.session.scalars(select(Volunteer).order_by(Volunteer.name)))
    assert [v.name for v in rows] == ["Ann One", "Bo Two"]
    assert rows[0].skills == ["pharmacy_collection", "shopping"]
    assert rows[1].availability == {"sat": ["afternoon", "evening"], "sun": ["morning"]}
    assert rows[1].email == "bo@example.org" and all(v.status == "pending" for v in rows)
    assert all(v.added_by_organisation == "Fulham Mutual Aid" for v in rows)
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 2


def test_the_downloaded_template_uploads_as_it_is(client: Any, db: Any, partner: Any, login: Any) -> None:
    """The example row must pass our own rules (it named a skill, "prescriptions", that does not exist)."""
    login(partner)
    template = text(client.get("/partner/volunteers/template.csv"))
    assert "max_per_day" in template.splitlines()[0]
    response = _upload(client, template)
    assert response.status_code == 200, re.findall(r"Row [^<]*", text(response))
    added = db.session.scalar(select(Volunteer).where(Volunteer.email == "sam@example.com"))
    assert added.skills == ["pharmacy_collection", "shopping"] and added.max_per_day == 3


def test_a_file_with_bad_rows_adds_nobody_and_names_every_row_and_column(
    client: Any, db: Any, partner: Any, login: Any, make_user: Any, hf_postcode: str
) -> None:
    make_user("volunteer", email="taken@example.org")
    login(partner)
    csv_text = (
        HEADER
        + f"Good Person,good@example.org,,{hf_postcode},3,,1,,\n"  # row 2: fine
        + f"Bad Km,km@example.org,,{hf_postcode},far,,1,,\n"  # row 3
        + ",nobody-at-all,,ZZ9 9ZZ,3,boat,0,juggling,noon\n"  # row 4: many columns
        + f"Taken,taken@example.org,,{hf_postcode},3,,1,,\n"  # row 5
        + f"Twice,good@example.org,,{hf_postcode},3,,1,,\n"  # row 6
    )
    response = _upload(client, csv_text)
    assert response.status_code == 400
    page = text(response)
    assert "Nobody was added: 4 rows of 5 need changing" in page
    for expected in (
        "Row 3, max_km: How far they travel (km) must be a number",
        "Row 4, name: Enter full name",
        "Row 4, email: Enter an email address in the correct format",
        "Row 4, transport:",
        "Row 4, capacity: How many tasks at once must be between 1 and 20",
        "Row 4, skills: Unknown skill: juggling",
        "Row 4, availability: Availability must be days and times of day",
        "Row 5, email: A user with that email address already exists",
        "Row 6, email: Email address is also in row 2",
    ):
        assert expected in page, expected
    assert "Row 2," not in page
    assert db.session.scalar(select(func.count()).select_from(Volunteer)) == 0
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 0
    assert db.session.scalar(select(func.count()).select_from(User).where(User.role == "volunteer")) == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty"),
        (b"\x00\x01\x02binary", "not a CSV text file"),
        ("name,email\n".encode("utf-16"), "UTF-16"),
        (b"name,email,postcode\n\xff\xfe\xfa,x,y\n", "not UTF-8"),
        (b"name,email,postcode,max_km,capacity,shoe size\n", "columns we do not know: shoe size"),
        (b"name,email\nA,a@example.org\n", "no column for: postcode, max_km, capacity"),
        (b"name,email,postcode,max_km,capacity\n", "nobody in it"),
        (b"name,name,email,postcode,max_km,capacity\n", "two name columns"),
        (b"name,email,postcode,max_km,capacity\nA,a@example.org,W6 9JH,3,1,extra\n", "more values than"),
        (b"x" * (1024 * 1024 + 10), "larger than 1 MB"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_with_a_reason(
    client: Any, db: Any, partner: Any, login: Any, content: bytes, message: str
) -> None:
    login(partner)
    response = _upload(client, content)
    assert response.status_code == 400 and message in text(response), text(response)[:3000]
    assert db.session.scalar(select(func.count()).select_from(Volunteer)) == 0


def test_no_file_and_too_many_rows_are_refused(client: Any, app: Any, db: Any, partner: Any, login: Any) -> None:
    login(partner)
    missing = client.post("/partner/volunteers/upload", data={}, content_type="multipart/form-data")
    assert missing.status_code == 400 and "Select a CSV file of volunteers" in text(missing)
    app.config["VOLUNTEER_IMPORT_MAX_ROWS"] = 2
    try:
        rows = "".join(f"P{i},p{i}@example.org,,W6 9JH,3,,1,,\n" for i in range(3))
        response = _upload(client, HEADER + rows)
    finally:
        app.config["VOLUNTEER_IMPORT_MAX_ROWS"] = 500
    assert response.status_code == 400 and "more than 2 people" in text(response)


# -- API ---------------------------------------------------------------------------------------------------


def _bearer(user: Any) -> dict[str, str]:
    _, token = users.issue_token(user)
    unit_of_work.commit()
    return {"Authorization": f"Bearer {token}"}


def test_the_api_adds_and_lists_the_organisations_own_people(
    client: Any, db: Any, partner: Any, make_user: Any, hf_postcode: str
) -> None:
    headers = _bearer(partner)
    body = {
        "name": "Api Person",
        "email": "api@example.org",
        "postcode": hf_postcode,
        "max_km": 3,
        "capacity": 1,
        "skills": ["shopping"],
        "availability": {"tue": ["evening"]},
    }
    created = client.post("/api/v1/organisation/volunteers", json=body, headers=headers)
    assert created.status_code == 201, created.get_json()
    out = created.get_json()
    assert out["status"] == "pending" and out["account_ready"] is False
    assert "postcode" not in out and "dbs_certificate_number" not in out and "dbs_level" not in out
    volunteer = db.session.get(Volunteer, out["id"])
    assert volunteer.added_by_organisation == "Fulham Mutual Aid" and volunteer.availability == {"tue": ["evening"]}
    assert db.session.scalar(select(Notification).where(Notification.volunteer_id == volunteer.id)) is not None
    other = make_user("partner", organisation="Age UK")
    assert client.get("/api/v1/organisation/volunteers", headers=_bearer(other)).get_json() == {"items": []}
    listed = client.get("/api/v1/organisation/volunteers", headers=headers).get_json()["items"]
    assert [p["name"] for p in listed] == ["Api Person"]


def test_the_api_refuses_bad_input_field_by_field(client: Any, db: Any, partner: Any, make_user: Any) -> None:
    headers = _bearer(partner)
    make_user("volunteer", email="taken@example.org")
    bad = client.post(
        "/api/v1/organisation/volunteers",
        json={"name": "", "email": "nope", "postcode": "ZZ9 9ZZ", "max_km": 500, "capacity": 0, "skills": ["x"]},
        headers=headers,
    )
    assert bad.status_code == 422
    fields = bad.get_json()["error"]["fields"]
    assert {"name", "email", "max_km", "capacity", "skills"} <= set(fields), fields
    vetting = client.post(
        "/api/v1/organisation/volunteers",
        json={
            "name": "A B",
            "email": "a@example.org",
            "postcode": "W6 9JH",
            "max_km": 1,
            "capacity": 1,
            "dbs_level": "enhanced",
        },  # fmt: skip
        headers=headers,
    )
    assert vetting.status_code == 422 and "dbs_level" in vetting.get_json()["error"]["fields"]
    taken = client.post(
        "/api/v1/organisation/volunteers",
        json={"name": "A B", "email": "taken@example.org", "postcode": "W6 9JH", "max_km": 1, "capacity": 1},
        headers=headers,
    )
    assert taken.status_code == 422 and "already exists" in taken.get_json()["error"]["fields"]["email"]
    assert db.session.scalar(select(func.count()).select_from(Volunteer)) == 0
    no_org = make_user("partner")
    refused = client.get("/api/v1/organisation/volunteers", headers=_bearer(no_org))
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "forbidden"
    councillor = make_user("councillor")
    assert client.get("/api/v1/organisation/volunteers", headers=_bearer(councillor)).status_code == 403
