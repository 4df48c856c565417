"""The volunteer's pages run statements PostgreSQL can plan once and reuse (services.common.sql.fixed).

psycopg prepares a statement after a few runs, and PostgreSQL then tries one generic plan for every execution. A
generic plan for "status = $1" cannot use a partial index whose WHERE names a status, so PostgreSQL planned those
statements afresh on every execution, at more cost than running them. Here each statement is prepared exactly as
the service sends it and planned generically (plan_cache_mode = force_generic_plan): the plan still reaches the
partial index."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from psycopg import sql as psql
from sqlalchemy import event

from can_crm import unit_of_work
from can_crm.services.volunteers import nearby, offers, tasks, workload
from tests.integration.test_request_location import _plan_nodes, _seed_pool


def _sent(db: Any, run: Callable[[], object], starts: str) -> tuple[str, dict[str, Any]]:
    """The statement (and its parameters) that `run` sends whose SQL starts with `starts`."""
    seen: list[tuple[str, dict[str, Any]]] = []

    def grab(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        seen.append((statement, dict(parameters or {})))

    event.listen(db.engine, "before_cursor_execute", grab)
    try:
        run()
    finally:
        event.remove(db.engine, "before_cursor_execute", grab)
    found = [s for s in seen if s[0].lstrip().startswith(starts)]
    assert found, [s[0][:80] for s in seen]
    return found[0]


def _plans(db: Any, statement: str, parameters: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The statement prepared as the service sends it, planned once for any values ("generic", the plan PostgreSQL
    would keep) and once for these values ("custom", the plan it made on every execution before)."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        # PREPARE in SQL has no driver to say each parameter's type, so the placeholder says it.
        names.append(match.group(1))
        return f"${len(names)}::{_sql_type(parameters[match.group(1)])}"

    sql = re.sub(r"%\((\w+)\)s", number, statement)
    values = psql.SQL(", ").join(psql.Literal(parameters[n]) for n in names)
    raw = db.engine.raw_connection()
    plans = {}
    try:
        cur = raw.cursor()
        cur.execute(f"PREPARE reused AS {sql}")
        for mode in ("generic", "custom"):
            cur.execute(f"SET plan_cache_mode = force_{mode}_plan")
            cur.execute(psql.SQL("EXPLAIN (FORMAT JSON) EXECUTE reused({})").format(values))
            plans[mode] = cur.fetchone()[0][0]["Plan"]
        cur.execute("DEALLOCATE reused")
        cur.execute("RESET plan_cache_mode")
        raw.rollback()
        return plans
    finally:
        raw.close()


def _sql_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "bigint"
    if isinstance(value, float):
        return "double precision"
    if isinstance(value, datetime):
        return "timestamptz"
    if isinstance(value, date):
        return "date"
    if isinstance(value, list):
        return f"{_sql_type(value[0]) if value else 'text'}[]"
    return "text"


def _indexes(plan: dict[str, Any]) -> set[str]:
    return {node["Index Name"] for node in _plan_nodes(plan) if "Index Name" in node}


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
        (lambda: offers.list_offers(volunteer), "SELECT requests.reference", "= 'matched'"),
        (
            lambda: workload.load_of(volunteer),
            "SELECT requests.volunteer_id",
            "IN ('matched', 'accepted', 'in_progress')",
        ),
    ):
        statement, parameters = _sent(db, run, starts)
        assert constant in statement
        plans = _plans(db, statement, parameters)
        # The plan made once costs no more than the plan made for these values: PostgreSQL keeps it.
        generic, custom = plans["generic"]["Total Cost"], plans["custom"]["Total Cost"]
        assert generic <= custom * 1.1 + 1, json.dumps(plans, indent=1)[:6000]
    plan = _plans(db, *_sent(db, lambda: nearby.list_nearby(volunteer), "SELECT requests.reference"))["generic"]
    assert "ix_requests_pool_cell" in _indexes(plan), json.dumps(plan, indent=1)[:4000]

    statement, _ = _sent(db, lambda: tasks.list_tasks(volunteer), "SELECT requests.reference")
    assert "IN ('accepted', 'in_progress')" in statement and "'delivered'" in statement
