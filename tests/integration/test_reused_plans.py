"""The volunteer's pages run statements PostgreSQL can plan once and reuse (services.common.sql.fixed).

psycopg prepares a statement after a few runs, and PostgreSQL then tries one generic plan for every execution. A
generic plan for "status = $1" cannot use a partial index whose WHERE names a status, so PostgreSQL planned those
statements afresh on every execution, at more cost than running them. Here each statement is prepared exactly as
the service sends it and planned generically (plan_cache_mode = force_generic_plan): the plan still reaches the
partial index."""

from __future__ import annotations

import json
from typing import Any

from can_crm import unit_of_work
from can_crm.services.volunteers import nearby, offers, tasks, workload
from tests.integration.plan_helpers import indexes, plans, sent_statement
from tests.integration.test_request_location import _seed_pool


def test_the_volunteer_pages_statements_keep_their_partial_indexes_in_a_reused_plan(
    db: Any, make_volunteer: Any
) -> None:
    volunteer = make_volunteer()
    volunteer.max_per_day = 3  # so the load reads today's acceptances too
    unit_of_work.commit()
    _seed_pool(db, volunteer, near=30, far=1500, other=30000)
    nearby.set_open_types(["shopping"], None)
    unit_of_work.commit()

    for run, starts, constant in (
        (lambda: nearby.list_nearby(volunteer), "SELECT requests.reference", "= 'triaged'"),
        # The page's: the load beside the rows (today's acceptances too: this volunteer has a most-a-day).
        (lambda: nearby.shown(volunteer), "SELECT load.held", "IN ('matched', 'accepted', 'in_progress')"),
        (lambda: offers.list_offers(volunteer), "SELECT requests.reference", "= 'matched'"),
        (
            lambda: workload.load_of(volunteer),
            "SELECT requests.volunteer_id",
            "IN ('matched', 'accepted', 'in_progress')",
        ),
    ):
        statement, parameters = sent_statement(db, run, starts)
        assert constant in statement
        made = plans(db, statement, parameters)
        # The plan made once costs no more than the plan made for these values: PostgreSQL keeps it.
        generic, custom = made["generic"]["Total Cost"], made["custom"]["Total Cost"]
        assert generic <= custom * 1.1 + 1, json.dumps(made, indent=1)[:6000]
    for run, starts in ((lambda: nearby.list_nearby(volunteer), "SELECT requests.reference"),
                        (lambda: nearby.shown(volunteer), "SELECT load.held")):  # fmt: skip
        plan = plans(db, *sent_statement(db, run, starts))["generic"]
        assert "ix_requests_pool_place" in indexes(plan), json.dumps(plan, indent=1)[:4000]
    assert "ix_requests_busy_volunteer" in indexes(plan), json.dumps(plan, indent=1)[:4000]  # the page's load

    statement, _ = sent_statement(db, lambda: tasks.list_tasks(volunteer), "SELECT requests.reference")
    assert "IN ('accepted', 'in_progress')" in statement and "'delivered'" in statement
