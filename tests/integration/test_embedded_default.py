"""The embedded default that `make run` serves: SQLite and in-process jobs, built by the same migrations,
walked through the end-to-end flows a pilot council would use."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from tests.conftest import PASSWORD, ROOT, FreshUserClient, postcode_in, sign_in

pytestmark = pytest.mark.sqlite


@pytest.fixture(scope="module")
def sqlite_app(tmp_path_factory: pytest.TempPathFactory, postcode_index: Path) -> Iterator[Any]:
    from flask_migrate import upgrade

    from can_crm import create_app

    folder = tmp_path_factory.mktemp("embedded")
    app = create_app(
        {
            "CAN_ENV": "test",
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'can_crm.sqlite'}",
            "SQLALCHEMY_ENGINE_OPTIONS": {},
            "WTF_CSRF_ENABLED": False,
            "REDIS_URL": None,
            "POSTCODE_INDEX": str(postcode_index),
            "HEATMAP_CACHE_DIR": str(folder / "heatmaps"),
        }
    )
    app.test_client_class = FreshUserClient
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        yield app


def test_embedded_default_runs_the_lifecycle_end_to_end(sqlite_app: Any, postcode_index: Path) -> None:
    from can_crm import unit_of_work
    from can_crm.extensions import db
    from can_crm.models.enums import VolunteerStatus
    from can_crm.models.request import HelpRequest
    from can_crm.services.accounts import users
    from can_crm.services.common import jobs
    from can_crm.services.volunteers import profiles as volunteers

    hf = postcode_in(postcode_index)
    assert sqlite_app.extensions["can_queue"].backend == "in-process"
    coordinator = users.create_user("coord@example.gov.uk", "Casey Coord", "coordinator", PASSWORD)
    volunteer = volunteers.create_volunteer(
        {
            "name": "Val Helper",
            "home_postcode": hf,
            "skills": ["shopping"],
            "max_km": "5",
            "capacity": "1",
            "dbs_level": "basic",
            "active": True,
        },
        status=VolunteerStatus.ACTIVE,
    )
    unit_of_work.commit()

    resident = sqlite_app.test_client()
    assert resident.get("/healthz").get_json()["status"] == "ok"
    response = resident.post(
        "/request-help/form",
        data={
            "type": "shopping",
            "details": "Weekly shop",
            "name": "Edna Price",
            "address_line1": "1 King Street",
            "postcode": hf,
            "phone": "020 7946 0000",
            "preferred_channel": "phone",
            "shielding": "yes",
            "consent_given": "y",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    page = resident.get(response.headers["Location"]).get_data(as_text=True)
    reference = re.search(r"CAN-[A-Z0-9]{4}-[A-Z0-9]{4}", page).group(0)

    staff = sqlite_app.test_client()
    assert sign_in(staff, coordinator).status_code == 302
    assert reference in staff.get("/coordinator/").get_data(as_text=True)
    triaged = staff.post(f"/coordinator/requests/{reference}/triage", data={"urgency": "3", "min_dbs": "none"})
    assert triaged.status_code in (200, 302)
    # The drop-down of volunteers nearest the resident, by SQLite's flat-earth ordering.
    page = staff.get(f"/coordinator/requests/{reference}").get_data(as_text=True)
    assert re.search(rf'<option value="{volunteer.id}"[^>]*>[^<]*km', page), page[-3000:]
    assigned = staff.post(f"/coordinator/requests/{reference}/assign", data={"volunteer_id": str(volunteer.id)})
    assert assigned.status_code in (200, 302)
    for to in ("accepted", "in_progress", "delivered", "closed"):
        moved = staff.post(f"/coordinator/requests/{reference}/transition", data={"to": to, "reason": ""})
        assert moved.status_code in (200, 302), (to, moved.get_data(as_text=True)[:500])
    request = db.session.scalar(select(HelpRequest).where(HelpRequest.reference == reference))
    db.session.refresh(request)
    assert request.status == "closed"

    job = jobs.start_job("selftest", {"steps": 2}, coordinator.id)
    unit_of_work.commit()
    sqlite_app.extensions["can_queue"].wait()
    status = staff.get(f"/jobs/{job.id}.json").get_json()
    assert status["state"] == "succeeded"


def test_embedded_default_lists_nearby_by_cell_and_lets_a_volunteer_claim(
    sqlite_app: Any, postcode_index: Path, resident_data: dict[str, Any]
) -> None:
    """Nearby on SQLite: the same query (cells as a plain IN), the requests' location copy, and the claim."""
    from can_crm import unit_of_work
    from can_crm.extensions import db
    from can_crm.models.enums import Channel, VolunteerStatus
    from can_crm.models.request import HelpRequest
    from can_crm.services.requests import intake, operations
    from can_crm.services.requests.events import Actor
    from can_crm.services.volunteers import nearby
    from can_crm.services.volunteers import profiles as volunteers

    hf = postcode_in(postcode_index)
    coordinator = Actor(role="coordinator")
    helper = volunteers.create_volunteer(
        {"name": "Nia Nearby", "home_postcode": hf, "skills": ["shopping"], "max_km": "5", "capacity": "2",
         "dbs_level": "basic", "active": True},
        status=VolunteerStatus.ACTIVE,
    )  # fmt: skip
    made = intake.submit(
        {"type": "shopping"}, coordinator, Channel.PHONE, resident_data={**resident_data, "postcode": hf}
    )
    operations.triage(made, {}, coordinator)
    nearby.set_open_types(["shopping"], None)
    unit_of_work.commit()
    sqlite_app.extensions["can_queue"].wait()  # the in-process jobs intake started (messages) write too
    assert made.h3_map is not None and made.h3_map in nearby.search_cells(helper)
    # SQLite reaches the pool by cell and keeps its index for that (PostgreSQL has none: migration 0024).
    assert db.session.scalar(text("SELECT name FROM sqlite_master WHERE name = 'ix_requests_pool_cell'"))
    assert [o.reference for o in nearby.list_nearby(helper)] == [made.reference]
    assert nearby.shown(helper) == (None, nearby.list_nearby(helper))  # the page's statement, with the load
    nearby.claim(helper, made.reference, Actor("volunteer", None, helper.id))
    unit_of_work.commit()
    claimed = db.session.get(HelpRequest, made.id)
    assert (claimed.status, claimed.volunteer_id) == ("accepted", helper.id)
    assert nearby.list_nearby(helper) == [] and nearby.shown(helper) == (None, [])
    helper.capacity = 1
    unit_of_work.commit()
    full, offers = nearby.shown(helper)
    assert full is not None and "at once" in full and offers == []
