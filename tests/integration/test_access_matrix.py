"""The access matrix: every object route × every role × their own object and someone else's."""

from __future__ import annotations

from typing import Any

import pytest

from can_crm import unit_of_work
from can_crm.models.enums import Channel
from can_crm.models.rounds import RoundPlan
from can_crm.services.common import times
from can_crm.services.requests.events import Actor
from tests.conftest import postcode_in

ROLES = ("anonymous", "admin", "coordinator", "partner", "councillor", "volunteer")
# (url template, {role: (status for own object, status for other object)}); "own" means raised by the
# partner / in the councillor's ward / offered to the volunteer.
MATRIX = [
    (
        "/coordinator/requests/{ref}",
        {
            "anonymous": (302, 302),
            "admin": (403, 403),
            "coordinator": (200, 200),
            "partner": (403, 403),
            "councillor": (403, 403),
            "volunteer": (403, 403),
        },
    ),
    (
        "/partner/requests/{ref}",
        {
            "anonymous": (302, 302),
            "admin": (403, 403),
            "coordinator": (403, 403),
            "partner": (200, 404),
            "councillor": (200, 404),
            "volunteer": (403, 403),
        },
    ),
    (
        "/coordinator/requests/{ref}/concern",
        {
            "anonymous": (302, 302),
            "admin": (404, 404),
            "coordinator": (200, 200),
            "partner": (200, 404),
            "councillor": (200, 404),
            "volunteer": (200, 404),
        },
    ),
    (
        "/api/v1/requests/{ref}",
        {
            "anonymous": (401, 401),
            "admin": (403, 403),
            "coordinator": (200, 200),
            "partner": (200, 404),
            "councillor": (200, 404),
            "volunteer": (403, 403),
        },
    ),
    (
        "/api/v1/residents/{resident}",
        {
            "anonymous": (401, 401),
            "admin": (403, 403),
            "coordinator": (200, 200),
            "partner": (403, 403),
            "councillor": (403, 403),
            "volunteer": (403, 403),
        },
    ),
    *[
        (
            url,
            {
                "anonymous": (302, 302),
                "admin": (403, 403),
                "coordinator": (200, 200),
                "partner": (403, 403),
                "councillor": (403, 403),
                "volunteer": (403, 403),
            },
        )
        for url in ("/coordinator/rounds", "/coordinator/rounds/{plan}")
    ],
    (
        "/coordinator/volunteers/{volunteer}",
        {
            "anonymous": (302, 302),
            "admin": (403, 403),
            "coordinator": (200, 200),
            "partner": (403, 403),
            "councillor": (403, 403),
            "volunteer": (403, 403),
        },
    ),
    (
        "/api/v1/volunteers/{volunteer}",
        {
            "anonymous": (401, 401),
            "admin": (403, 403),
            "coordinator": (200, 200),
            "partner": (403, 403),
            "councillor": (403, 403),
            "volunteer": (403, 403),
        },
    ),
    # The volunteer's own screens and API: theirs only (no object in the URL; the content is tested elsewhere).
    *[
        (
            url,
            {
                "anonymous": (anonymous, anonymous),
                "admin": (403, 403),
                "coordinator": (403, 403),
                "partner": (403, 403),
                "councillor": (403, 403),
                "volunteer": (200, 200),
            },
        )
        for url, anonymous in (
            ("/volunteer/", 302),
            ("/volunteer/tasks", 302),
            ("/volunteer/nearby", 302),
            ("/volunteer/round", 302),
            ("/volunteer/profile", 302),
            ("/api/v1/me/offers", 401),
            ("/api/v1/me/tasks", 401),
            ("/api/v1/me/nearby", 401),
        )
    ],
    # A partner organisation's own volunteers (the list holds only its own people: tested in
    # test_partner_volunteers.py); partner accounts alone, councillors are not organisations.
    *[
        (
            url,
            {
                "anonymous": (anonymous, anonymous),
                "admin": (403, 403),
                "coordinator": (403, 403),
                "partner": (200, 200),
                "councillor": (403, 403),
                "volunteer": (403, 403),
            },
        )
        for url, anonymous in (
            ("/partner/volunteers", 302),
            ("/partner/volunteers/new", 302),
            ("/partner/volunteers/upload", 302),
            ("/partner/volunteers/template.csv", 302),
            ("/api/v1/organisation/volunteers", 401),
        )
    ],
    (
        "/admin/users/{user}",
        {
            "anonymous": (302, 302),
            "admin": (200, 200),
            "coordinator": (403, 403),
            "partner": (403, 403),
            "councillor": (403, 403),
            "volunteer": (403, 403),
        },
    ),
    (
        "/jobs/{job}",
        {
            "anonymous": (302, 302),
            "admin": (200, 404),
            "coordinator": (200, 404),
            "partner": (200, 404),
            "councillor": (200, 404),
            "volunteer": (200, 404),
        },
    ),
]


