"""One transaction per web request or job; side effects only after the commit.

Services flush and register side effects with `on_commit`; the request (or job) boundary calls
`commit()` once, or `rollback()` on an error, which also drops the side effects.
"""

from __future__ import annotations

from collections.abc import Callable

from can_crm.extensions import db

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
