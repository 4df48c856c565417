"""Open311 GeoReport v2: our request types as services, requests as service requests, and requests submitted by civic
apps. What anyone can read is status, type, dates and the area: never a name, an address, a description or a point.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from can_crm.extensions import db
from can_crm.models.base import utcnow
from can_crm.models.enums import OPEN_STATUSES, REQUEST_TYPE_LABELS, Channel, RequestType, Status, values
from can_crm.models.request import HelpRequest
from can_crm.services.common import times
from can_crm.services.common.errors import FieldErrors, ValidationError
from can_crm.services.requests import intake
from can_crm.services.requests.events import Actor
from can_crm.services.requests.references import normalise_reference
from geo.postcodes import POSTCODE_PATTERN

MAX_RESULTS = 1000
DEFAULT_DAYS = 90
_POSTCODE_IN_TEXT = re.compile(rf"{POSTCODE_PATTERN}|[A-Z]{{1,2}}[0-9][A-Z0-9]?[0-9][A-Z]{{2}}")
_STATUS_NOTES = {
    Status.HANDED_OFF.value: "Passed to another council, who will take it from here",
    Status.CANCELLED.value: "Cancelled",
    Status.UNABLE_TO_FULFIL.value: "We could not help with this request",
}
_DESCRIPTIONS = {
    RequestType.FOOD_PARCEL: "A food parcel delivered by a volunteer",
    RequestType.SHOPPING: "A volunteer does the shopping",
    RequestType.PRESCRIPTION: "A volunteer collects a prescription",
    RequestType.BEFRIENDING: "A regular friendly phone call",
    RequestType.TRANSPORT: "A lift to a medical appointment",
    RequestType.DOG_WALKING: "A volunteer walks the dog",
    RequestType.OTHER: "Any other practical help",
}


class Open311Error(Exception):
    """An error in the spec's own shape: `[{"code": <HTTP status>, "description": "..."}]`."""

    def __init__(self, status: int, descriptions: list[str]) -> None:
        super().__init__(descriptions[0] if descriptions else "")
        self.status = status
        self.descriptions = descriptions

    def body(self) -> list[dict[str, Any]]:
        return [{"code": self.status, "description": d} for d in self.descriptions]


def services() -> list[dict[str, Any]]:
    return [
        {
            "service_code": t.value,
            "service_name": REQUEST_TYPE_LABELS[t],
            "description": _DESCRIPTIONS[t],
            "metadata": False,
            "type": "realtime",
            "keywords": "community support, volunteers",
            "group": "Community support",
        }
        for t in RequestType
    ]


def service_definition(code: str) -> dict[str, Any]:
    if code not in values(RequestType):
        raise Open311Error(404, [f"No service with code {code[:40]}"])
    return {"service_code": code, "attributes": []}


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment else None


def request_out(request: HelpRequest) -> dict[str, Any]:
    """A service request as the public reads it: no personal data (no description, address, point or postcode)."""
    authority = current_app.config["AUTHORITY_NAME"]
    ward = request.resident.ward_code
    return {
        "service_request_id": request.reference,
        "status": "open" if Status(request.status) in OPEN_STATUSES else "closed",
        "status_notes": _STATUS_NOTES.get(request.status),
        "service_name": REQUEST_TYPE_LABELS[RequestType(request.type)],
        "service_code": request.type,
        "agency_responsible": authority,
        "service_notice": None,
        "requested_datetime": _iso(request.created_at),
        "updated_datetime": _iso(request.updated_at),
        "expected_datetime": _iso(request.sla_due_at),
        "address": f"Ward {ward}, {authority}" if ward else authority,
    }


def _date_arg(raw: str | None, name: str) -> datetime | None:
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise Open311Error(400, [f"{name} must be a W3C date-time, like 2026-11-05T08:15:30Z"]) from None
    if not 1900 <= moment.year <= 9998:
        # Year 1 or 9999 overflows the 90-day default range and the time-zone arithmetic (it was a 500).
        raise Open311Error(400, [f"{name} must be a date-time from the year 1900 to 9998, like 2026-11-05T08:15:30Z"])
    return times.from_wall_clock(moment)  # a date-time without a zone is the council's, as people write it


