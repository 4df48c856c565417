"""One transaction per web request or job; side effects only after the commit.

Services flush and register side effects with `on_commit`; the request (or job) boundary calls
`commit()` once, or `rollback()` on an error, which also drops the side effects. A request that only
reads runs without a transaction (`reads_only`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import Session

from can_crm.extensions import db

P = ParamSpec("P")
R = TypeVar("R")

_KEY = "can_crm.on_commit"
_READS_ONLY = "can_crm.reads_only"


class WriteWhileReading(RuntimeError):
    """A request that said it only reads tried to write: a mistake in the code, not in anyone's input."""


def reads_only() -> None:
    """This request only reads: its statements run without a transaction, which spares it two round trips to
    PostgreSQL (BEGIN and COMMIT) of its three or four. Under READ COMMITTED each statement sees the data as of its
    own start, in a transaction or not, so the reads see what they would have seen inside one. Call it before the
    first statement; a flush or a savepoint afterwards raises WriteWhileReading, and nothing is written."""
    # A session already in a transaction (a test's or a command's, shared with the request) reads inside it.
    if db.session().get_transaction() is None:
        db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    db.session.info[_READS_ONLY] = True


@event.listens_for(Session, "before_flush")
def _refuse_writes_while_reading(session: Session, _context: object, _instances: object) -> None:
    if session.info.get(_READS_ONLY):
        raise WriteWhileReading("a request that only reads tried to write")


def on_commit(callback: Callable[[], None]) -> None:
    """Run `callback` once the current transaction has committed (never if it rolls back)."""
    db.session.info.setdefault(_KEY, []).append(callback)


def commit() -> None:
    db.session.commit()
    db.session.info.pop(_READS_ONLY, None)
    callbacks: list[Callable[[], None]] = db.session.info.pop(_KEY, [])
    for callback in callbacks:
        callback()


def rollback() -> None:
    db.session.info.pop(_READS_ONLY, None)
    db.session.rollback()
    db.session.info.pop(_KEY, None)


@contextmanager
def savepoint() -> Iterator[None]:
    """All or nothing inside the current transaction: an exception rolls back only what this block flushed
    (objects it changed are expired and reload), then propagates; the request or job can still render a
    page, record the failure, and commit what came before."""
    if db.session.info.get(_READS_ONLY):
        raise WriteWhileReading("a request that only reads opened a savepoint")
    callbacks: list[Callable[[], None]] = db.session.info.setdefault(_KEY, [])
    registered = len(callbacks)
    try:
        with db.session.begin_nested():
            yield
    except BaseException:
        del callbacks[registered:]  # side effects of the undone work must not run at the commit
        raise


def atomic(fn: Callable[P, R]) -> Callable[P, R]:
    """A service operation that changes nothing when it refuses: its writes run in a savepoint."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with savepoint():
            return fn(*args, **kwargs)

    return wrapper
