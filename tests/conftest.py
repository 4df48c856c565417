"""Shared fixtures. Integration tests run on a real PostgreSQL database built by the migrations,
one database per xdist worker, emptied between tests; Redis is the real one on 127.0.0.1."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import g
from flask.testing import FlaskClient

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PASSWORD = "correct horse battery staple"
# Every staff user the fixtures make is enrolled in two-factor sign-in with this secret, so the sign-in
# helpers below can complete the second step on their own (tests of the enrolment itself make their own).
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def totp_code(secret: str = TOTP_SECRET) -> str:
    import pyotp

    return str(pyotp.TOTP(secret).now())


def unused_totp_code(email: str, secret: str = TOTP_SECRET) -> str:
    """The code someone signing in as `email` now would type. A code works once, so when the account used the
    current one already (a test signing the same person in twice within 30 s) it is the next step's, which the
    one-step clock allowance accepts; when even that one is used, this waits for a new step, as a person would."""
    import time
    from datetime import UTC, datetime

    import pyotp
    from sqlalchemy import func, select

    from can_crm.extensions import db
    from can_crm.models.user import User

    with db.engine.connect() as connection:  # its own short read: the test's session and transaction stay as they are
        last = connection.scalar(select(User.totp_last_step).where(func.lower(User.email) == email.lower()))
    totp = pyotp.TOTP(secret)
    while True:
        now = totp.timecode(datetime.now(UTC))
        step = now if last is None or last < now else last + 1
        if step <= now + 1:
            return str(totp.generate_otp(step))
        time.sleep(0.5)


def sign_in(client: Any, user: Any, password: str = PASSWORD, next_url: str | None = None) -> Any:
    """Sign `user` in on `client` through the real pages: the password, then (staff) the TOTP code.

    Returns the last response (a 302 into the app when both steps passed)."""
    url = "/auth/sign-in" + (f"?next={next_url}" if next_url else "")
    response = client.post(url, data={"email": user.email, "password": password})
    location = response.headers.get("Location", "") if response.status_code == 302 else ""
    secret = TOTP_SECRET
    if "/auth/two-factor/setup" in location:
        # Not enrolled yet (a user made without the fixture): enrol with the secret the page offers,
        # then sign in again like anyone enrolled.
        client.get("/auth/two-factor/setup")
        with client.session_transaction() as session:
            secret = session["pending_totp_secret"]
        enrolled = client.post("/auth/two-factor/setup", data={"code": unused_totp_code(user.email, secret)})
        assert enrolled.status_code == 302, enrolled.data[:500]
        response = client.post(url, data={"email": user.email, "password": password})
        location = response.headers.get("Location", "") if response.status_code == 302 else ""
    if "/auth/two-factor" in location:
        response = client.post("/auth/two-factor", data={"code": unused_totp_code(user.email, secret)})
    return response


def _create_db(worker_id: str) -> tuple[str, str]:
    # One database per test process: xdist workers and concurrent runs never share one.
    name = f"can_test_{re.sub(r'[^a-z0-9]', '', worker_id)}_{os.getpid()}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def _drop_db(name: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postcode_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small ONSPD-format file generated from points inside the real borough polygons, imported."""
    from geo.boundaries import Boundaries
    from geo.directory import import_onspd
    from geo.onspd_gen import make_onspd

    folder = tmp_path_factory.mktemp("onspd")
    csv_path = folder / "onspd.csv"
    boundaries = Boundaries.from_file(ROOT / "data" / "london_boroughs.geojson")
    make_onspd(boundaries, csv_path, per_borough=60, seed=7, codes=["E09000013", "E09000020", "E09000033", "E09000027"])
    index = folder / "postcodes.npz"
    import_onspd(csv_path, index)
    return index


@pytest.fixture(scope="session")
def database_url(worker_id: str) -> Iterator[str]:
    name, url = _create_db(worker_id)
    yield url
    _drop_db(name)


