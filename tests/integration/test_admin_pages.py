"""Administration pages: users, roles, disabling accounts, API tokens."""

from __future__ import annotations

from typing import Any

import pytest
from flask import g
from sqlalchemy import select

from can_crm.models.user import ApiToken, User
from tests.conftest import PASSWORD, sign_in


def text(response: Any) -> str:
    return response.get_data(as_text=True)


def as_(client: Any) -> Any:
    """Switch to another browser. The test holds one app context, so Flask-Login's cached user on `g`
    would otherwise leak from one test client's request into the next."""
    g.pop("_login_user", None)
    return client


@pytest.fixture
def admin(make_user: Any, login: Any) -> Any:
    user = make_user("admin")
    login(user)
    return user


@pytest.mark.parametrize("path", ["/admin/users", "/admin/users/new"])
def test_admin_pages_render_for_admins(client: Any, admin: Any, path: str) -> None:
    assert client.get(path).status_code == 200


def test_user_page_renders_for_admins(client: Any, admin: Any) -> None:
    assert client.get(f"/admin/users/{admin.id}").status_code == 200
    assert client.get("/admin/users/9999").status_code == 404


@pytest.mark.parametrize("role", ["coordinator", "partner", "councillor", "volunteer"])
@pytest.mark.parametrize("path", ["/admin/users", "/admin/users/new", "/admin/users/1"])
def test_admin_pages_refuse_other_roles(client: Any, make_user: Any, login: Any, role: str, path: str) -> None:
    login(make_user(role))
    assert client.get(path).status_code == 403


@pytest.mark.parametrize("path", ["/admin/users", "/admin/users/new", "/admin/users/1"])
def test_admin_pages_send_anonymous_users_to_sign_in(client: Any, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302 and "/auth/sign-in" in response.headers["Location"]


def test_admin_cannot_open_request_pages(client: Any, admin: Any, make_request: Any) -> None:
    req = make_request()
    assert client.get("/coordinator/").status_code == 403
    assert client.get(f"/coordinator/requests/{req.reference}").status_code == 403
    assert client.get(f"/partner/requests/{req.reference}").status_code == 403


def test_create_a_councillor_with_a_ward(client: Any, admin: Any, db: Any) -> None:
    response = client.post(
        "/admin/users/new",
        data={
            "email": "Cllr.Jones@LBHF.gov.uk",
            "name": "Pat Jones",
            "role": "councillor",
            "organisation": "",
            "ward_code": "E05013739",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "cllr.jones@lbhf.gov.uk"))
    assert user.role == "councillor" and user.ward_code == "E05013739"
    assert "cllr.jones@lbhf.gov.uk" in text(client.get("/admin/users"))


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("email", "", "Enter an email address"),
        ("email", "not-an-email", "correct format"),
        ("name", "", "Enter full name"),
        ("name", "<b>x</b>", "must not contain HTML"),
        ("role", "emperor", "Select a role"),
        ("password", "short", "12 characters or more"),
        ("organisation", "o" * 121, "120 characters or fewer"),
    ],
)
def test_bad_new_user_input_is_shown_and_kept(
    client: Any, admin: Any, db: Any, field: str, value: str, message: str
) -> None:
    data = {
        "email": "new.person@example.gov.uk",
        "name": "New Person",
        "role": "coordinator",
        "organisation": "Council",
        "ward_code": "",
        "password": PASSWORD,
        field: value,
    }
    response = client.post("/admin/users/new", data=data)
    assert response.status_code == 400
    page = text(response)
    assert message in page and "govuk-error-summary" in page
    if field != "email":
        assert "new.person@example.gov.uk" in page
    assert db.session.scalar(select(User).where(User.email == "new.person@example.gov.uk")) is None


def test_duplicate_email_is_refused_next_to_the_field(client: Any, admin: Any) -> None:
    data = {"email": admin.email, "name": "Copy Person", "role": "coordinator", "password": PASSWORD}
    response = client.post("/admin/users/new", data=data)
    assert response.status_code == 400 and "already exists" in text(response)


def test_change_role_ends_the_users_sessions(app: Any, client: Any, admin: Any, make_user: Any, db: Any) -> None:
    other = make_user("partner")
    other_client = app.test_client()
    sign_in(as_(other_client), other)
    assert as_(other_client).get("/partner/").status_code == 200
    assert as_(client).post(f"/admin/users/{other.id}/role", data={"role": "coordinator"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, other.id).role == "coordinator"
    response = as_(other_client).get("/coordinator/")
    assert response.status_code == 302 and "/auth/sign-in" in response.headers["Location"]


def test_bad_role_is_refused(client: Any, admin: Any, make_user: Any) -> None:
    other = make_user("partner")
    response = as_(client).post(f"/admin/users/{other.id}/role", data={"role": "superuser"})
    assert response.status_code == 400 and "Select a role" in text(response)


def test_disabling_a_user_ends_their_session_and_tokens(
    app: Any, client: Any, admin: Any, make_user: Any, db: Any
) -> None:
    coordinator = make_user("coordinator")
    their_client = app.test_client()
    sign_in(as_(their_client), coordinator)
    assert as_(their_client).get("/coordinator/").status_code == 200
    issued = as_(client).post(f"/admin/users/{coordinator.id}/tokens", data={"name": "Integration"})
    assert issued.status_code == 200
    response = as_(client).post(f"/admin/users/{coordinator.id}/active", data={"active": "no"})
    assert response.status_code == 302
    response = as_(their_client).get("/coordinator/")
    assert response.status_code == 302 and "/auth/sign-in" in response.headers["Location"]
    db.session.expire_all()
    assert all(t.revoked_at is not None for t in db.session.scalars(select(ApiToken)))
    # Enabled again: they can sign in, but the old session stays ended.
    assert as_(client).post(f"/admin/users/{coordinator.id}/active", data={"active": "yes"}).status_code == 302
    assert as_(their_client).get("/coordinator/").status_code == 302


def test_admin_cannot_disable_themselves(client: Any, admin: Any) -> None:
    response = client.post(f"/admin/users/{admin.id}/active", data={"active": "no"})
    assert response.status_code == 400 and "cannot disable your own account" in text(response)


def test_token_is_shown_once_then_only_its_prefix(client: Any, admin: Any, make_user: Any, db: Any) -> None:
    other = make_user("partner")
    response = client.post(f"/admin/users/{other.id}/tokens", data={"name": "Food bank"})
    assert response.status_code == 200
    page = text(response)
    start = page.index('id="new-token"')
    plain = page[page.index(">", start) + 1 : page.index("</code>", start)]
    assert plain.startswith("can_") and len(plain) > 30
    token = db.session.scalar(select(ApiToken))
    assert token.token_hash != plain and plain.startswith(token.prefix)
    later = text(client.get(f"/admin/users/{other.id}"))
    assert plain not in later and token.prefix in later
    assert client.post(f"/admin/users/{other.id}/tokens/{token.id}/revoke").status_code == 302
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).revoked_at is not None


def test_token_needs_a_name_and_cannot_be_revoked_through_another_user(client: Any, admin: Any, make_user: Any) -> None:
    one, two = make_user("partner"), make_user("partner")
    response = client.post(f"/admin/users/{one.id}/tokens", data={"name": ""})
    assert response.status_code == 400 and "Enter token name" in text(response)
    client.post(f"/admin/users/{one.id}/tokens", data={"name": "Mine"})
    token_id = 1
    assert client.post(f"/admin/users/{two.id}/tokens/{token_id}/revoke").status_code == 404
