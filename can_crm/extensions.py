"""Extension instances, bound to an app in `create_app`. Nothing here touches an app at import time."""

from __future__ import annotations

import select
import sqlite3
from collections.abc import Sequence
from typing import Any, overload

import psycopg
from flask_babel import Babel
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from psycopg import Column, pq
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    # Named constraints so that migrations are reproducible and services can map a violation to a field.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
compress = Compress()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


# SQLite (the embedded default): write-ahead logging, so the in-process job threads and page reads do not block
# each other, and deleted content is overwritten, so erased personal data does not linger in free pages. Python's
# sqlite3 module begins a transaction at the first write (reads run outside one): a read never holds a snapshot
# that a later write would have to upgrade, which WAL refuses at once ("database is locked") when another writer
# committed in between. A savepoint before any write begins the transaction itself.
@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA secure_delete = ON")
        cursor.close()


# PostgreSQL: each execution's `cursor.description` made a psycopg Column for every column of the result: 107 us for
# the signed-in user with their volunteer profile (51 columns), on every request. SQLAlchemy reads it on every
# execution but, for a statement it has run before, uses only whether it is there: its own cached description of
# the rows serves. So the columns are made when something first reads them.
_ROWS = (pq.ExecStatus.TUPLES_OK, pq.ExecStatus.SINGLE_TUPLE, pq.ExecStatus.TUPLES_CHUNK)


class _Columns(Sequence[Column]):
    """A result's description, its Column objects made when first read (from the same result only)."""

    __slots__ = ("_cursor", "_result", "_made")

    def __init__(self, cursor: psycopg.Cursor[Any], result: pq.abc.PGresult) -> None:
        self._cursor, self._result = cursor, result
        self._made: list[Column] | None = None

    def __len__(self) -> int:
        return self._result.nfields

    @overload
    def __getitem__(self, index: int) -> Column: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Column]: ...
    def __getitem__(self, index: int | slice) -> Column | Sequence[Column]:
        if self._made is None:
            if self._cursor.pgresult is not self._result:
                raise RuntimeError("a result's description was read after its cursor ran another statement")
            self._made = [Column(self._cursor, i) for i in range(self._result.nfields)]
        return self._made[index]


class _Cursor(psycopg.Cursor[Any]):
    @property
    def description(self) -> Sequence[Column] | None:  # type: ignore[override]  # a sequence, as DB-API asks
        result = self.pgresult
        if result and (result.nfields or result.status in _ROWS):
            return _Columns(self, result)
        return None


@event.listens_for(Engine, "connect")
def _psycopg_on_connect(dbapi_connection: Any, _record: Any) -> None:
    if isinstance(dbapi_connection, psycopg.Connection):
        dbapi_connection.cursor_factory = _Cursor


# Assets and pages are compressed (br, else gzip). Pages carry the CSRF token beside text people typed, the mix
# a compression side channel (BREACH) reads; that needs the attacker to make the victim's browser fetch the page
# many times with its cookie, which the SameSite=Lax session cookie refuses for cross-site requests. Files are
# sent as streams, which Flask-Compress compresses as they go (br, zstd or deflate).
COMPRESS_SETTINGS = {
    "COMPRESS_MIMETYPES": ["text/html", "text/css", "text/javascript", "application/javascript", "image/svg+xml"],
    "COMPRESS_ALGORITHM": ["br", "gzip"],
    "COMPRESS_ALGORITHM_STREAMING": ["br", "zstd", "deflate"],
}


# PostgreSQL: every request checks its connection out of the pool, and a connection the server ended meanwhile (a
# restart, pg_terminate_backend, an idle timeout) must be found then, not by the request's first statement failing.
# SQLAlchemy's pool_pre_ping sends `SELECT 1` for that: a round trip on every request, before any work, and under
# load each wait for the server hands the core to another worker (0.2-0.4 ms of the app's CPU a round trip on the
# volunteer's pages at 16 connections, scripts/bench_volunteer.py). The check here costs no round trip: a server
# that ends a connection sends its goodbye (a FATAL message) and closes the socket, while an idle connection in the
# pool has nothing to read. So a connection with something to read at checkout is replaced, as pool_pre_ping does
# (DisconnectionError: the pool discards it and connects afresh); one without goes straight to its first statement,
# before which psycopg sends the transaction's BEGIN (none in a request that only reads: unit_of_work.reads_only).
# A peer that vanished without closing (a host lost on the network) is found by neither check before TCP gives up.
# `check_on_checkout` puts this on the app's PostgreSQL engine.
def check_on_checkout(engine: Engine) -> None:
    """On a PostgreSQL engine through psycopg: a connection is checked at checkout by polling its socket."""
    if engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg":
        event.listen(engine, "checkout", _poll_at_checkout)


def _poll_at_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    pgconn = dbapi_connection.pgconn
    try:
        readable, _, _ = select.select([pgconn.socket], [], [], 0)
    except (psycopg.Error, OSError, ValueError) as exc:  # closed, or not a socket any more
        raise DisconnectionError("the connection failed its check at checkout") from exc
    if readable or pgconn.status != pq.ConnStatus.OK:
        raise DisconnectionError("the server ended the connection while it was idle in the pool")
