"""One transaction per web request or job; side effects only after the commit.

Services flush and register side effects with `on_commit`; the request (or job) boundary calls
`commit()` once, or `rollback()` on an error, which also drops the side effects.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from can_crm.extensions import db

P = ParamSpec("P")
R = TypeVar("R")

_KEY = "can_crm.on_commit"


def on_commit(callback: Callable[[], None]) -> None:
    """Run `callback` once the current transaction has committed (never if it rolls back)."""
    db.session.info.setdefault(_KEY, []).append(callback)


def commit() -> None:
    db.session.commit()
    callbacks: list[Callable[[], None]] = db.session.info.pop(_KEY, [])
    for callback in callbacks:
        callback()


def rollback() -> None:
    db.session.rollback()
    db.session.info.pop(_KEY, None)


@contextmanager
def savepoint() -> Iterator[None]:
    """All or nothing inside the current transaction: an exception rolls back only what this block flushed
    (objects it changed are expired and reload), then propagates; the request or job can still render a
    page, record the failure, and commit what came before."""
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
