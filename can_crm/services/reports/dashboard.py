"""The dashboard's figures, each a small table (rows of label + numbers) that a chart, an accessible table
and a CSV download are all drawn from. Counted in a few grouped queries; weeks are bucketed in Python so the
same code runs on PostgreSQL and the embedded SQLite."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, select

from can_crm.extensions import db
from can_crm.models.base import utcnow
from can_crm.models.enums import REQUEST_TYPE_LABELS, EventKind, FeedbackAnswer, RequestType, Status
from can_crm.models.notification import Feedback, FeedbackLink
from can_crm.models.request import HelpRequest, RequestEvent
from can_crm.models.resident import Resident
from can_crm.services.common import times
from can_crm.services.outreach import campaigns


@dataclass(frozen=True)
class Figure:
    key: str
    title: str
    columns: list[str]  # the first names the row label
    rows: list[list[object]]
    unit: str = ""

    def series(self) -> list[tuple[str, float]]:
        """(label, the last column's value) per row: what a one-series bar chart draws."""
        return [(str(row[0]), float(str(row[-1] or 0))) for row in self.rows]


def _week(moment: datetime) -> str:
    day = times.today(moment)
    monday = day - timedelta(days=day.weekday())
    return monday.isoformat()


def requests_by_week(weeks: int, now: datetime) -> Figure:
    since = now - timedelta(weeks=weeks)
    query = select(HelpRequest.created_at, HelpRequest.type).where(HelpRequest.created_at >= since)
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for created, kind in db.session.execute(query):
        counts[_week(created)][kind] += 1
    types = [t.value for t in RequestType]
    rows: list[list[object]] = []
    for week in sorted(counts):
        per_type = [counts[week][t] for t in types]
        rows.append([week, *per_type, sum(per_type)])
    columns = ["Week starting", *(REQUEST_TYPE_LABELS[RequestType(t)] for t in types), "All requests"]
    return Figure("requests-by-week", "Requests by type, week by week", columns, rows)


def requests_by_area(weeks: int, now: datetime) -> Figure:
    since = now - timedelta(weeks=weeks)
    query = (
        select(Resident.ward_code, func.count(HelpRequest.id))
        .join(Resident, Resident.id == HelpRequest.resident_id)
        .where(HelpRequest.created_at >= since)
        .group_by(Resident.ward_code)
        .order_by(func.count(HelpRequest.id).desc())
        .limit(30)
    )
    rows: list[list[object]] = [[ward or "Unknown", count] for ward, count in db.session.execute(query)]
    return Figure("requests-by-area", "Requests by ward", ["Ward", "Requests"], rows)


def _hours(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600


def time_to_outcome(weeks: int, now: datetime) -> Figure:
    since = now - timedelta(weeks=weeks)
    delivered: dict[str, list[float]] = defaultdict(list)
    query = select(HelpRequest.type, HelpRequest.created_at, HelpRequest.delivered_at).where(
        HelpRequest.delivered_at.is_not(None), HelpRequest.created_at >= since
    )
    for kind, created, done in db.session.execute(query):
        delivered[kind].append(_hours(created, done))
    confirmed: dict[str, list[float]] = defaultdict(list)
    query2 = (
        select(HelpRequest.type, HelpRequest.created_at, RequestEvent.created_at)
        .join(RequestEvent, RequestEvent.request_id == HelpRequest.id)
        .where(
            RequestEvent.kind == EventKind.TRANSITION.value,
            RequestEvent.to_status == Status.CONFIRMED.value,
            HelpRequest.created_at >= since,
        )
    )
    for kind, created, done in db.session.execute(query2):
        confirmed[kind].append(_hours(created, done))
    rows: list[list[object]] = []
    for t in RequestType:
        d, c = delivered.get(t.value, []), confirmed.get(t.value, [])
        if d or c:
            rows.append(
                [
                    REQUEST_TYPE_LABELS[t],
                    round(statistics.median(c), 1) if c else None,
                    round(statistics.median(d), 1) if d else None,
                ]
            )
    return Figure(
        "time-to-delivery",
        "Median hours from request to confirmation and to delivery",
        ["Type of help", "Hours to confirmation", "Hours to delivery"],
        rows,
        "hours",
    )


def confirmation_outcomes(weeks: int, now: datetime) -> Figure:
    since = now - timedelta(weeks=weeks)
    answers: dict[str, int] = {
        str(answer): int(count)
        for answer, count in db.session.execute(
            select(Feedback.answer, func.count(Feedback.id))
            .where(Feedback.created_at >= since)
            .group_by(Feedback.answer)
        ).all()
    }
    unanswered = db.session.scalar(
        select(func.count(FeedbackLink.id))
        .join(HelpRequest, HelpRequest.id == FeedbackLink.request_id)
        .where(
            and_(FeedbackLink.created_at >= since, FeedbackLink.follow_up_at.is_not(None)),
            HelpRequest.status == Status.DELIVERED.value,
        )
    )
    rows: list[list[object]] = [
        ["Confirmed", int(answers.get(FeedbackAnswer.YES.value, 0))],
        ["Not received", int(answers.get(FeedbackAnswer.NO.value, 0))],
        ["Only partly", int(answers.get(FeedbackAnswer.PARTLY.value, 0))],
        ["No answer", int(unanswered or 0)],
    ]
    return Figure("outcomes", "Did help arrive? What residents said", ["Answer", "Requests"], rows)


def volunteers_active(weeks: int, now: datetime) -> Figure:
    since = now - timedelta(weeks=weeks)
    query = select(RequestEvent.created_at, RequestEvent.volunteer_id).where(
        RequestEvent.volunteer_id.is_not(None), RequestEvent.created_at >= since
    )
    per_week: dict[str, set[int]] = defaultdict(set)
    for created, volunteer in db.session.execute(query):
        per_week[_week(created)].add(volunteer)
    rows: list[list[object]] = [[week, len(per_week[week])] for week in sorted(per_week)]
    return Figure("volunteers-active", "Volunteers active each week", ["Week starting", "Volunteers"], rows)


def outreach_funnel() -> Figure:
    f = campaigns.funnel()
    rows: list[list[object]] = [["In the cohort", f.cohort], *([label, n] for label, n in f.steps())]
    return Figure("outreach-funnel", "Outreach funnel, all campaigns", ["Step", "People"], rows)


def figures(weeks: int = 12, now: datetime | None = None) -> list[Figure]:
    now = now or utcnow()
    return [
        requests_by_week(weeks, now),
        requests_by_area(weeks, now),
        time_to_outcome(weeks, now),
        confirmation_outcomes(weeks, now),
        volunteers_active(weeks, now),
        outreach_funnel(),
    ]
