"""Sign-in: argon2 hashes, throttling, and sessions that end on sign-out and when a user is disabled."""

from __future__ import annotations

import json
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


# Throttling runs in its own process: the limiter is a process-wide extension, and enabling it here would
# throttle every other test's sign-ins. The script signs in as the scenario says and prints what it saw.
THROTTLE_SCRIPT = """
import json, sys
from can_crm import create_app, unit_of_work
from can_crm.services.accounts import users

scenario, password = sys.argv[1], sys.argv[2]
app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "LOGIN_FAILED_ADDRESS_LIMIT": "12 per 15 minutes"})
with app.app_context():
    for name in "abcd":
        users.create_user(f"{name}@example.gov.uk", name.upper() + " Person", "coordinator", password)
    unit_of_work.commit()

def sign_in(email, secret, address="192.0.2.1"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    response = client.post("/auth/sign-in", data={"email": email, "password": secret})
    return response.status_code, response.get_data(as_text=True)

seen = {}
if scenario == "successes":
    seen["codes"] = [sign_in("a@example.gov.uk", password)[0] for _ in range(30)]
elif scenario == "account":
    seen["a_wrong"] = [sign_in("a@example.gov.uk", "wrong password")[0] for _ in range(5)]
    seen["a_right"], page = sign_in("a@example.gov.uk", password)
    seen["a_message"] = "Too many failed sign-in attempts for this account. Wait 15 minutes, then try again." in page
    seen["a_elsewhere"] = sign_in(" A@Example.gov.uk", password, address="198.51.100.7")[0]
    seen["b_right"] = sign_in("b@example.gov.uk", password)[0]
    seen["b_wrong"] = sign_in("b@example.gov.uk", "wrong password")[0]
elif scenario == "address":
    seen["wrong"] = [sign_in(f"{n}@example.gov.uk", "wrong password")[0] for n in "abc" for _ in range(4)]
    seen["d_right"], page = sign_in("d@example.gov.uk", password)
    seen["d_message"] = "Too many failed sign-in attempts from your network. Wait 15 minutes" in page
    seen["d_elsewhere"] = sign_in("d@example.gov.uk", password, address="198.51.100.7")[0]
print(json.dumps(seen))
"""


def throttle(scenario: str, database_url: str, postcode_index: Any) -> dict[str, Any]:
    env = {
        **os.environ,
        "CAN_ENV": "test",
        "RATELIMIT_ENABLED": "true",
        "RATELIMIT_STORAGE_URI": "memory://",
        "DATABASE_URL": database_url,
        "POSTCODE_INDEX": str(postcode_index),
    }
    done = subprocess.run(
        [sys.executable, "-c", THROTTLE_SCRIPT, scenario, PASSWORD],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_thirty_successful_sign_ins_from_one_address_all_succeed(
    db: Any, database_url: str, postcode_index: Any
) -> None:
    assert throttle("successes", database_url, postcode_index)["codes"] == [302] * 30


def test_failed_attempts_lock_that_account_only(db: Any, database_url: str, postcode_index: Any) -> None:
    seen = throttle("account", database_url, postcode_index)
    assert seen["a_wrong"] == [400] * 5
    assert seen["a_right"] == 429 and seen["a_message"]  # even the right password waits: guessing stops here
    assert seen["a_elsewhere"] == 429  # the lock is the account's, from any address, however it is typed
    assert seen["b_right"] == 302 and seen["b_wrong"] == 400


def test_failed_attempts_from_one_address_stop_at_a_higher_ceiling(
    db: Any, database_url: str, postcode_index: Any
) -> None:
    seen = throttle("address", database_url, postcode_index)
    assert seen["wrong"] == [400] * 12  # no account reached its own limit of 5
    assert seen["d_right"] == 429 and seen["d_message"]
    assert seen["d_elsewhere"] == 302


def test_the_address_ceiling_is_far_above_the_account_limit(app: Any) -> None:
    from limits import parse

    account, address = (parse(app.config[f"LOGIN_FAILED_{who}_LIMIT"]) for who in ("ACCOUNT", "ADDRESS"))
    assert account.amount == 5 and address.amount >= 20 * account.amount
    assert account.get_expiry() == address.get_expiry() == 15 * 60
