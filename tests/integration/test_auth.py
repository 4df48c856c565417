"""Sign-in: argon2 hashes, throttling, and sessions that end on sign-out and when a user is disabled."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from can_crm import unit_of_work
from can_crm.services.accounts import users
from tests.conftest import PASSWORD, ROOT, sign_in


def test_password_is_stored_as_an_argon2_hash(make_user: Any) -> None:
    user = make_user("coordinator")
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash


def test_wrong_password_and_unknown_email_get_the_same_answer(client: Any, make_user: Any) -> None:
    user = make_user("coordinator")
    wrong = client.post("/auth/sign-in", data={"email": user.email, "password": "not the password at all"})
    unknown = client.post("/auth/sign-in", data={"email": "nobody@example.gov.uk", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 400
    assert "Enter a correct email address and password" in wrong.get_data(as_text=True)
    assert "Enter a correct email address and password" in unknown.get_data(as_text=True)


def test_empty_sign_in_fields_are_named(client: Any, db: Any) -> None:
    page = client.post("/auth/sign-in", data={"email": "", "password": ""}).get_data(as_text=True)
    assert "Enter your email address" in page and "Enter your password" in page


def test_sign_out_ends_the_session_even_for_a_replayed_cookie(client: Any, make_user: Any, login: Any) -> None:
    login(make_user("coordinator"))
    cookie = client.get_cookie("session").value
    assert client.get("/coordinator/").status_code == 200
    assert client.post("/auth/sign-out").status_code == 302
    client.set_cookie("session", cookie)  # an attacker replays the cookie captured before sign-out
    assert client.get("/coordinator/").status_code == 302


def test_disabling_a_user_ends_their_session(client: Any, make_user: Any, login: Any) -> None:
    user = make_user("coordinator")
    login(user)
    users.set_active(user, False)
    unit_of_work.commit()
    assert client.get("/coordinator/").status_code == 302
    assert client.post("/auth/sign-in", data={"email": user.email, "password": PASSWORD}).status_code == 400


def test_open_redirect_after_sign_in_is_refused(client: Any, make_user: Any) -> None:
    user = make_user("coordinator")
    response = sign_in(client, user, next_url="//evil.example/x")
    assert response.headers["Location"] == "/"


def test_sign_in_is_throttled(app: Any, db: Any, database_url: str, postcode_index: Any) -> None:
    """Ten attempts a minute from one address, then 429. Run in its own process: the limiter is a
    process-wide extension, and enabling it here must not throttle every other test's sign-ins."""
    script = (
        "from can_crm import create_app\n"
        "app = create_app({'TESTING': True, 'WTF_CSRF_ENABLED': False})\n"
        "client = app.test_client()\n"
        "codes = [client.post('/auth/sign-in', data={'email': 'a@b.co', 'password': 'x'}).status_code "
        "for _ in range(11)]\n"
        "page = client.post('/auth/sign-in', data={}).get_data(as_text=True)\n"
        "print(codes, 'Too many attempts' in page)\n"
    )
    env = {
        **os.environ,
        "CAN_ENV": "test",
        "RATELIMIT_ENABLED": "true",
        "DATABASE_URL": database_url,
        "POSTCODE_INDEX": str(postcode_index),
    }
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,  # noqa: S603
        timeout=120,
        check=True,
    )
    assert done.stdout.strip().splitlines()[-1] == f"{[400] * 10 + [429]} True", done.stderr[-2000:]