@pytest.fixture
def world(db: Any, make_user: Any, make_request: Any, make_volunteer: Any, postcode_index: Any) -> dict[str, Any]:
    from can_crm.services.common import jobs
    from can_crm.services.requests import operations as requests
    from geo.directory import PostcodeDirectory

    hf = postcode_in(postcode_index, "E09000013")
    kc = postcode_in(postcode_index, "E09000020")
    ward = PostcodeDirectory.load(postcode_index).geocode(hf).ward_gss
    users = {
        "admin": make_user("admin"),
        "coordinator": make_user("coordinator"),
        "partner": make_user("partner", organisation="Fulham Mutual Aid"),
        "councillor": make_user("councillor", ward_code=ward),
        "volunteer": make_user("volunteer"),
    }
    other_partner = make_user("partner")
    own = make_request(
        actor=Actor(role="partner", user_id=users["partner"].id), channel=Channel.PARTNER, resident={"postcode": hf}
    )
    other = make_request(
        actor=Actor(role="partner", user_id=other_partner.id),
        channel=Channel.PARTNER,
        resident={"postcode": kc, "name": "Other Person"},
    )
    volunteer = make_volunteer(name="Own Volunteer")
    volunteer.user_id = users["volunteer"].id
    coordinator = Actor(role="coordinator", user_id=users["coordinator"].id)
    requests.triage(own, {}, coordinator)
    requests.assign_volunteer(own, volunteer.id, coordinator)
    other_volunteer = make_volunteer(name="Other Volunteer")
    own_jobs = {role: jobs.start_job("selftest", {"steps": 1}, user.id) for role, user in users.items()}
    other_job = jobs.start_job("selftest", {"steps": 1}, other_partner.id)
    plan = RoundPlan(
        created_by_id=users["coordinator"].id,
        day=times.today(),
        state="draft",
        hub_name="Hub",
        hub_lat=51.49,
        hub_lon=-0.22,
        window_start_min=540,
        window_end_min=1020,
        service_min=5,
        speed_kmh=20.0,
        road_factor=1.3,
        time_limit_s=1,
        total_km=0.0,
        served_by_urgency={},
    )
    db.session.add(plan)
    unit_of_work.commit()
    return {
        "users": users,
        "own": own,
        "other": other,
        "volunteers": (volunteer, other_volunteer),
        "admin_target": (users["coordinator"], other_partner),
        "jobs": (own_jobs, other_job),
        "plan": plan,
    }


def _url(template: str, world: dict[str, Any], role: str, own: bool) -> str:
    request = world["own"] if own else world["other"]
    volunteer = world["volunteers"][0 if own else 1]
    user = world["admin_target"][0 if own else 1]
    own_jobs, other_job = world["jobs"]
    job = own_jobs.get(role, other_job) if own else other_job
    return template.format(
        ref=request.reference,
        resident=request.resident_id,
        volunteer=volunteer.id,
        user=user.id,
        job=job.id,
        plan=world["plan"].id,
    )


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(app: Any, world: dict[str, Any], login: Any, role: str) -> None:
    client = app.test_client()
    if role != "anonymous":
        from tests.conftest import sign_in

        user = world["users"][role]
        assert sign_in(client, user).status_code == 302
    failures = []
    for template, expected in MATRIX:
        for own, want in zip((True, False), expected[role], strict=True):
            url = _url(template, world, role, own)
            got = client.get(url).status_code
            if got != want:
                failures.append(f"{role} {'own' if own else 'other'} {template}: got {got}, expected {want}")
    assert not failures, "\n".join(failures)