class FreshUserClient(FlaskClient):
    """The `db` fixture keeps an app context open, and Flask-Login caches the user on its `g`: forget it
    before each request so two clients (two people) in one test never see each other's sign-in."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        g.pop("_login_user", None)
        return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app(database_url: str, postcode_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from flask_migrate import upgrade

    from can_crm import create_app

    app = create_app(
        {
            "CAN_ENV": "test",
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url.replace("postgresql://", "postgresql+psycopg://"),
            "SQLALCHEMY_ENGINE_OPTIONS": {},  # as in production: the poll at checkout checks each connection
            "WTF_CSRF_ENABLED": False,
            "REDIS_URL": None,
            "POSTCODE_INDEX": str(postcode_index),
            "ROUNDS_TIME_LIMIT_SECONDS": 1,  # the planner searches until its limit: keep tests quick
            # Handoff signing keys of the test instance, never the instance folder's own.
            "FEDERATION_KEYS_DIR": str(tmp_path_factory.mktemp("federation-keys")),
        }
    )
    app.test_client_class = FreshUserClient
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
    yield app


@pytest.fixture
def db(app: Any) -> Iterator[Any]:
    """An empty database for each test, and an app context around it."""
    from sqlalchemy import text

    from can_crm.extensions import db as _db

    with app.app_context():
        yield _db
        # An in-process job still running must not land in the next test's empty database.
        app.extensions["can_queue"].wait()
        _db.session.rollback()
        # Every table the models define (new domains included), never a hand-kept list.
        tables = ", ".join(t.name for t in _db.metadata.sorted_tables)
        _db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        _db.session.commit()
        _db.session.remove()


@pytest.fixture
def client(app: Any, db: Any) -> Any:
    return app.test_client()


@pytest.fixture
def make_user(db: Any) -> Any:
    from can_crm import unit_of_work
    from can_crm.services.accounts import two_factor, users

    counter = iter(range(1, 10_000))

    def make(role: str = "coordinator", **kwargs: Any) -> Any:
        n = next(counter)
        user = users.create_user(
            kwargs.pop("email", f"{role}{n}@example.gov.uk"),
            kwargs.pop("name", f"Test {role.title()}"),
            role,
            PASSWORD,
            kwargs.pop("organisation", None),
            kwargs.pop("ward_code", None),
        )
        if kwargs.pop("two_factor", True):
            two_factor.enrol_known_secret(user, TOTP_SECRET)
        if kwargs.pop("privacy_officer", False):
            user.privacy_officer = True
        unit_of_work.commit()
        return user

    return make


@pytest.fixture
def login(client: Any) -> Any:
    def do(user: Any) -> Any:
        response = sign_in(client, user)
        assert response.status_code == 302, response.data[:500]
        assert "/auth/" not in response.headers["Location"], response.headers["Location"]
        return client

    return do


def postcode_in(index: Path, gss: str = "E09000013") -> str:
    from geo.directory import PostcodeDirectory

    directory = PostcodeDirectory.load(index)
    return next(pc for pc in sorted(directory) if directory.geocode(pc).authority_gss == gss)


@pytest.fixture
def hf_postcode(postcode_index: Path) -> str:
    """A postcode inside Hammersmith and Fulham from the generated directory."""
    return postcode_in(postcode_index)


@pytest.fixture
def resident_data(hf_postcode: str) -> dict[str, Any]:
    return {
        "name": "Margaret Okafor",
        "address_line1": "12 Fulham Palace Road",
        "postcode": hf_postcode,
        "phone": "07911 123456",
        "email": "",
        "preferred_channel": "phone",
        "language": "English",
        "shielding": True,
        "consent_given": True,
    }


@pytest.fixture
def make_request(db: Any, resident_data: dict[str, Any]) -> Any:
    from can_crm import unit_of_work
    from can_crm.models.enums import Channel
    from can_crm.services.requests import intake
    from can_crm.services.requests.events import Actor

    def make(actor: Any = None, channel: Channel = Channel.PHONE, **overrides: Any) -> Any:
        data = {"type": "shopping", "urgency": 2, "details": "Weekly shop"}
        data.update(overrides.pop("request", {}))
        resident = {**resident_data, **overrides.pop("resident", {})}
        created = intake.submit(data, actor or Actor(role="coordinator"), channel, resident_data=resident, **overrides)
        unit_of_work.commit()
        return created

    return make


@pytest.fixture
def headers(make_user: Any) -> dict[str, str]:
    """A coordinator's bearer token, as the API's callers send it."""
    from can_crm import unit_of_work
    from can_crm.services.accounts import users

    _, plain = users.issue_token(make_user("coordinator"), "test")
    unit_of_work.commit()
    return {"Authorization": f"Bearer {plain}"}


@pytest.fixture
def make_volunteer(db: Any, hf_postcode: str) -> Any:
    from can_crm import unit_of_work
    from can_crm.models.enums import VolunteerStatus
    from can_crm.services.volunteers import profiles as volunteers

    def make(**overrides: Any) -> Any:
        data = {
            "name": "Sam Volunteer",
            "phone": "07911 123457",
            "home_postcode": hf_postcode,
            "skills": ["shopping", "driving"],
            "max_km": "5",
            "capacity": "2",
            "dbs_level": "basic",
            "active": True,
        }
        data.update(overrides)
        status = VolunteerStatus(data.pop("status", "active"))
        volunteer = volunteers.create_volunteer(data, status=status)
        unit_of_work.commit()
        return volunteer

    return make
