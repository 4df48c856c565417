"""Canary test: unique values planted in every personal field, the main flows driven (searches included),
then the logs (caplog and the app's log file), every URL and redirect, the job rows and Redis (keys and
values) are searched for them. None may appear: personal data travels in bodies and the database only."""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from sqlalchemy import text

from can_crm import unit_of_work
from can_crm.services.accounts import users
from can_crm.services.volunteers import profiles as volunteers
from tests.conftest import REDIS_URL, sign_in

CANARY_REDIS = REDIS_URL.rsplit("/", 1)[0] + "/14"


def _nhs_number() -> str:
    """A random NHS number with a valid check digit."""
    while True:
        digits = [secrets.randbelow(10) for _ in range(9)]
        check = 11 - sum(d * w for d, w in zip(digits, range(10, 1, -1), strict=True)) % 11
        check = 0 if check == 11 else check
        if check != 10:
            return "".join(map(str, digits)) + str(check)


@pytest.fixture
def canaries() -> dict[str, str]:
    # Letters only: names refuse digits.
    tag = "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(8))
    return {
        "name": f"Canaryname Q{tag}",
        "address": f"{secrets.randbelow(90) + 10} Canarystreet{tag} Road",
        "phone_digits": f"7911123{secrets.randbelow(900) + 100}",
        "email": f"canary{tag}@example.org",
        "details": f"Canarydetails {tag} needs insulin",
        "accessibility": f"Canaryaccess {tag}",
        "vulnerabilities": f"Canaryvuln {tag}",
        "nhs": _nhs_number(),
        "notes": f"Canarynotes {tag}",
        "volunteer": f"Canaryvol V{tag}",
        "volunteer_email": f"canaryvol{tag}@example.org",
    }


@pytest.fixture
def canary_app(app: Any, database_url: str, postcode_index: Path, tmp_path: Path) -> Iterator[Any]:
    """The app with Redis (its own database number) and a log file, on the shared test database."""
    from can_crm import create_app

    redis = Redis.from_url(CANARY_REDIS)
    redis.flushdb()
    log_file = tmp_path / "app.log"
    handler = logging.FileHandler(log_file)
    handler.setLevel(logging.DEBUG)
    logging.getLogger().addHandler(handler)
    canary = create_app(
        {
            "CAN_ENV": "test",
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url.replace("postgresql://", "postgresql+psycopg://"),
            "WTF_CSRF_ENABLED": False,
            "REDIS_URL": CANARY_REDIS,
            "RQ_QUEUE": f"canary-{secrets.token_hex(3)}",
            "POSTCODE_INDEX": str(postcode_index),
            "LOG_FILE": str(log_file),
        }
    )
    canary.test_client_class = app.test_client_class
    yield canary
    logging.getLogger().removeHandler(handler)
    handler.close()
    redis.flushdb()


def web_page(app: Any, user: Any, url: str) -> Any:
    client = app.test_client()
    assert sign_in(client, user).status_code == 302
    return client.get(url)


