"""Reading PostgreSQL's plans in tests: the statement a service sends, and its plans as PostgreSQL makes them."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any

from psycopg import sql as psql
from sqlalchemy import event


def plan_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every node of an EXPLAIN (FORMAT JSON) plan, the root first."""
    yield plan
    for child in plan.get("Plans", []):
        yield from plan_nodes(child)


def sent_statement(db: Any, run: Callable[[], object], starts: str) -> tuple[str, dict[str, Any]]:
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


def plans(db: Any, statement: str, parameters: dict[str, Any]) -> dict[str, dict[str, Any]]:
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


def indexes(plan: dict[str, Any]) -> set[str]:
    return {node["Index Name"] for node in plan_nodes(plan) if "Index Name" in node}
