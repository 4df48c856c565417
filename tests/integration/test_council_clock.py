"""The council's clock (TIMEZONE, Europe/London by default). Moments are stored in UTC, but people live in London:
from late March to late October midnight there is 23:00 UTC. So "today" starts at the council's midnight (a
volunteer's most tasks a day, availability, due dates), pages show the council's times, and a time someone types
without a zone is the council's. Each test here fails when the app counts UTC days or shows UTC times."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from can_crm import unit_of_work
from can_crm.config import ConfigError, load_config
from can_crm.models.tracing import Interaction
from can_crm.services.common import times
from can_crm.services.requests import events
from can_crm.services.requests.events import Actor
from can_crm.services.volunteers import nearby, workload
from tests.integration.matching_helpers import triaged
from tests.integration.tracing_helpers import make_tracer, resident

SUMMER_NIGHT = datetime(2026, 6, 10, 23, 30, tzinfo=UTC)  # 00:30 on 11 June in London (BST, UTC+1)
WINTER_NIGHT = datetime(2026, 12, 10, 23, 30, tzinfo=UTC)  # 23:30 on 10 December in London (GMT)


def test_the_councils_date_and_midnight(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with app.app_context():
        assert times.today(SUMMER_NIGHT) == date(2026, 6, 11)
        assert times.today(WINTER_NIGHT) == date(2026, 12, 10)
        assert times.local_dates([SUMMER_NIGHT, WINTER_NIGHT]) == [date(2026, 6, 11), date(2026, 12, 10)]
        assert times.day_start(date(2026, 6, 11)) == datetime(2026, 6, 10, 23, 0, tzinfo=UTC)
        assert times.day_start(date(2026, 12, 10)) == datetime(2026, 12, 10, 0, 0, tzinfo=UTC)
        assert times.day_bounds(date(2026, 6, 1), date(2026, 6, 30)) == (
            datetime(2026, 5, 31, 23, 0, tzinfo=UTC),
            datetime(2026, 6, 30, 23, 0, tzinfo=UTC),
        )
        assert times.when(datetime(2026, 6, 10, 13, 5, tzinfo=UTC), "%-d %B %Y at %H:%M") == "10 June 2026 at 14:05"
        assert times.when(datetime(2026, 12, 10, 13, 5, tzinfo=UTC), "%H:%M %Z") == "13:05 GMT"
        assert times.when(date(2026, 6, 10), "%-d %B") == "10 June"  # a calendar date is shown as it is
        assert times.when(None, "%H:%M") == ""
        with app.test_request_context("/?lang=pl"):  # written out in the page's language, on the same clock
            assert times.long_date(SUMMER_NIGHT) == "11 czerwca 2026" and times.long_date(None) == ""
        assert times.from_wall_clock(datetime(2026, 6, 10, 14, 30)) == datetime(2026, 6, 10, 13, 30, tzinfo=UTC)
        given = datetime(2026, 6, 10, 14, 30, tzinfo=UTC)
        assert times.from_wall_clock(given) is given  # a time with its zone stays as given
        monkeypatch.setattr(times, "utcnow", lambda: SUMMER_NIGHT)
        assert times.today() == date(2026, 6, 11)
        # Another council's clock: the setting, not a constant.
        monkeypatch.setitem(app.config, "TIMEZONE", "America/New_York")
        assert times.today() == date(2026, 6, 10)


def test_a_time_zone_that_does_not_exist_stops_the_start_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "secret_key").write_text("k" * 64)
    monkeypatch.delenv("TIMEZONE", raising=False)
    assert load_config(tmp_path, "development").TIMEZONE == "Europe/London"
    monkeypatch.setenv("TIMEZONE", "Europe/Paris")
    assert load_config(tmp_path, "development").TIMEZONE == "Europe/Paris"
    for wrong in ("Europe/Londres", "../etc/passwd", "GMT+1 "):
        monkeypatch.setenv("TIMEZONE", wrong)
        with pytest.raises(ConfigError, match="TIMEZONE must be a time zone name such as Europe/London"):
            load_config(tmp_path, "development")


def test_a_request_page_shows_its_history_on_the_councils_clock(
    client: Any, make_user: Any, login: Any, make_request: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events, "utcnow", lambda: datetime(2026, 6, 10, 13, 5, tzinfo=UTC))  # received then
    req = make_request()
    monkeypatch.undo()
    login(make_user("coordinator"))
    page = client.get(f"/coordinator/requests/{req.reference}").get_data(as_text=True)
    assert "Request received" in page and "10 June 2026 at 14:05" in page
    assert "13:05" not in page


def test_the_most_tasks_a_day_count_from_the_councils_midnight(
    db: Any, make_volunteer: Any, make_request: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    early, late = (make_volunteer(name=name, capacity="3", max_per_day="1") for name in ("Early Bird", "Night Owl"))
    nearby.set_open_types(["shopping"], None)
    unit_of_work.commit()
    # Each claims one request: the early bird at 00:10 on 11 June in London, the night owl at 23:50 on 10 June.
    for volunteer, moment in (
        (early, datetime(2026, 6, 10, 23, 10, tzinfo=UTC)),
        (late, datetime(2026, 6, 10, 22, 50, tzinfo=UTC)),
    ):
        req = triaged(make_request)
        monkeypatch.setattr(events, "utcnow", lambda moment=moment: moment)
        nearby.claim(volunteer, req.reference, Actor(role="volunteer", volunteer_id=volunteer.id))
        unit_of_work.commit()
    monkeypatch.setattr(times, "utcnow", lambda: SUMMER_NIGHT)  # now: 00:30 on 11 June in London
    loads = workload.loads([early, late])
    assert loads[early.id].accepted_today == 1 and loads[early.id].room(early) == 0  # today's one task taken
    assert loads[late.id].accepted_today == 0 and loads[late.id].room(late) == 1  # that was yesterday


def test_a_time_typed_without_a_zone_is_the_councils(db: Any, client: Any, make_user: Any, login: Any) -> None:
    a, b = resident("Ann Example"), resident("Bea Example")
    unit_of_work.commit()
    login(make_tracer(make_user))
    today = times.today()
    summer = date(today.year if today >= date(today.year, 7, 2) else today.year - 1, 7, 1)  # within the last year
    body = {
        "person_a": {"resident_id": a.id},
        "person_b": {"resident_id": b.id},
        "occurred_at": f"{summer.isoformat()}T14:30",
        "duration_minutes": 20,
        "setting": "inside",
        "kind": "other",
    }
    response = client.post("/api/v1/interactions", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert response.status_code == 201, response.get_json()
    stored = db.session.get(Interaction, response.get_json()["id"])
    assert stored.occurred_at == datetime.combine(summer, datetime.min.time(), UTC).replace(hour=13, minute=30)
