"""The shared SQL helpers on the real PostgreSQL: a list sent as one array parameter in its text form matches exactly
its items, whatever they hold; a read of columns sees what the session has not written yet."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import column, select, text, values
from sqlalchemy.types import String

from can_crm.models.volunteer import SelfServiceType
from can_crm.services.common.sql import fixed, fixed_in, one_of_parameter, one_of_value, read

ODD = ['a"b', "back\\slash", "com,ma", "{braces}", "sp ace", "", "NULL", "ünï", "tail\\"]


def test_a_list_sent_in_its_text_form_matches_exactly_its_items(db: Any) -> None:
    word = column("word", String)
    table = values(word, name="words").data([(w,) for w in [*ODD, "other", "a", "b", "null"]])
    statement = select(table.c.word).where(one_of_parameter(table.c.word, "wanted", True))  # type: ignore[arg-type]

    found = [w for (w,) in read(statement, {"wanted": one_of_value(ODD, True)})]
    assert sorted(found) == sorted(ODD)
    assert read(text("SELECT cardinality(CAST(:v AS varchar[]))"), {"v": one_of_value(ODD, True)}).scalar() == len(ODD)
    assert list(read(statement, {"wanted": one_of_value([], True)})) == []


def test_elsewhere_the_list_is_sent_as_a_list(db: Any) -> None:
    assert one_of_value(("x", "y"), False) == ["x", "y"]


def test_a_read_sees_what_the_session_has_not_written_yet(db: Any) -> None:
    db.session.add(SelfServiceType(type="shopping"))
    assert read(select(SelfServiceType.type)).scalars().all() == ["shopping"]


def test_a_fixed_constant_is_compiled_into_the_sql_and_only_a_constant_is_accepted(db: Any) -> None:
    word = column("word", String)
    table = values(word, name="words").data([("matched",), ("accepted",), ("closed",)])
    statement = select(table.c.word).where(fixed_in(table.c.word, ("matched", "accepted")))  # type: ignore[arg-type]
    sql = str(statement.compile(db.engine))
    assert "IN ('matched', 'accepted')" in sql  # in the SQL SQLAlchemy caches, not a parameter of each run
    assert sorted(w for (w,) in read(statement)) == ["accepted", "matched"]
    assert [w for (w,) in read(select(table.c.word).where(table.c.word == fixed("closed")))] == ["closed"]  # type: ignore[arg-type]
    for bad in ("it's", "x' OR '1'='1", "Matched", ""):
        with pytest.raises(ValueError, match="not a constant"):
            fixed(bad)
