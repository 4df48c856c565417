"""SQL expressions the services share."""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Executable,
    Integer,
    String,
    Text,
    any_,
    bindparam,
    cast,
    literal_column,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import InstrumentedAttribute

from can_crm.extensions import db

_CONSTANT = re.compile(r"[a-z_]+")


def on_postgresql() -> bool:
    """Whether the session's database is PostgreSQL (the embedded default is SQLite)."""
    return bool(db.session.get_bind().dialect.name == "postgresql")


def read(statement: Executable, values: Mapping[str, Any] | None = None) -> CursorResult[Any]:
    """Rows of a SELECT of columns (never of ORM objects), run on the session's connection and transaction.

    Through `Session.execute` the ORM sets up a loader for each column on every execution and passes every row
    through it: 80-100 us more a statement than this, measured on the volunteer pages, for rows nothing needs as
    objects. Changes pending in the session are flushed first, as its autoflush would."""
    db.session.flush()
    return db.session.connection().execute(statement, values)


def flat_distance(
    lat_column: InstrumentedAttribute[Any],
    lon_column: InstrumentedAttribute[Any],
    lat: float | ColumnElement[Any],
    lon: float | ColumnElement[Any],
    scale: float | ColumnElement[Any] | None = None,
) -> ColumnElement[Any]:
    """The squared equirectangular distance from (lat, lon), in degrees of latitude: exact enough to order places a
    few km apart (the nearest first), with no extension. Ordering only: the distance shown is the great circle's.

    `scale` is cos(lat), worked out from a number; a statement built once with parameters for lat and lon passes
    one for it too (`parallel_scale` gives its value)."""
    if scale is None:
        assert isinstance(lat, float | int), "a lat given as a parameter needs its scale as a parameter too"
        scale = parallel_scale(lat)
    north, east = lat_column - lat, (lon_column - lon) * scale
    return north * north + east * east


def parallel_scale(lat: float) -> float:
    """How much shorter a degree of longitude is than one of latitude at `lat`."""
    return math.cos(math.radians(lat))


def one_of_parameter(column: InstrumentedAttribute[Any], name: str, postgresql: bool) -> ColumnElement[bool]:
    """`one_of` for a statement built once and run many times: the list is the parameter `name`, given at each
    execution as `one_of_value` makes it (on PostgreSQL an array written as text, elsewhere an expanding IN)."""
    if postgresql:
        return column == any_(cast(bindparam(name, type_=Text()), ARRAY(String())))
    return column.in_(bindparam(name, expanding=True))


def one_of_value(items: Collection[str], postgresql: bool) -> str | list[str]:
    """The value of a `one_of_parameter`: on PostgreSQL the array's text form (`{"a","b"}`), which a caller can
    keep and send as it is. psycopg adapted a list of Nearby's 217 H3 cells item by item on every call, a quarter
    of a millisecond a page, profiled."""
    if not postgresql:
        return list(items)
    quoted = ('"' + item.replace("\\", "\\\\").replace('"', '\\"') + '"' for item in items)
    return "{" + ",".join(quoted) + "}"


def one_of(column: InstrumentedAttribute[Any], values: Collection[str] | Collection[int]) -> ColumnElement[bool]:
    """`column IN (values)`; on PostgreSQL `column = ANY(:array)`, one parameter however long the list.

    A list of a few hundred values (Nearby's H3 cells) otherwise becomes a few hundred placeholders: a statement
    too long for psycopg to cache its conversion, re-parsed on every call (a third of the page's time profiled).
    """
    items = list(values)
    if on_postgresql():
        element = Integer() if items and isinstance(items[0], int) else String()
        return column == any_(bindparam(None, items, type_=ARRAY(element)))
    return column.in_(items)


def fixed(value: str) -> ColumnElement[str]:
    """A constant (a status, a type) written into the SQL instead of sent as a parameter.

    psycopg prepares a statement it runs often, and PostgreSQL then tries one plan for every execution. A plan for
    "status = $1" cannot use a partial index (ix_requests_busy_volunteer: WHERE status ...),
    so PostgreSQL made a new plan on every execution instead, at more cost than running it (measured on the
    volunteer's offers: 0.45 ms planning to 0.07 ms executing). With the constant in the SQL, the one plan serves.

    It is written when the statement is compiled, so SQLAlchemy caches the SQL with it (a `literal_execute` value is
    written into the SQL again on every execution). Only our own constants, never anything a person typed: a value
    other than lower-case letters and underscores is refused.
    """
    if not _CONSTANT.fullmatch(value):
        raise ValueError(f"not a constant: {value!r}")
    return literal_column(f"'{value}'", String())


def fixed_in(column: InstrumentedAttribute[Any], values: Collection[str]) -> ColumnElement[bool]:
    """`column IN (values)` with the constants written into the SQL (see `fixed`)."""
    return column.in_([fixed(value) for value in values])
