"""Request and response shapes of the API (marshmallow), which also generate the OpenAPI document.

Input schemas check the JSON *shape* only: types, required keys, unknown keys, null. The rules on the
values (length, postcode, phone, NHS number, enums, dates, HTML) live in the services, so the forms and
the API refuse the same things with the same words. Enums and lengths are still documented here.
"""

from __future__ import annotations

import unicodedata
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from can_crm.models.enums import (
    SKILLS,
    ContactChannel,
    DbsLevel,
    DeliveryWindow,
    LawfulBasis,
    Recurrence,
    RequestType,
    Status,
    values,
)
from can_crm.models.request import MAX_PARCELS
from can_crm.services.common import ids

STATUSES = values(Status)


def _text(max_length: int, description: str, *, required: bool = False, nullable: bool = True) -> fields.String:
    return fields.String(
        required=required,
        allow_none=nullable and not required,
        metadata={"maxLength": max_length, "description": description},
    )


def _choice(options: list[str], description: str, *, required: bool = False) -> fields.String:
    return fields.String(
        required=required, allow_none=not required, metadata={"enum": options, "description": description}
    )


class StrictBoolean(fields.Boolean):
    """JSON true/false only: "yes" or 1 is a type error, not a guess (1 == True in Python, hence the type check)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if type(value) is not bool:
            raise self.make_error("invalid", input=value)
        return value


def _flag(description: str) -> fields.Boolean:
    return StrictBoolean(allow_none=True, metadata={"description": description})


# Ids are PostgreSQL integers: a bigger number is refused here rather than overflowing in the database.
MAX_ID = ids.MAX_ID


def _id(description: str, *, required: bool = False) -> fields.Integer:
    return fields.Integer(
        strict=True,
        required=required,
        validate=validate.Range(min=1, max=MAX_ID, error="{input} is not an id (1 to {max})"),
        metadata={"description": description},
    )


class QueryText(fields.String):
    """A query-string value: bounded, and no control characters (PostgreSQL refuses NUL in text)."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"maxLength": 100, "pattern": r"^[^\u0000-\u001f\u007f-\u009f]*$", **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if len(text) > 100 or any(unicodedata.category(ch) == "Cc" for ch in text):
            raise ma.ValidationError(f"{attr} must be 100 characters or fewer, with no control characters")
        return text


class StrictSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE
        ordered = True


# Inputs ------------------------------------------------------------------------------------------


class ResidentInSchema(StrictSchema):
    name = fields.String(required=True, metadata={"maxLength": 120, "minLength": 1, "description": "Full name"})
    address = _text(120, "First line of the address (same as address_line1; send one of them)")
    address_line1 = _text(120, "First line of the address")
    address_line2 = _text(120, "Second line of the address")
    town = _text(60, "Town or city")
    postcode = fields.String(
        required=True, metadata={"maxLength": 8, "description": "UK postcode", "example": "W6 9JU"}
    )
    phone = _text(20, "UK phone number, e.g. 07911 123456; needed when preferred_channel is phone or sms")
    email = _text(254, "Email address; needed when preferred_channel is email")
    preferred_channel = _choice(values(ContactChannel), "How to contact the resident (default phone)")
    language = _text(40, "Preferred language (default English)")
    accessibility_needs = _text(1000, "Accessibility needs")
    shielding = _flag("Clinically extremely vulnerable / shielding")
    vulnerabilities = _text(2000, "Needs and vulnerabilities (special-category data)")
    nhs_number = _text(12, "NHS number, 10 digits with a valid check digit")
    consent_given = _flag("The resident agreed to their details being used to arrange help")
    lawful_basis = _choice(values(LawfulBasis), "UK GDPR lawful basis for processing (default public_task)")


class ResidentPatchSchema(ResidentInSchema):
    """Every field optional: only the fields sent are validated and changed."""

    name = _text(120, "Full name", nullable=False)
    postcode = fields.String(metadata={"maxLength": 8, "description": "UK postcode"})


def _parcels() -> fields.Integer:
    return fields.Integer(
        strict=True,
        allow_none=True,
        metadata={"minimum": 1, "maximum": MAX_PARCELS, "description": "Food parcels only: how many (default 1)"},
    )


def _window() -> fields.String:
    return _choice(
        values(DeliveryWindow),
        "Food parcels only: when the resident can take delivery (default any). The hours of morning, afternoon "
        "and evening are configured (DELIVERY_WINDOWS); between needs delivery_from and delivery_to",
    )


def _time(example: str) -> fields.String:
    return fields.String(
        allow_none=True,
        metadata={"example": example, "description": "With delivery_window between: a time of day, HH:MM"},
    )


