"""The pool's check of a connection at checkout is the transaction's BEGIN (extensions.begin_on_checkout): one round
trip where pool_pre_ping's `SELECT 1` and psycopg's own BEGIN took two. A connection the server dropped is
replaced at checkout, as pool_pre_ping would; a connection given AUTOCOMMIT (VACUUM) still gets it."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import pq
from sqlalchemy import text

from tests.conftest import ADMIN_URL


def _raw(conn: Any) -> psycopg.Connection[Any]:
    return conn.connection.dbapi_connection  # type: ignore[no-any-return]


def test_a_checked_out_connection_is_already_in_its_transaction(db: Any) -> None:
    assert not db.engine.pool._pre_ping  # the BEGIN is the check
    # No connection event: one would make SQLAlchemy dispatch events on every execution.
    assert not db.engine._has_events
    with db.engine.connect() as conn:
        raw = _raw(conn)
        # BEGIN went at checkout: psycopg sends none of its own before the first statement.
        assert raw.pgconn.transaction_status == pq.TransactionStatus.INTRANS
        started = conn.execute(text("SELECT xact_start FROM pg_stat_activity WHERE pid = pg_backend_pid()")).scalar()
        assert started is not None
        assert conn.execute(text("SELECT 1")).scalar() == 1
        conn.rollback()
    # A session's writes commit and roll back as ever.
    with db.engine.connect() as conn:
        conn.execute(text("CREATE TEMP TABLE checkout_probe (n int)"))
        conn.execute(text("INSERT INTO checkout_probe VALUES (1)"))
        conn.rollback()
        assert _raw(conn).pgconn.transaction_status == pq.TransactionStatus.IDLE
        assert conn.execute(text("SELECT to_regclass('pg_temp.checkout_probe')")).scalar() is None


def test_a_connection_the_server_dropped_is_replaced_at_checkout(db: Any) -> None:
    db.engine.dispose()
    with db.engine.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        conn.rollback()
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone() == (True,)
    # The pool holds only the dropped connection: the checkout finds it dead and connects afresh, unseen.
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar() != pid
        assert conn.execute(text("SELECT 1")).scalar() == 1


def test_autocommit_still_works_and_the_next_checkout_is_transactional_again(db: Any) -> None:
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM self_service_types"))  # refused inside a transaction
        assert _raw(conn).autocommit
    for _ in range(db.engine.pool.size() + 1):
        with db.engine.connect() as conn:
            assert not _raw(conn).autocommit
            assert _raw(conn).pgconn.transaction_status == pq.TransactionStatus.INTRANS
