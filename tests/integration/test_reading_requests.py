"""A page that only reads runs without a transaction (http.reading, unit_of_work.reads_only): no BEGIN and no
COMMIT, two round trips of the three or four its statements took. A write in it is refused, and the requests
around it keep their transactions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import pq
from sqlalchemy import func, select

from can_crm import unit_of_work
from can_crm.extensions import _Cursor
from can_crm.models.volunteer import Volunteer
from can_crm.services.volunteers import nearby
from can_crm.unit_of_work import WriteWhileReading
from tests.integration.volunteer_helpers import offer, volunteer_with_account

_IDLE = pq.TransactionStatus.IDLE
READING_PAGES = ("/volunteer/", "/volunteer/tasks", "/volunteer/nearby", "/volunteer/round")


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """What psycopg sends to PostgreSQL: each statement's first word, with the BEGIN psycopg sends before the first
    statement of a transaction, and the COMMIT or ROLLBACK that ends one (none when there is none to end)."""
    log: list[str] = []
    execute, commit, rollback = _Cursor.execute, psycopg.Connection.commit, psycopg.Connection.rollback

    def recording_execute(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        conn = self.connection
        if not conn.autocommit and conn.pgconn.transaction_status == _IDLE:
            log.append("BEGIN")
        log.append(str(query).split(None, 1)[0].upper())
        return execute(self, query, *args, **kwargs)

    def ending(method: Any, word: str) -> Any:
        def end(self: Any) -> None:
            if self.pgconn.transaction_status != _IDLE:
                log.append(word)
            method(self)

        return end

    monkeypatch.setattr(_Cursor, "execute", recording_execute)
    monkeypatch.setattr(psycopg.Connection, "commit", ending(commit, "COMMIT"))
    monkeypatch.setattr(psycopg.Connection, "rollback", ending(rollback, "ROLLBACK"))
    yield log


def test_the_volunteers_pages_read_without_a_transaction_and_a_post_keeps_its_own(
    client: Any, db: Any, make_user: Any, make_volunteer: Any, make_request: Any, login: Any, sent: list[str]
) -> None:
    user, volunteer = volunteer_with_account(make_user, make_volunteer)
    first = offer(make_request, volunteer)
    offer(make_request, volunteer)
    nearby.set_open_types(["shopping"], None)
    unit_of_work.commit()
    login(user)
    assert client.post(f"/volunteer/offers/{first.reference}/accept").status_code == 302
    for url in READING_PAGES:
        sent.clear()
        response = client.get(url)
        assert response.status_code == 200, url
        assert sent and set(sent) == {"SELECT"}, (url, sent)
    assert first.reference in client.get("/volunteer/tasks").get_data(as_text=True)
    # Nearby: the account with its profile, then the page's one statement.
    sent.clear()
    client.get("/volunteer/nearby")
    assert sent == ["SELECT", "SELECT"]
    # A post after them is one transaction, as every request that writes.
    sent.clear()
    assert client.post("/volunteer/tasks/" + first.reference + "/ok").status_code == 302
    assert sent[0] == "BEGIN" and sent[-1] == "COMMIT" and sent.count("BEGIN") == 1, sent


def test_an_account_without_a_profile_is_sent_to_the_profile_page_which_makes_one(
    client: Any, db: Any, make_user: Any, login: Any
) -> None:
    user = make_user("volunteer")  # made as staff accounts are: no volunteer profile
    login(user)

    def profiles() -> int:
        count = db.session.scalar(select(func.count()).select_from(Volunteer).where(Volunteer.user_id == user.id))
        unit_of_work.rollback()
        return int(count or 0)

    for url in READING_PAGES:
        response = client.get(url)
        assert response.status_code == 302 and response.headers["Location"] == "/volunteer/profile", url
    assert profiles() == 0
    page = client.get("/volunteer/profile", follow_redirects=True)
    assert page.status_code == 200 and profiles() == 1
    for url in READING_PAGES:
        assert client.get(url).status_code == 200, url


def test_a_write_while_reading_is_refused_and_writes_nothing(db: Any, make_user: Any) -> None:
    user = make_user("volunteer")
    unit_of_work.reads_only()
    raw = db.session.connection().connection.dbapi_connection
    assert raw.autocommit
    db.session.add(Volunteer(user_id=user.id, name="N", email="n@example.org", home_postcode="", status="pending"))
    with pytest.raises(WriteWhileReading):
        db.session.flush()
    with pytest.raises(WriteWhileReading), unit_of_work.savepoint():
        pass
    unit_of_work.rollback()
    assert db.session.scalar(select(func.count()).select_from(Volunteer)) == 0
    # The connection went back to the pool as every other: the next work is in a transaction again.
    assert not db.session.connection().connection.dbapi_connection.autocommit
    db.session.add(Volunteer(user_id=user.id, name="N", email="n@example.org", home_postcode="", status="pending"))
    unit_of_work.commit()
    assert db.session.scalar(select(func.count()).select_from(Volunteer)) == 1