class RequestInSchema(StrictSchema):
    resident = fields.Nested(
        ResidentInSchema, metadata={"description": "A new resident's details. Send this or resident_id, not both"}
    )
    resident_id = _id("An existing resident (coordinators; partners and councillors: one they raised a request for)")
    type = _choice(values(RequestType), "What help is needed", required=True)
    urgency = fields.Integer(
        strict=True,
        allow_none=True,
        metadata={"enum": [1, 2, 3], "description": "1 routine (default), 2 soon, 3 urgent"},
    )
    details = _text(2000, "What is needed")
    due_by = fields.String(allow_none=True, metadata={"format": "date", "description": "YYYY-MM-DD, within a year"})
    volunteer_notes = _text(1000, "What the volunteer should know")
    recurrence = _choice(values(Recurrence), "How often (default none)")
    required_skills = fields.List(fields.String(metadata={"enum": sorted(SKILLS)}), allow_none=True)
    min_dbs = _choice(values(DbsLevel), "The DBS level the volunteer needs (default none)")
    parcels = _parcels()
    delivery_window = _window()
    delivery_from = _time("14:00")
    delivery_to = _time("16:30")

    @ma.validates_schema
    def _one_resident(self, data: dict[str, Any], **kwargs: Any) -> None:
        if ("resident" in data) == ("resident_id" in data):
            raise ma.ValidationError(
                "Send the resident's details in resident, or resident_id for a known resident (exactly one)",
                "resident",
            )


class TransitionInSchema(StrictSchema):
    to = fields.String(
        required=True,
        validate=validate.OneOf(STATUSES, error="to must be a request status: {choices}"),
        metadata={"description": "The status to move to"},
    )
    reason = _text(2000, "Why (required for cancelled, unable_to_fulfil, handed_off, escalated and returns)")


class TriageInSchema(StrictSchema):
    urgency = fields.Integer(strict=True, metadata={"enum": [1, 2, 3]})
    required_skills = fields.List(fields.String(metadata={"enum": sorted(SKILLS)}))
    due_by = fields.String(allow_none=True, metadata={"format": "date"})
    min_dbs = _choice(values(DbsLevel), "The DBS level the volunteer needs")
    details = _text(2000, "What is needed")
    coordinator_notes = _text(2000, "Notes for coordinators (not shown to partners)")
    parcels = _parcels()
    delivery_window = _window()
    delivery_from = _time("14:00")
    delivery_to = _time("16:30")


class LocationInSchema(StrictSchema):
    nearby_postcode = _text(8, "A nearby postcode that the postcode directory lists")
    lat = fields.Float(allow_none=True, metadata={"description": "Latitude (WGS84) of the address"})
    lon = fields.Float(allow_none=True, metadata={"description": "Longitude (WGS84) of the address"})


class AssignInSchema(StrictSchema):
    volunteer_id = _id("The volunteer to propose", required=True)


class PageArgsSchema(ma.Schema):
    page = fields.Integer(
        load_default=1, validate=validate.Range(min=1, max=100_000, error="page must be between 1 and 100000")
    )
    per_page = fields.Integer(
        load_default=25, validate=validate.Range(min=1, max=100, error="per_page must be between 1 and 100")
    )


class RequestListArgsSchema(PageArgsSchema):
    status = QueryText(
        metadata={"enum": [*STATUSES, "open"], "description": "Default: the open statuses (not finished)"}
    )
    type = QueryText(metadata={"enum": values(RequestType)})
    urgency = QueryText(metadata={"enum": ["1", "2", "3"]})
    overdue = fields.Boolean(metadata={"description": "Only open requests past their SLA"})
    ward = QueryText(metadata={"description": "ONS ward code of the resident"})
    search = QueryText(
        metadata={
            "description": "Key from POST /api/v1/searches (scope requests): reference, name or postcode contains"
        }
    )
    q = QueryText(metadata={"description": "Refused: search terms never go in a URL (use `search`)"})


class ResidentListArgsSchema(PageArgsSchema):
    search = QueryText(
        metadata={"description": "Key from POST /api/v1/searches (scope residents): name or postcode contains"}
    )
    q = QueryText(metadata={"description": "Refused: search terms never go in a URL (use `search`)"})


# Outputs -----------------------------------------------------------------------------------------


class ResidentOutSchema(ma.Schema):
    """Coordinators get every field; partners and councillors only name and postcode."""

    class Meta:
        ordered = True

    id = fields.Integer()
    name = fields.String()
    address_line1 = fields.String()
    address_line2 = fields.String(allow_none=True)
    town = fields.String(allow_none=True)
    postcode = fields.String()
    ward_code = fields.String(allow_none=True)
    location_known = fields.Boolean(
        metadata={
            "description": "False when the postcode is real but our postcode directory does not list it yet: the "
            "request is accepted and flagged, and a coordinator sets the location before matching"
        }
    )
    location_source = fields.String(
        allow_none=True, metadata={"enum": ["postcode", "nearby_postcode", "coordinates"], "description": "How"}
    )
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    preferred_channel = fields.String()
    language = fields.String()
    accessibility_needs = fields.String(allow_none=True)
    shielding = fields.Boolean()
    vulnerabilities = fields.String(allow_none=True)
    nhs_number = fields.String(allow_none=True)
    consent_given = fields.Boolean()
    lawful_basis = fields.String()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class EventOutSchema(ma.Schema):
    class Meta:
        ordered = True

    at = fields.DateTime()
    kind = fields.String()
    from_status = fields.String(data_key="from", allow_none=True)
    to_status = fields.String(data_key="to", allow_none=True)
    reason = fields.String(
        allow_none=True, metadata={"description": "Partners and councillors see only the reasons they gave"}
    )
    actor_role = fields.String()


