"""Two-factor sign-in for staff, recovery codes, admin reset; session lifetime; password change; API token
scopes and expiry; sensitive actions ask for the password again."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pyotp
from sqlalchemy import select

from can_crm import unit_of_work
from can_crm.extensions import db
from can_crm.models.audit import AuditEntry
from can_crm.models.base import utcnow
from can_crm.services.accounts import two_factor, users
from tests.conftest import PASSWORD, sign_in, totp_code, unused_totp_code


def _password_step(client: Any, user: Any) -> Any:
    return client.post("/auth/sign-in", data={"email": user.email, "password": PASSWORD})


def test_staff_need_the_second_factor_before_they_are_signed_in(client: Any, make_user: Any) -> None:
    user = make_user("coordinator")
    first = _password_step(client, user)
    assert first.status_code == 302 and first.headers["Location"].endswith("/auth/two-factor")
    assert client.get("/coordinator/").status_code == 302  # not signed in yet
    wrong = client.post("/auth/two-factor", data={"code": "000000"})
    assert wrong.status_code == 400 and "6-digit code" in wrong.get_data(as_text=True)
    right = client.post("/auth/two-factor", data={"code": totp_code()})
    assert right.status_code == 302 and client.get("/coordinator/").status_code == 200


def test_a_code_works_once_and_of_two_racing_sign_ins_one_wins(app: Any, client: Any, make_user: Any) -> None:
    """RFC 6238 section 5.2, OWASP ASVS 2.8.4: a code seen over a shoulder, or sent twice, does not sign in again."""
    user = make_user("coordinator")
    code = totp_code()
    _password_step(client, user)
    assert client.post("/auth/two-factor", data={"code": code}).status_code == 302
    client.post("/auth/sign-out")

    other = app.test_client()
    _password_step(other, user)
    replayed = other.post("/auth/two-factor", data={"code": code})
    assert replayed.status_code == 400
    assert "That code has been used already" in replayed.get_data(as_text=True)
    assert other.get("/coordinator/").status_code == 302  # not signed in

    # The next step's code (the phone a little ahead) still works, once.
    fresh = unused_totp_code(user.email)
    assert fresh != code
    assert other.post("/auth/two-factor", data={"code": fresh}).status_code == 302
    assert other.get("/coordinator/").status_code == 200

    # An older step than the last one used is refused too, even though it is within the clock allowance.
    with app.app_context():
        stored = db.session.get(type(user), user.id)
        assert stored is not None and stored.totp_last_step is not None
        assert two_factor.verify(stored, code) == two_factor.Check.USED


def test_an_admin_reset_forgets_the_last_code(app: Any, db: Any, make_user: Any) -> None:
    user, admin = make_user("coordinator"), make_user("admin")
    user.totp_last_step = 12345
    two_factor.reset(user, admin)
    assert user.totp_last_step is None and user.totp_secret is None


def test_the_second_factor_page_without_the_password_step_goes_back_to_sign_in(client: Any, db: Any) -> None:
    response = client.post("/auth/two-factor", data={"code": "123456"})
    assert response.status_code == 302 and "/auth/sign-in" in response.headers["Location"]


def test_volunteers_sign_in_with_the_password_alone(client: Any, make_user: Any) -> None:
    user = make_user("volunteer", two_factor=False)
    response = _password_step(client, user)
    assert response.status_code == 302 and "/auth/" not in response.headers["Location"]


def test_first_sign_in_enrols_the_authenticator_and_shows_recovery_codes_once(client: Any, make_user: Any) -> None:
    user = make_user("partner", two_factor=False)
    first = _password_step(client, user)
    assert first.headers["Location"].endswith("/auth/two-factor/setup")
    page = client.get("/auth/two-factor/setup").get_data(as_text=True)
    secret = re.search(r'id="setup-key">([A-Z2-7]+)<', page).group(1)
    assert client.post("/auth/two-factor/setup", data={"code": "123"}).status_code == 400
    done = client.post("/auth/two-factor/setup", data={"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 302 and done.headers["Location"].endswith("/auth/recovery-codes")
    codes_page = client.get("/auth/recovery-codes").get_data(as_text=True)
    codes = re.findall(r"<code>([0-9a-f]{8}-[0-9a-f]{8})</code>", codes_page)
    assert len(codes) == 10
    assert client.get("/auth/recovery-codes").status_code == 302  # shown once
    assert client.get("/partner/").status_code == 200

    # A recovery code works once in place of the app.
    other = client.application.test_client()
    _password_step(other, user)
    assert other.post("/auth/two-factor", data={"code": codes[0]}).status_code == 302
    again = client.application.test_client()
    _password_step(again, user)
    assert again.post("/auth/two-factor", data={"code": codes[0]}).status_code == 400


def test_admin_reset_of_the_second_factor_is_audited_and_needs_enrolling_again(
    app: Any, client: Any, make_user: Any, login: Any, db: Any
) -> None:
    admin = make_user("admin")
    coordinator = make_user("coordinator")
    login(admin)
    response = client.post(f"/admin/users/{coordinator.id}/two-factor/reset")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(type(coordinator), coordinator.id).totp_secret is None
    logged = db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_id == coordinator.id)).all()
    assert "reset_two_factor" in logged
    other = app.test_client()
    assert _password_step(other, coordinator).headers["Location"].endswith("/auth/two-factor/setup")


def test_idle_and_old_sessions_end(app: Any, client: Any, make_user: Any, login: Any) -> None:
    login(make_user("coordinator"))
    assert client.get("/coordinator/").status_code == 200
    with client.session_transaction() as session:
        session["seen_at"] -= 31 * 60
    response = client.get("/coordinator/")
    assert response.status_code == 302 and "/auth/sign-in" in response.headers["Location"]

    login(make_user("coordinator"))
    with client.session_transaction() as session:
        session["signed_in_at"] -= 12 * 3600 + 1
    assert client.get("/coordinator/").status_code == 302


def test_files_and_quick_pages_leave_the_session_cookie_alone(
    app: Any, client: Any, make_user: Any, login: Any
) -> None:
    """A late image response of the last page set the cookie it was sent with after the redirect that carried
    a flash, and the flash was lost (seen in CI): files never set the cookie, and the idle clock moves at most
    once a minute, so a quick page does not either."""
    login(make_user("coordinator"))
    assert client.get("/coordinator/").status_code == 200
    for path in ("/assets/govuk/assets/images/favicon.svg", "/static/app.css", "/healthz"):
        response = client.get(path)
        assert response.status_code == 200 and "Set-Cookie" not in response.headers, path
    assert "Set-Cookie" not in client.get("/coordinator/").headers

    with client.session_transaction() as session:
        session["seen_at"] -= 61
        before = session["seen_at"]
    assert "Set-Cookie" in client.get("/coordinator/").headers
    with client.session_transaction() as session:
        assert session["seen_at"] > before + 60


def test_a_password_change_ends_sessions_and_tokens(app: Any, client: Any, make_user: Any, login: Any) -> None:
    user = make_user("coordinator")
    _, plain = users.issue_token(user, "integration")
    unit_of_work.commit()
    other = app.test_client()
    sign_in(other, user)
    login(user)
    bad = client.post("/auth/password", data={"current_password": "wrong", "new_password": "another long password"})
    assert bad.status_code == 400
    done = client.post("/auth/password", data={"current_password": PASSWORD, "new_password": "another long password 2"})
    assert done.status_code == 302
    assert other.get("/coordinator/").status_code == 302
    assert client.get("/api/v1/residents", headers={"Authorization": f"Bearer {plain}"}).status_code == 401


def test_tokens_are_scoped_and_expire(client: Any, make_user: Any, make_request: Any, db: Any) -> None:
    user = make_user("coordinator")
    read_token, read_plain = users.issue_token(user, "reader", ["read"])
    _, old_plain = users.issue_token(user, "old", None, 1)
    unit_of_work.commit()
    reader = {"Authorization": f"Bearer {read_plain}"}
    assert client.get("/api/v1/requests", headers=reader).status_code == 200
    refused = client.post("/api/v1/requests", json={}, headers=reader)
    assert refused.status_code == 403 and "write" in refused.get_json()["error"]["message"]
    token = users.token_for(old_plain)
    token.expires_at = utcnow() - timedelta(seconds=1)
    unit_of_work.commit()
    assert client.get("/api/v1/requests", headers={"Authorization": f"Bearer {old_plain}"}).status_code == 401
    assert read_token.expires_at is not None


def test_unknown_token_scopes_are_refused(make_user: Any) -> None:
    import pytest

    from can_crm.services.common.errors import ValidationError

    with pytest.raises(ValidationError, match="Unknown scope"):
        users.issue_token(make_user("coordinator"), "x", ["admin"])


def test_a_role_change_asks_for_the_password_again(app: Any, client: Any, make_user: Any, login: Any) -> None:
    admin = make_user("admin")
    other = make_user("partner")
    login(admin)
    with client.session_transaction() as session:
        session["reauth_at"] -= 3600
    response = client.post(f"/admin/users/{other.id}/role", data={"role": "coordinator"})
    assert response.status_code == 302 and "/auth/confirm-password" in response.headers["Location"]
    assert client.post("/auth/confirm-password", data={"password": "nope"}).status_code == 400
    assert client.post("/auth/confirm-password", data={"password": PASSWORD}).status_code == 302
    assert client.post(f"/admin/users/{other.id}/role", data={"role": "coordinator"}).status_code == 302


def test_second_factor_and_api_are_throttled_in_redis(
    app: Any, db: Any, database_url: str, postcode_index: Any
) -> None:
    """Limits hold across processes: with REDIS_URL set they are counted in Redis. Own process, as in
    test_auth's sign-in throttling test, so that no other test is throttled."""
    import os
    import subprocess
    import sys

    from tests.conftest import REDIS_URL, ROOT

    script = (
        "import redis\n"
        "from can_crm import create_app\n"
        "app = create_app({'TESTING': True, 'WTF_CSRF_ENABLED': False, 'API_RATE_LIMIT': '5 per minute'})\n"
        "client = app.test_client()\n"
        "codes = [client.post('/auth/two-factor', data={'code': '1'}).status_code for _ in range(11)]\n"
        "api = [client.get('/api/v1/requests').status_code for _ in range(6)]\n"
        "keys = [k for k in redis.Redis.from_url(app.config['REDIS_URL']).scan_iter('LIMITS*')]\n"
        "print(codes[-1], api[-1], len(keys) > 0)\n"
    )
    env = {
        **os.environ,
        "CAN_ENV": "test",
        "RATELIMIT_ENABLED": "true",
        "REDIS_URL": REDIS_URL.rsplit("/", 1)[0] + "/13",
        "DATABASE_URL": database_url,
        "POSTCODE_INDEX": str(postcode_index),
    }
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "429 429 True", done.stderr[-2000:]