class Visits:
    """Every URL asked for and every Location answered: what an access log would hold."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def add(self, url: str, response: Any) -> Any:
        self.urls.append(url)
        if response.headers.get("Location"):
            self.urls.append(response.headers["Location"])
        if response.mimetype == "text/html":
            self.urls.extend(re.findall(r'href="([^"]+)"', response.get_data(as_text=True)))
        if response.is_json and isinstance(response.get_json(), dict):
            self.urls.extend(str(v) for v in (response.get_json().get("links") or {}).values())
        return response


def test_personal_data_never_reaches_logs_urls_job_rows_or_redis(
    canary_app: Any,
    db: Any,
    make_user: Any,
    canaries: dict[str, str],
    hf_postcode: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    visits = Visits()
    coordinator = make_user("coordinator", privacy_officer=True)
    _, plain = users.issue_token(coordinator, "canary")
    unit_of_work.commit()
    headers = {"Authorization": f"Bearer {plain}"}
    api = canary_app.test_client()
    resident = {
        "name": canaries["name"],
        "address": canaries["address"],
        "postcode": hf_postcode,
        "phone": "0" + canaries["phone_digits"],
        "email": canaries["email"],
        "preferred_channel": "phone",
        "accessibility_needs": canaries["accessibility"],
        "vulnerabilities": canaries["vulnerabilities"],
        "nhs_number": canaries["nhs"],
    }
    created = visits.add(
        "/api/v1/requests",
        api.post(
            "/api/v1/requests",
            json={"resident": resident, "type": "shopping", "urgency": 3, "details": canaries["details"]},
            headers=headers,
        ),
    )
    assert created.status_code == 201, created.get_json()
    reference = created.get_json()["reference"]
    resident_id = created.get_json()["resident"]["id"]

    # The resident's own form on the public pages.
    public = canary_app.test_client()
    form = {
        "type": "prescription",
        "details": canaries["details"],
        "name": canaries["name"] + " Two",
        "address_line1": canaries["address"],
        "postcode": hf_postcode,
        "phone": "0" + canaries["phone_digits"],
        "email": canaries["email"],
        "preferred_channel": "phone",
        "shielding": "yes",
        "consent_given": "y",
    }
    sent = visits.add("/request-help/form", public.post("/request-help/form", data=form))
    assert sent.status_code == 302, sent.get_data(as_text=True)[:3000]

    # A volunteer with canary details.
    volunteer = {
        "name": canaries["volunteer"],
        "phone": "07911 123459",
        "email": canaries["volunteer_email"],
        "home_postcode": hf_postcode,
        "skills": ["shopping"],
        "max_km": "5",
        "capacity": "2",
        "dbs_level": "basic",
    }
    volunteers.create_volunteer({**volunteer, "active": True})
    unit_of_work.commit()
    visits.add("/coordinator/volunteers", web_page(canary_app, coordinator, "/coordinator/volunteers"))

    # A coordinator in the browser: queue, search by name and by postcode, the request, privacy page.
    web = canary_app.test_client()
    assert sign_in(web, coordinator).status_code == 302
    for term in (canaries["name"], hf_postcode, canaries["email"]):
        found = visits.add("/coordinator/", web.post("/coordinator/", data={"q": term, "status": "all"}))
        page = visits.add(found.headers["Location"], web.get(found.headers["Location"]))
        # The queue searches reference, name and postcode (an email finds nothing, but is still typed in).
        assert (reference in page.get_data(as_text=True)) == (term != canaries["email"])
    visits.add("/coordinator/", web.get("/coordinator/"))
    visits.add(f"/coordinator/requests/{reference}", web.get(f"/coordinator/requests/{reference}"))
    visits.add(
        f"/coordinator/privacy/residents/{resident_id}", web.get(f"/coordinator/privacy/residents/{resident_id}")
    )
    notes = {"coordinator_notes": canaries["notes"], "urgency": "3", "min_dbs": "none"}
    visits.add(
        f"/coordinator/requests/{reference}/triage",
        web.post(f"/coordinator/requests/{reference}/triage", data=notes),
    )

    # The API: saved searches, reads, a matching run (a job), subject access.
    saved = visits.add(
        "/api/v1/searches",
        api.post("/api/v1/searches", json={"scope": "requests", "q": canaries["name"]}, headers=headers),
    )
    key = saved.get_json()["search"]
    listed = visits.add(f"/api/v1/requests?search={key}", api.get(f"/api/v1/requests?search={key}", headers=headers))
    assert listed.get_json()["total"] >= 1
    visits.add(f"/api/v1/residents/{resident_id}", api.get(f"/api/v1/residents/{resident_id}", headers=headers))
    run = visits.add("/api/v1/matching/runs", api.post("/api/v1/matching/runs", json={}, headers=headers))
    assert run.status_code in (201, 202), run.get_json()
    exported = visits.add(
        f"/api/v1/residents/{resident_id}/subject-access",
        api.get(f"/api/v1/residents/{resident_id}/subject-access", headers=headers),
    )
    assert canaries["name"] in exported.get_data(as_text=True)  # the canaries really were planted

    # Nothing personal outside the bodies and the database tables that hold it.
    planted = [v for k, v in canaries.items() if k != "phone_digits"] + [canaries["phone_digits"]]
    log_text = caplog.text + Path(canary_app.config["LOG_FILE"]).read_text()
    urls = "\n".join(visits.urls)
    jobs = "\n".join(str(tuple(row)) for row in db.session.execute(text("SELECT * FROM jobs")))
    redis = Redis.from_url(CANARY_REDIS)
    redis_dump = []
    for redis_key in redis.scan_iter("*"):
        redis_dump.append(redis_key.decode(errors="replace"))
        kind = redis.type(redis_key).decode()
        if kind == "string":
            redis_dump.append(str(redis.get(redis_key)))
        elif kind == "hash":
            redis_dump.append(str(redis.hgetall(redis_key)))
        elif kind == "list":
            redis_dump.append(str(redis.lrange(redis_key, 0, -1)))
        elif kind == "zset":
            redis_dump.append(str(redis.zrange(redis_key, 0, -1)))
        elif kind == "set":
            redis_dump.append(str(redis.smembers(redis_key)))
    assert jobs, "the matching run should have left a job row"
    assert redis_dump, "the job should have been enqueued in Redis"
    places = {"logs": log_text, "URLs": urls, "job rows": jobs, "Redis": "\n".join(redis_dump)}
    leaks = [
        f"{where}: {value!r}"
        for where, haystack in places.items()
        for value in planted
        if value.lower() in haystack.lower()
    ]
    postcode_in_urls = hf_postcode.replace(" ", "").lower() in urls.replace("+", "").replace("%20", "").lower()
    assert not leaks and not postcode_in_urls, leaks
