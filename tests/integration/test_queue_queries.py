"""The coordinator queue issues the same number of SQL queries whatever the page size (no N+1)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import event

from can_crm import unit_of_work
from can_crm.models.base import utcnow
from can_crm.services.requests import operations as requests
from can_crm.services.requests.events import Actor


@contextmanager
def count_queries(engine: Any) -> Iterator[list[str]]:
    statements: list[str] = []

    def listener(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def test_queue_page_query_count_does_not_grow_with_page_size(
    client: Any, db: Any, make_user: Any, login: Any, make_request: Any, make_volunteer: Any
) -> None:
    coordinator = make_user("coordinator")
    volunteers = [make_volunteer(name=f"Helper {chr(65 + n)}", capacity="20") for n in range(3)]
    coord = Actor(role="coordinator", user_id=coordinator.id)
    for n in range(60):
        req = make_request(resident={"name": f"Resident {chr(65 + n % 26)}"})
        if n % 2:
            requests.triage(req, {}, coord)
            requests.assign_volunteer(req, volunteers[n % 3].id, coord)
            unit_of_work.commit()
    login(coordinator)

    counts = {}
    for size in (5, 50):
        with count_queries(db.engine) as statements:
            response = client.get(f"/coordinator/?per_page={size}")
        assert response.status_code == 200
        assert response.get_data(as_text=True).count('href="/coordinator/requests/CAN-') == size
        counts[size] = len(statements)
    assert counts[5] == counts[50], counts


def test_queue_query_count_is_the_same_with_filters_and_search(
    client: Any, db: Any, make_user: Any, login: Any, make_request: Any
) -> None:
    coordinator = make_user("coordinator")
    for n in range(12):
        make_request(resident={"name": f"Person {chr(65 + n)}"})
    login(coordinator)
    counts = []
    for size in (2, 10):
        form = {"per_page": str(size), "q": "person", "type": "shopping", "urgency": "2"}
        url = client.post("/coordinator/", data=form).headers["Location"]
        with count_queries(db.engine) as statements:
            assert client.get(url).status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_queue_page_shows_its_columns_and_reads_none_of_the_residents_other_details(
    client: Any, db: Any, make_user: Any, login: Any, make_request: Any, make_volunteer: Any, resident_data: Any
) -> None:
    coordinator = make_user("coordinator")
    helper = make_volunteer(name="Helper Zed")
    coord = Actor(role="coordinator", user_id=coordinator.id)
    assigned = make_request(resident={"name": "Resident Assigned"})
    requests.triage(assigned, {}, coord)
    requests.assign_volunteer(assigned, helper.id, coord)
    waiting = make_request(resident={"name": "Resident Waiting"})
    waiting.sla_due_at = utcnow() - timedelta(hours=1)  # past its deadline
    unit_of_work.commit()
    references = (assigned.reference, waiting.reference)
    district = resident_data["postcode"].split(" ")[0]
    login(coordinator)
    with count_queries(db.engine) as statements:
        page = client.get("/coordinator/").get_data(as_text=True)
    rows = {ref: line for ref in references for line in page.split("<tr") if f">{ref}</a>" in line}
    assert "Helper Zed" in rows[references[0]] and "None yet" in rows[references[1]]
    assert all(f'href="/coordinator/requests/{ref}"' in rows[ref] for ref in references)
    assert all(f">{district}" in row for row in rows.values())
    assert "Overdue" not in rows[references[0]] and "app-row--overdue" not in rows[references[0]]
    assert "app-row--overdue" in rows[references[1]] and ">Overdue</strong>" in rows[references[1]]
    assert "was due" in rows[references[1]]
    assert "Resident Assigned" not in page and "Resident Waiting" not in page  # the queue names nobody
    read = " ".join(statements)
    for column in ("nhs_number", "vulnerabilities", "date_of_birth", "address_line1", "accessibility_needs"):
        assert column not in read, column  # the page's queries read only what it shows


def test_a_status_filter_is_walked_in_the_queues_order_not_sorted(db: Any, make_user: Any, make_request: Any) -> None:
    """At 20,000 requests, a page of the queue filtered by a status (and a type) reads that page from an index in
    the queue's order (migration 0022): no sort of every match. (A handful of matches PostgreSQL may still sort.)"""
    import random

    from sqlalchemy import insert, select, text

    from can_crm.models.request import HelpRequest
    from can_crm.services.requests import worklist
    from tests.integration.plan_helpers import plan_nodes, plans, sent_statement

    resident_id = make_request().resident_id
    rng, now = random.Random(3), utcnow()
    statuses = ["closed"] * 8 + ["confirmed"] * 6 + ["new", "triaged", "escalated", "handed_off"]
    types = ["shopping", "food_parcel", "prescription", "befriending", "transport", "dog_walking"]
    db.session.execute(
        insert(HelpRequest),
        [
            {"reference": f"Q-{n:011d}", "resident_id": resident_id, "type": rng.choice(types),
             "status": rng.choice(statuses), "urgency": rng.randint(1, 3), "details": "", "required_skills": [],
             "sla_due_at": now + timedelta(hours=rng.randint(-48, 72)), "created_at": now, "updated_at": now}
            for n in range(20000)
        ],
    )  # fmt: skip
    unit_of_work.commit()
    db.session.execute(text("ANALYZE requests"))
    unit_of_work.commit()
    coordinator = make_user("coordinator")
    for args, index in (
        ({"status": "escalated"}, "ix_requests_status_order"),
        ({"status": "escalated", "urgency": "3"}, "ix_requests_status_order"),
        ({"status": "confirmed", "type": "transport"}, "ix_requests_status_type_order"),
        ({"status": "closed", "type": "shopping", "urgency": "2"}, "ix_requests_status_type_order"),
    ):
        filters = worklist.clean_filters(args)
        statement, parameters = sent_statement(
            db, lambda f=filters: worklist.queue_rows(coordinator, f, page=3), "SELECT requests.reference"
        )
        plan = plans(db, statement, parameters)["custom"]
        nodes = plan_nodes(plan)
        assert index in {n.get("Index Name") for n in nodes}, (args, plan)
        # The outer query orders the page's 50 rows; choosing them needs no sort of every match.
        sorts = [n for n in nodes if n["Node Type"] == "Sort" and n.get("Plan Rows", 0) > 60]
        assert not sorts, (args, plan)
    page = worklist.queue_rows(coordinator, worklist.clean_filters({"status": "escalated"}), page=2)
    expected = db.session.scalars(
        select(HelpRequest.reference)
        .where(HelpRequest.status == "escalated")
        .order_by(HelpRequest.urgency.desc(), HelpRequest.sla_due_at, HelpRequest.id)
        .limit(50)
        .offset(50)
    ).all()
    assert [row.reference for row in page.items] == expected
