"""Shapes of the volunteer APIs: coordinators managing volunteers, and a volunteer's own offers and tasks."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields

from can_crm.api.v1.schemas import PageArgsSchema, QueryText, StrictBoolean, StrictSchema, _choice, _PageSchema, _text
from can_crm.models.enums import (
    NOT_DELIVERED_REASONS,
    SKILLS,
    DbsLevel,
    OffersBy,
    ProgressStep,
    Transport,
    VolunteerStatus,
    values,
)

_DAYS = "mon, tue, wed, thu, fri, sat, sun"
OFFERS_BY_HELP = (
    "How offers reach them: web (the volunteer app, the default) or sms (a text message answered YES or NO; "
    "needs a mobile phone number)"
)


class VolunteerInSchema(StrictSchema):
    name = fields.String(required=True, metadata={"maxLength": 120, "minLength": 1, "description": "Full name"})
    email = _text(254, "Email address; an existing volunteer account with this email is linked to the profile")
    phone = _text(20, "UK phone number")
    postcode = fields.String(required=True, metadata={"maxLength": 8, "description": "Home postcode (a location)"})
    max_km = fields.Float(allow_none=True, metadata={"description": "How far they travel, 0.1 to 100 km"})
    capacity = fields.Integer(strict=True, allow_none=True, metadata={"description": "Most tasks at once, 1 to 20"})
    max_per_day = fields.Integer(
        strict=True, allow_none=True, metadata={"description": "Most tasks in a day, 1 to 20; null: no daily limit"}
    )
    skills = fields.List(fields.String(metadata={"enum": sorted(SKILLS)}), allow_none=True)
    dbs_level = _choice(values(DbsLevel), "DBS check level (default none)")
    dbs_checked_on = fields.String(
        allow_none=True, metadata={"format": "date", "description": "DBS certificate date, YYYY-MM-DD"}
    )
    transport = _choice(values(Transport), "How they travel")
    offers_by = _choice(values(OffersBy), OFFERS_BY_HELP)
    availability = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        allow_none=True,
        metadata={"description": f"Days ({_DAYS}) to lists of morning, afternoon, evening"},
    )
    organisation = _text(120, "Organisation they volunteer with")


class OrganisationPersonInSchema(StrictSchema):
    """A partner organisation adds one of its people: the public sign-up's fields (no vetting, no DBS)."""

    name = fields.String(required=True, metadata={"maxLength": 120, "minLength": 1, "description": "Full name"})
    email = fields.String(
        required=True, metadata={"maxLength": 254, "description": "Email address: their invitation goes here"}
    )
    phone = _text(20, "UK mobile number (an invitation goes by text message when given)")
    postcode = fields.String(required=True, metadata={"maxLength": 8, "description": "Home postcode (a location)"})
    max_km = fields.Float(required=True, metadata={"description": "How far they travel, 0.1 to 100 km"})
    capacity = fields.Integer(strict=True, required=True, metadata={"description": "Most tasks at once, 1 to 20"})
    max_per_day = fields.Integer(
        strict=True, allow_none=True, metadata={"description": "Most tasks in a day, 1 to 20; null: no daily limit"}
    )
    skills = fields.List(fields.String(metadata={"enum": sorted(SKILLS)}), allow_none=True)
    transport = _choice(values(Transport), "How they travel")
    offers_by = _choice(values(OffersBy), OFFERS_BY_HELP)
    availability = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        allow_none=True,
        metadata={"description": f"Days ({_DAYS}) to lists of morning, afternoon, evening"},
    )


class OrganisationPersonOutSchema(ma.Schema):
    """What an organisation sees of its people: no DBS certificate, no vetting notes, no home postcode."""

    id = fields.Integer()
    name = fields.String()
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": values(VolunteerStatus)})
    identity_checked = fields.Boolean()
    references_checked = fields.Boolean()
    training_done = fields.Boolean()
    has_dbs_check = fields.Boolean(metadata={"description": "A DBS check is recorded (its details are not shown)"})
    added_on = fields.Date()
    account_ready = fields.Boolean(metadata={"description": "They set their password from the invitation"})


class OrganisationPeopleSchema(ma.Schema):
    items = fields.List(fields.Nested(OrganisationPersonOutSchema))


