"""/api/v1 Track and Trace (coordinators with the tracing permission): cases, their contacts, interactions,
contact status, Test and Trace ids. Every read is audited by the services."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import url_for
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import fields, validate

from can_crm.access import tracers
from can_crm.api.v1.errors import documents
from can_crm.api.v1.schemas import MAX_ID, StrictSchema, _id, _text
from can_crm.models.tracing import ContactStatus, InteractionKind, OnsetKind, Setting
from can_crm.services.common.errors import NotFound
from can_crm.services.tracing import cases, interactions, isolation
from can_crm.services.tracing.cases import ContactView
from can_crm.services.tracing.people import Person, clean_person
from can_crm.services.tracing.trace import Link

blp = Blueprint("tracing", __name__, url_prefix="", description="Local Track and Trace")
TAGS = ["tracing"]


def _values(enum: Any) -> list[str]:
    return [e.value for e in enum]


class PersonRefSchema(StrictSchema):
    resident_id = _id("The resident (give this or volunteer_id)")
    volunteer_id = _id("The volunteer (give this or resident_id)")


class CaseInSchema(PersonRefSchema):
    onset = fields.String(required=True, metadata={"format": "date", "description": "Symptom onset or test date"})
    onset_kind = fields.String(
        allow_none=True, metadata={"enum": _values(OnsetKind), "description": "symptoms (default) or test"}
    )


class CreatedSchema(ma.Schema):
    id = fields.Integer()


class ContactArgsSchema(StrictSchema):
    degree = fields.Integer(
        load_default=2,
        validate=validate.OneOf([1, 2], error="degree must be 1 or 2"),
        metadata={"description": "1: people the case met; 2: also the people they met afterwards"},
    )


class PersonOutSchema(ma.Schema):
    class Meta:
        ordered = True

    resident_id = fields.Integer(allow_none=True)
    volunteer_id = fields.Integer(allow_none=True)


class InteractionOutSchema(ma.Schema):
    class Meta:
        ordered = True

    id = fields.Integer()
    person_a = fields.Nested(PersonOutSchema)
    person_b = fields.Nested(PersonOutSchema)
    occurred_at = fields.DateTime()
    duration_minutes = fields.Integer()
    setting = fields.String(metadata={"enum": _values(Setting)})
    kind = fields.String(metadata={"enum": _values(InteractionKind)})


class ContactOutSchema(ma.Schema):
    class Meta:
        ordered = True

    id = fields.Integer(metadata={"description": "The contact, for POST /contacts/{id}/status"})
    resident_id = fields.Integer(allow_none=True)
    volunteer_id = fields.Integer(allow_none=True)
    degree = fields.Integer(metadata={"enum": [1, 2]})
    exposure = fields.String(
        metadata={"enum": _values(Setting), "description": "The closest setting they met in (inside > doorstep)"}
    )
    exposure_minutes = fields.Integer(metadata={"description": "Minutes together over the linking interactions"})
    first_exposed_at = fields.DateTime()
    status = fields.String(metadata={"enum": _values(ContactStatus)})
    isolating_until = fields.Date(allow_none=True)
    via = fields.List(fields.Nested(PersonOutSchema), metadata={"description": "Degree 2: who linked them"})
    interactions = fields.List(fields.Nested(InteractionOutSchema))


class ContactsOutSchema(ma.Schema):
    class Meta:
        ordered = True

    case_id = fields.Integer()
    degree = fields.Integer()
    window_start = fields.Date()
    window_end = fields.Date()
    contacts = fields.List(fields.Nested(ContactOutSchema), metadata={"description": "Ranked: degree, then exposure"})


class InteractionInSchema(StrictSchema):
    person_a = fields.Nested(PersonRefSchema, required=True)
    person_b = fields.Nested(PersonRefSchema, required=True)
    occurred_at = fields.String(
        required=True, metadata={"format": "date-time", "description": "When they met (UTC if no offset)"}
    )
    duration_minutes = fields.Integer(strict=True, required=True, metadata={"minimum": 1, "maximum": 1440})
    setting = fields.String(required=True, metadata={"enum": _values(Setting)})
    kind = fields.String(allow_none=True, metadata={"enum": _values(InteractionKind)})
    notes = _text(1000, "Notes")


class StatusInSchema(StrictSchema):
    status = fields.String(required=True, metadata={"enum": list(isolation.SETTABLE)})
    until = fields.String(allow_none=True, metadata={"format": "date", "description": "Isolating: the last day"})
    support = fields.List(
        fields.String(metadata={"enum": list(isolation.SUPPORT_TYPES)}),
        allow_none=True,
        metadata={"description": "Isolating resident: the support to create requests for (default: both)"},
    )


class StatusOutSchema(ma.Schema):
    class Meta:
        ordered = True

    id = fields.Integer()
    status = fields.String()
    isolating_until = fields.Date(allow_none=True)
    requests = fields.List(
        fields.String(), metadata={"description": "References of requests created or returned to triage"}
    )


class IdentityInSchema(PersonRefSchema):
    test_and_trace_id = fields.String(required=True, metadata={"maxLength": 20})


def _person(person: Person) -> dict[str, int | None]:
    return {"resident_id": person.resident_id, "volunteer_id": person.volunteer_id}


def _link(link: Link) -> dict[str, Any]:
    return {
        "id": link.id,
        "person_a": _person(link.a),
        "person_b": _person(link.b),
        "occurred_at": link.occurred_at,
        "duration_minutes": link.duration_minutes,
        "setting": link.setting,
        "kind": link.kind,
    }


def contact_out(view: ContactView) -> dict[str, Any]:
    row, traced = view.row, view.traced
    return {
        "id": row.id,
        "resident_id": row.resident_id,
        "volunteer_id": row.volunteer_id,
        "degree": traced.degree,
        "exposure": traced.exposure,
        "exposure_minutes": traced.minutes,
        "first_exposed_at": traced.first_exposed_at,
        "status": row.status,
        "isolating_until": row.isolating_until,
        "via": [_person(p) for p in traced.via],
        "interactions": [_link(link) for link in traced.links],
    }


def _checked(value: int, what: str) -> int:
    if value > MAX_ID:
        raise NotFound(f"No {what} with that id")
    return value


@blp.route("/cases", methods=["POST"], tags=TAGS)
@tracers
@blp.arguments(CaseInSchema)
@blp.response(201, CreatedSchema, description="Created; Location names its contacts")
@documents(blp, 400, 401, 403, 415, 422)
def create_case(data: dict[str, Any]) -> Any:
    """Record a case: a resident or volunteer with symptoms or a positive test"""
    case = cases.create_case(data, current_user.id)
    location = url_for("api_v1.tracing.case_contacts", case_id=case.id, _external=True)
    return {"id": case.id}, 201, {"Location": location}


@blp.route("/cases/<int:case_id>/contacts", methods=["GET"], tags=TAGS)
@tracers
@blp.arguments(ContactArgsSchema, location="query")
@blp.response(200, ContactsOutSchema)
@documents(blp, 401, 403, 404, 422)
def case_contacts(args: dict[str, Any], case_id: int) -> Any:
    """Everyone the case met in its infectious window (and, at degree 2, whom they met), ranked by exposure"""
    case = cases.get_case(_checked(case_id, "case"), current_user.id)
    views = cases.contacts_of(case, args["degree"], current_user.id)
    first_day, last_day = cases.window().days(case.onset)
    return {
        "case_id": case.id,
        "degree": args["degree"],
        "window_start": first_day,
        "window_end": last_day,
        "contacts": [contact_out(v) for v in views],
    }


@blp.route("/interactions", methods=["POST"], tags=TAGS)
@tracers
@blp.arguments(InteractionInSchema)
@blp.response(201, CreatedSchema)
@documents(blp, 400, 401, 403, 415, 422)
def create_interaction(data: dict[str, Any]) -> Any:
    """Record a meeting between two people (household, hub shift, befriending visit...)"""
    interaction = interactions.record_interaction(data, current_user.id)
    return {"id": interaction.id}, 201


@blp.route("/contacts/<int:contact_id>/status", methods=["POST"], tags=TAGS)
@tracers
@blp.arguments(StatusInSchema)
@blp.response(200, StatusOutSchema)
@documents(blp, 400, 401, 403, 404, 409, 415, 422)
def set_contact_status(data: dict[str, Any], contact_id: int) -> Any:
    """Set a contact's status: notified, isolating until a day (takes effect at once), or released"""
    contact = cases.get_contact(_checked(contact_id, "contact"))
    changed = isolation.set_status(contact, data, current_user.id)
    return {
        "id": contact.id,
        "status": contact.status,
        "isolating_until": contact.isolating_until,
        "requests": [r.reference for r in changed],
    }


@blp.route("/test-and-trace-ids", methods=["POST"], tags=TAGS)
@tracers
@blp.arguments(IdentityInSchema)
@blp.response(200, CreatedSchema)
@documents(blp, 400, 401, 403, 415, 422)
def set_test_and_trace_id(data: dict[str, Any]) -> Any:
    """Record a person's NHS Test and Trace id"""
    person = clean_person({k: data.get(k) for k in ("resident_id", "volunteer_id")}, "")
    identity = cases.set_test_and_trace_id(person, data.get("test_and_trace_id"), current_user.id)
    return {"id": identity.id}
