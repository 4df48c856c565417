"""Call tasks: what a coordinator must do by phone (no way to message, no answer, help did not arrive)."""

from __future__ import annotations

from sqlalchemy import select

from can_crm.extensions import db
from can_crm.models.base import utcnow
from can_crm.models.enums import CallTaskKind, EventKind
from can_crm.models.notification import CallTask
from can_crm.models.request import HelpRequest
from can_crm.services.common.errors import NotFound
from can_crm.services.requests.events import SYSTEM, Actor, record_event

TASK_LABELS = {
    CallTaskKind.NO_CONTACT: "No way to send a message: call instead",
    CallTaskKind.MESSAGE_FAILED: "A message could not be delivered: call instead",
    CallTaskKind.NO_ANSWER: "No answer to \u201cdid help arrive?\u201d: call to ask",
    CallTaskKind.NOT_RECEIVED: "The resident says help did not arrive, or only partly",
    CallTaskKind.UNCLEAR_REPLY: "A text reply we could not read: call to check",
}


def open_task(
    kind: CallTaskKind,
    dedupe_key: str,
    *,
    request: HelpRequest | None = None,
    resident_id: int | None = None,
    notification_id: int | None = None,
    note: str | None = None,
) -> CallTask:
    """Open a call task once per `dedupe_key` (a repeat returns the existing task)."""
    session = db.session
    existing = session.scalar(select(CallTask).where(CallTask.dedupe_key == dedupe_key))
    if existing is not None:
        return existing
    task = CallTask(
        dedupe_key=dedupe_key,
        kind=kind.value,
        request_id=request.id if request else None,
        resident_id=resident_id if resident_id is not None else (request.resident_id if request else None),
        notification_id=notification_id,
        note=note,
        created_at=utcnow(),
    )
    session.add(task)
    session.flush()
    if request is not None:
        record_event(request, Actor(role=SYSTEM), EventKind.CALL_TASK, reason=TASK_LABELS[kind])
    return task


def open_tasks(limit: int = 200) -> list[tuple[CallTask, str | None]]:
    """Open tasks, oldest first, each with its request's reference (None for a resident-only task)."""
    query = (
        select(CallTask, HelpRequest.reference)
        .outerjoin(HelpRequest, HelpRequest.id == CallTask.request_id)
        .where(CallTask.done_at.is_(None))
        .order_by(CallTask.created_at, CallTask.id)
        .limit(limit)
    )
    return [(task, reference) for task, reference in db.session.execute(query)]


def complete(task_id: int, user_id: int) -> CallTask:
    task = db.session.get(CallTask, task_id)
    if task is None:
        raise NotFound("No call task with that id")
    if task.done_at is None:
        task.done_at = utcnow()
        task.done_by_id = user_id
        db.session.flush()
    return task