def find_requests(args: Mapping[str, str]) -> list[dict[str, Any]]:
    """GET requests.json: by ids, or by service_code, status and a date range (default: the last 90 days)."""
    query = select(HelpRequest).options(joinedload(HelpRequest.resident))
    ids = args.get("service_request_id")
    if ids:
        references = [normalise_reference(part) for part in ids.split(",")[:MAX_RESULTS]]
        query = query.where(HelpRequest.reference.in_([r for r in references if r]))
    else:
        codes = [c.strip() for c in args.get("service_code", "").split(",") if c.strip()]
        unknown = [c for c in codes if c not in values(RequestType)]
        if unknown:
            raise Open311Error(400, [f"No service with code {unknown[0][:40]}"])
        if codes:
            query = query.where(HelpRequest.type.in_(codes))
        statuses = {s.strip() for s in args.get("status", "").split(",") if s.strip()}
        if statuses - {"open", "closed"}:
            raise Open311Error(400, ["status must be open, closed, or both separated by a comma"])
        open_values = [s.value for s in OPEN_STATUSES]
        if statuses == {"open"}:
            query = query.where(HelpRequest.status.in_(open_values))
        elif statuses == {"closed"}:
            query = query.where(HelpRequest.status.not_in(open_values))
        end = _date_arg(args.get("end_date"), "end_date") or utcnow()
        start = _date_arg(args.get("start_date"), "start_date") or end - timedelta(days=DEFAULT_DAYS)
        if start > end:
            raise Open311Error(400, ["start_date must be before end_date"])
        query = query.where(HelpRequest.created_at >= start, HelpRequest.created_at <= end)
    query = query.order_by(HelpRequest.created_at.desc(), HelpRequest.id.desc()).limit(MAX_RESULTS)
    return [request_out(r) for r in db.session.scalars(query).unique()]


def one_request(reference: str) -> list[dict[str, Any]]:
    canonical = normalise_reference(reference)
    found = (
        db.session.scalar(
            select(HelpRequest).options(joinedload(HelpRequest.resident)).where(HelpRequest.reference == canonical)
        )
        if canonical
        else None
    )
    if found is None:
        raise Open311Error(404, [f"No service request with id {reference[:20]}"])
    return [request_out(found)]


_FIELD_NAMES = {
    "resident.name": "first_name",
    "resident.address_line1": "address_string",
    "resident.postcode": "address_string",
    "resident.phone": "phone",
    "resident.email": "email",
    "type": "service_code",
    "details": "description",
}


def submit(form: Mapping[str, str]) -> list[dict[str, Any]]:
    """POST requests.json (the API key already checked): a request from a civic app, created as `new`."""
    problems: list[str] = []
    code = (form.get("service_code") or "").strip()
    if not code:
        problems.append("service_code is required")
    name = " ".join(p for p in ((form.get("first_name") or "").strip(), (form.get("last_name") or "").strip()) if p)
    if not name:
        problems.append("first_name and last_name are required: we help a person, by name")
    address = (form.get("address_string") or "").strip()
    found = _POSTCODE_IN_TEXT.search(address.upper())
    if not address or found is None:
        problems.append("address_string is required and must end with a UK postcode, like '12 High Street, W6 9JU'")
    if problems:
        raise Open311Error(400, problems)
    assert found is not None
    postcode = found.group(0)
    street = address[: found.start()].strip(" ,") or address
    phone, email = (form.get("phone") or "").strip(), (form.get("email") or "").strip()
    resident = {
        "name": name,
        "address_line1": street[:120],
        "postcode": postcode,
        "phone": phone,
        "email": email,
        "preferred_channel": "phone" if phone else "email" if email else "letter",
    }
    request_data = {"type": code, "details": (form.get("description") or "").strip(), "urgency": 1}
    try:
        created = intake.submit(request_data, Actor(role="system"), Channel.OPEN311, resident_data=resident)
    except (FieldErrors, ValidationError) as exc:
        fields = exc.fields if isinstance(exc, FieldErrors) else {exc.field or "request": exc.message}
        raise Open311Error(400, [f"{_FIELD_NAMES.get(k, k)}: {m}" for k, m in fields.items()]) from None
    return [
        {
            "service_request_id": created.reference,
            "service_notice": "A coordinator will contact the resident",
            "account_id": None,
        }
    ]
