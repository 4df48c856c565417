"""The pool's check of a connection at checkout is a poll of its socket (extensions.check_on_checkout): no round
trip, where pool_pre_ping's `SELECT 1` took one. A connection the server ended is replaced at checkout, as
pool_pre_ping would; one that is alive goes out untouched, its transaction begun by its first statement."""

from __future__ import annotations

import select
from typing import Any

import psycopg
import pytest
from psycopg import pq
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DisconnectionError

from can_crm.extensions import _poll_at_checkout, check_on_checkout
from tests.conftest import ADMIN_URL


def _raw(conn: Any) -> psycopg.Connection[Any]:
    return conn.connection.dbapi_connection  # type: ignore[no-any-return]


def test_a_checked_out_connection_is_untouched_and_its_first_statement_begins_the_transaction(db: Any) -> None:
    assert not db.engine.pool._pre_ping  # the poll is the check
    with db.engine.connect() as conn:
        raw = _raw(conn)
        assert raw.pgconn.transaction_status == pq.TransactionStatus.IDLE and not raw.autocommit
        started = conn.execute(text("SELECT xact_start FROM pg_stat_activity WHERE pid = pg_backend_pid()")).scalar()
        assert started is not None and raw.pgconn.transaction_status == pq.TransactionStatus.INTRANS
        conn.rollback()
    # A session's writes commit and roll back as ever.
    with db.engine.connect() as conn:
        conn.execute(text("CREATE TEMP TABLE checkout_probe (n int)"))
        conn.execute(text("INSERT INTO checkout_probe VALUES (1)"))
        conn.rollback()
        assert _raw(conn).pgconn.transaction_status == pq.TransactionStatus.IDLE
        assert conn.execute(text("SELECT to_regclass('pg_temp.checkout_probe')")).scalar() is None


def test_the_check_adds_no_connection_event(database_url: str) -> None:
    # A connection event would make SQLAlchemy dispatch events on every execution. A fresh engine: the app's is
    # shared by the worker's tests, some of which listen to it.
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    check_on_checkout(engine)
    assert engine.pool.dispatch.checkout and not engine._has_events
    engine.dispose()


def test_a_connection_the_server_ended_is_replaced_at_checkout(db: Any) -> None:
    db.engine.dispose()
    with db.engine.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        socket = _raw(conn).pgconn.socket
        conn.rollback()
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone() == (True,)
    # The server's goodbye reaches the pooled connection's socket (the backend ends a moment after the signal).
    assert select.select([socket], [], [], 10)[0]
    # The pool holds only the ended connection: the checkout finds it and connects afresh, unseen.
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar() != pid
        assert conn.execute(text("SELECT 1")).scalar() == 1


def test_the_poll_refuses_a_connection_closed_or_with_something_unread(database_url: str) -> None:
    with psycopg.connect(database_url) as alive:
        _poll_at_checkout(alive, None, None)  # idle and quiet: it goes out as it is
        assert alive.pgconn.transaction_status == pq.TransactionStatus.IDLE
        alive.execute("LISTEN checkout_probe")
        alive.commit()
        with psycopg.connect(database_url, autocommit=True) as other:
            other.execute("NOTIFY checkout_probe")
        assert select.select([alive.pgconn.socket], [], [], 10)[0]
        # Anything waiting on an idle pooled connection (here a notification nobody listens for) replaces it.
        with pytest.raises(DisconnectionError):
            _poll_at_checkout(alive, None, None)
    closed = psycopg.connect(database_url)
    closed.pgconn.finish()
    with pytest.raises(DisconnectionError):
        _poll_at_checkout(closed, None, None)


def test_autocommit_works_and_the_next_checkout_is_transactional_again(db: Any) -> None:
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM self_service_types"))  # refused inside a transaction
        assert _raw(conn).autocommit
    for _ in range(db.engine.pool.size() + 1):
        with db.engine.connect() as conn:
            assert not _raw(conn).autocommit
            conn.execute(text("SELECT 1"))
            assert _raw(conn).pgconn.transaction_status == pq.TransactionStatus.INTRANS
