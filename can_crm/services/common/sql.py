"""SQL expressions the services share."""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, Integer, String, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import InstrumentedAttribute

from can_crm.extensions import db


def flat_distance(
    lat_column: InstrumentedAttribute[Any], lon_column: InstrumentedAttribute[Any], lat: float, lon: float
) -> ColumnElement[Any]:
    """The squared equirectangular distance from (lat, lon), in degrees of latitude: exact enough to order places a
    few km apart (the nearest first), with no extension. Ordering only: the distance shown is the great circle's."""
    north, east = lat_column - lat, (lon_column - lon) * math.cos(math.radians(lat))
    return north * north + east * east


def one_of(column: InstrumentedAttribute[Any], values: Collection[str] | Collection[int]) -> ColumnElement[bool]:
    """`column IN (values)`; on PostgreSQL `column = ANY(:array)`, one parameter however long the list.

    A list of a few hundred values (Nearby's H3 cells) otherwise becomes a few hundred placeholders: a statement
    too long for psycopg to cache its conversion, re-parsed on every call (a third of the page's time profiled).
    """
    items = list(values)
    if db.session.get_bind().dialect.name == "postgresql":
        element = Integer() if items and isinstance(items[0], int) else String()
        return column == any_(bindparam(None, items, type_=ARRAY(element)))
    return column.in_(items)