def test_tokens_are_listed_and_revoked_from_the_cli(app: Any, make_user: Any, db: Any) -> None:
    import json

    user = make_user("coordinator")
    runner = app.test_cli_runner()
    made = runner.invoke(args=["create-token", user.email, "--scope", "read", "--days", "7"])
    assert made.exit_code == 0 and made.output.startswith("can_")
    listed = [json.loads(line) for line in runner.invoke(args=["tokens", "list", user.email]).stdout.splitlines()]
    assert [(t["scopes"], t["revoked"]) for t in listed] == [(["read"], False)]
    assert made.output.strip() not in json.dumps(listed)
    assert runner.invoke(args=["tokens", "revoke", str(listed[0]["id"])]).exit_code == 0
    again = json.loads(runner.invoke(args=["tokens", "list", user.email]).stdout)
    assert again["revoked"] is True
    assert runner.invoke(args=["tokens", "revoke", "999999"]).exit_code == 2
    assert runner.invoke(args=["create-token", user.email, "--days", "0"]).exit_code == 2


def test_sign_in_with_a_nul_byte_is_refused_not_a_server_error(client: Any, db: Any) -> None:
    """Found by the wapiti scan: PostgreSQL refuses NUL in text, which was a 500."""
    response = client.post("/auth/sign-in", data={"email": "/e\x00", "password": "Letm3in_"})
    assert response.status_code == 400 and "Enter a correct email address" in response.get_data(as_text=True)


def test_a_saved_search_key_with_a_nul_byte_is_no_key(client: Any, make_user: Any, login: Any) -> None:
    login(make_user("coordinator"))
    response = client.get("/coordinator/?search=ab%00cd")
    assert response.status_code == 400 and "expired" in response.get_data(as_text=True)