class VolunteerPatchSchema(VolunteerInSchema):
    """Every field optional: only the fields sent are validated and changed."""

    name = _text(120, "Full name", nullable=False)
    postcode = fields.String(metadata={"maxLength": 8, "description": "Home postcode"})


class VettingInSchema(StrictSchema):
    decision = fields.String(required=True, metadata={"enum": ["approved", "rejected"]})
    reason = _text(2000, "Why (required when rejected)")
    identity_checked = StrictBoolean(allow_none=True, metadata={"description": "Identity seen (needed to approve)"})
    references_checked = StrictBoolean(allow_none=True, metadata={"description": "References taken up"})
    training_done = StrictBoolean(allow_none=True, metadata={"description": "Training done"})
    dbs_level = _choice(values(DbsLevel), "DBS check level")
    dbs_certificate_number = _text(20, "DBS certificate number")
    dbs_checked_on = fields.String(allow_none=True, metadata={"format": "date", "description": "YYYY-MM-DD"})


class VolunteerListArgsSchema(PageArgsSchema):
    class Meta:
        unknown = ma.RAISE

    email = QueryText(metadata={"description": "Exact email address"})
    status = fields.String(metadata={"enum": values(VolunteerStatus)})


class VolunteerOutSchema(ma.Schema):
    id = fields.Integer()
    user_id = fields.Integer(allow_none=True)
    name = fields.String()
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    postcode = fields.String()
    max_km = fields.Float()
    capacity = fields.Integer()
    max_per_day = fields.Integer(allow_none=True)
    skills = fields.List(fields.String())
    dbs_level = fields.String()
    dbs_checked_on = fields.Date(allow_none=True)
    transport = fields.String(allow_none=True)
    offers_by = fields.String(metadata={"enum": values(OffersBy)})
    availability = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))
    organisation = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": values(VolunteerStatus)})
    identity_checked = fields.Boolean()
    references_checked = fields.Boolean()
    training_done = fields.Boolean()
    vetted_at = fields.DateTime(allow_none=True)


class VolunteerListSchema(_PageSchema):
    items = fields.List(fields.Nested(VolunteerOutSchema))


class OfferOutSchema(ma.Schema):
    """Before acceptance: never the resident's name, address or phone."""

    reference = fields.String()
    type = fields.String()
    type_label = fields.String()
    urgency = fields.Integer()
    due_by = fields.Date(allow_none=True)
    sla_due_at = fields.DateTime()
    district = fields.String(metadata={"description": "Postcode district, e.g. W6"})
    distance_km = fields.Float(allow_none=True, metadata={"description": "From the volunteer's home"})
    required_skills = fields.List(fields.String())


class OfferListSchema(ma.Schema):
    items = fields.List(fields.Nested(OfferOutSchema))


class DeclineInSchema(StrictSchema):
    reason = _text(500, "Why (optional)")


class TaskOutSchema(ma.Schema):
    reference = fields.String()
    type = fields.String()
    type_label = fields.String()
    status = fields.String()
    urgency = fields.Integer()
    due_by = fields.Date(allow_none=True)
    name = fields.String()
    address = fields.String()
    postcode = fields.String()
    phone = fields.String(allow_none=True)
    details = fields.String()
    volunteer_notes = fields.String(allow_none=True)
    maps_url = fields.String()
    last_step = fields.String(allow_none=True)
    delivered_at = fields.DateTime(allow_none=True)
    welfare_check = fields.Boolean(metadata={"description": "The visit overran: please say you are OK"})


class TaskListSchema(ma.Schema):
    items = fields.List(fields.Nested(TaskOutSchema))


class ProgressInSchema(StrictSchema):
    step = fields.String(required=True, metadata={"enum": values(ProgressStep)})
    reason = fields.String(
        allow_none=True, metadata={"enum": list(NOT_DELIVERED_REASONS), "description": "For could_not_deliver"}
    )
    idempotency_key = fields.String(
        required=True,
        metadata={"maxLength": 64, "description": "Unique per update; the same key again returns the first answer"},
    )


class ProgressOutSchema(ma.Schema):
    reference = fields.String()
    step = fields.String()
    status = fields.String(metadata={"description": "The request's status after the step"})
    replayed = fields.Boolean(metadata={"description": "True when this key was seen before: nothing changed"})


class ClaimOutSchema(ma.Schema):
    reference = fields.String()
    status = fields.String()
