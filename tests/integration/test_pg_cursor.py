"""The app's psycopg cursors describe a result as psycopg's own do, making the column descriptions only when read
(can_crm.extensions): the same names, types and length, None when a statement returns no rows."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest


def _pair(db: Any) -> tuple[Any, psycopg.Cursor[Any]]:
    raw = db.session.connection().connection.driver_connection
    assert type(raw.cursor()).__name__ == "_Cursor"  # the app's connections use it
    return raw.cursor(), psycopg.Cursor(raw)


def test_a_description_is_psycopgs_own(db: Any) -> None:
    ours, theirs = _pair(db)
    for sql in (
        "SELECT 1 AS a, 'x'::text AS b, now() AS c, NULL::jsonb AS d",
        "SELECT * FROM requests LIMIT 0",
        "SELECT",  # rows without columns
    ):
        ours.execute(sql)
        theirs.execute(sql)
        mine, psycopgs = ours.description, theirs.description
        assert mine is not None and psycopgs is not None
        assert len(mine) == len(psycopgs)
        assert [tuple(c) for c in mine] == [tuple(c) for c in psycopgs]
        assert [c.name for c in mine[1:]] == [c.name for c in psycopgs[1:]]


def test_no_rows_no_description_and_no_reading_a_result_gone(db: Any) -> None:
    ours, _ = _pair(db)
    ours.execute("SET LOCAL statement_timeout = 0")
    assert ours.description is None
    ours.execute("SELECT 1 AS z")
    gone = ours.description
    ours.execute("SELECT 2 AS y")
    assert gone is not None
    with pytest.raises(RuntimeError, match="another statement"):
        gone[0]
    assert [c.name for c in ours.description or ()] == ["y"]