class LinksSchema(ma.Schema):
    self = fields.String()


class RequestOutSchema(ma.Schema):
    class Meta:
        ordered = True

    reference = fields.String(metadata={"example": "CAN-7KQ2-94XD"})
    status = fields.String(metadata={"enum": STATUSES})
    type = fields.String(metadata={"enum": values(RequestType)})
    urgency = fields.Integer()
    details = fields.String()
    volunteer_notes = fields.String(allow_none=True)
    coordinator_notes = fields.String(allow_none=True, metadata={"description": "Coordinators only"})
    required_skills = fields.List(fields.String())
    min_dbs = fields.String()
    due_by = fields.Date(allow_none=True)
    parcels = fields.Integer(allow_none=True, metadata={"description": "Food parcels: how many; null otherwise"})
    delivery_window = fields.String(
        allow_none=True,
        metadata={"enum": values(DeliveryWindow), "description": "Food parcels: when delivery can be; null otherwise"},
    )
    delivery_from = fields.String(
        allow_none=True, metadata={"description": "The window's first time, HH:MM (null for any time)"}
    )
    delivery_to = fields.String(
        allow_none=True, metadata={"description": "The window's last time, HH:MM (null for any time)"}
    )
    sla_due_at = fields.DateTime()
    overdue = fields.Boolean()
    recurrence = fields.String()
    channel = fields.String()
    volunteer_id = fields.Integer(allow_none=True, metadata={"description": "Coordinators only"})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    delivered_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    resident = fields.Nested(ResidentOutSchema)
    allowed_transitions = fields.List(fields.String(), metadata={"description": "Statuses the caller may move it to"})
    links = fields.Nested(LinksSchema)


class HandoffOutSchema(ma.Schema):
    class Meta:
        ordered = True

    bundle_id = fields.String()
    direction = fields.String(metadata={"enum": ["out", "in"], "description": "out: we handed it; in: handed to us"})
    state = fields.String(metadata={"enum": ["queued", "acknowledged", "rejected", "failed", "exported", "received"]})
    channel = fields.String(metadata={"enum": ["http", "file"]})
    partner_gss = fields.String()
    partner_name = fields.String()
    partner_reference = fields.String(allow_none=True, metadata={"description": "The other authority's reference"})
    rejection_reason = fields.String(allow_none=True)
    attempts = fields.Integer()
    next_attempt_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    answered_at = fields.DateTime(allow_none=True)


class RequestDetailSchema(RequestOutSchema):
    events = fields.List(fields.Nested(EventOutSchema), metadata={"description": "The history, oldest first"})
    handoffs = fields.List(
        fields.Nested(HandoffOutSchema),
        metadata={"description": "Coordinators only: handoffs to or from other authorities, oldest first"},
    )


class PageLinksSchema(ma.Schema):
    self = fields.String()
    first = fields.String()
    last = fields.String()
    next = fields.String(allow_none=True)
    prev = fields.String(allow_none=True)


class _PageSchema(ma.Schema):
    class Meta:
        ordered = True

    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()
    links = fields.Nested(PageLinksSchema)


class RequestPageSchema(_PageSchema):
    items = fields.List(fields.Nested(RequestOutSchema))


class ResidentPageSchema(_PageSchema):
    items = fields.List(fields.Nested(ResidentOutSchema))


class JobOutSchema(ma.Schema):
    class Meta:
        ordered = True

    id = fields.Integer()
    name = fields.String()
    state = fields.String(metadata={"enum": ["queued", "running", "succeeded", "failed"]})
    progress = fields.Integer(metadata={"description": "0 to 100"})
    message = fields.String(attribute="progress_message", allow_none=True)
    result = fields.Dict(allow_none=True)
    created_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)


class ErrorBodySchema(ma.Schema):
    code = fields.String(metadata={"example": "validation_failed"})
    message = fields.String()
    field_messages = fields.Dict(
        data_key="fields",
        keys=fields.String(),
        values=fields.String(),
        metadata={"description": "Message per field, keyed by its JSON path, e.g. resident.postcode"},
    )


class ErrorSchema(ma.Schema):
    error = fields.Nested(ErrorBodySchema)
