"""The JSON Schema of a `can-handoff/1` bundle: published at /api/v1/schemas/can-handoff-1.json, and what the inbox
and a file import check every bundle against before anything else."""

from __future__ import annotations

from functools import cache
from typing import Any

from jsonschema import Draft202012Validator

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

FORMAT = "can-handoff/1"
SCHEMA_ID = "https://can-crm.example/schemas/can-handoff-1.json"
# What a bundle discloses about a person, for the data-sharing log (the resident block's categories).
DATA_CATEGORIES = "request and its history; resident name, contact details, address, needs, consent, language"

_GSS = {"type": "string", "pattern": "^[ENSW][0-9]{8}$"}
_TIME = {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"}
_DATE = {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
_REFERENCE = {"type": "string", "pattern": "^CAN-[0-9A-Z]{4}-[0-9A-Z]{4}$"}
_CLOCK_OR_NULL = {"anyOf": [{"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"}, {"type": "null"}]}


def _text(max_length: int, *, nullable: bool = False, min_length: int = 0) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": ["string", "null"] if nullable else "string", "maxLength": max_length}
    if min_length:
        schema["minLength"] = min_length
    return schema


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": required if required is not None else sorted(properties),
        "properties": properties,
    }


_AUTHORITY = _object({"gss_code": _GSS, "name": _text(120, min_length=1)})
_STATUS_OR_NULL = {"enum": [*values(Status), None]}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": SCHEMA_ID,
    "title": "CAN CRM handoff bundle, version 1",
    "description": (
        "A request for help and the minimum data about the resident that the receiving authority needs, handed from "
        "one authority to another under a data-sharing agreement. Signed with Ed25519 over the RFC 8785 canonical "
        "JSON of the bundle without its `signature` member."
    ),
    **_object(
        {
            "format": {"const": FORMAT},
            "bundle_id": {
                "type": "string",
                "pattern": "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
            },
            "created_at": _TIME,
            "expires_at": _TIME,
            "sender": _AUTHORITY,
            "receiver": _AUTHORITY,
            "reason": _text(2000, min_length=1),
            "agreement": _object(
                {"reference": _text(120, min_length=1), "lawful_basis": {"enum": values(LawfulBasis)}}
            ),
            "request": _object(
                {
                    "reference": _REFERENCE,
                    "type": {"enum": values(RequestType)},
                    "need": _text(2000),
                    "urgency": {"type": "integer", "minimum": 1, "maximum": 3},
                    "due_by": {"anyOf": [_DATE, {"type": "null"}]},
                    "required_skills": {
                        "type": "array",
                        "items": {"enum": sorted(SKILLS)},
                        "uniqueItems": True,
                        "maxItems": len(SKILLS),
                    },
                    "min_dbs": {"enum": values(DbsLevel)},
                    "recurrence": {"enum": values(Recurrence)},
                    "raised_at": _TIME,
                    "history": {
                        "type": "array",
                        "maxItems": 500,
                        "items": _object(
                            {
                                "at": _TIME,
                                "kind": _text(20, min_length=1),
                                "from": _STATUS_OR_NULL,
                                "to": _STATUS_OR_NULL,
                            }
                        ),
                    },
                    "notes_for_receiver": _text(2000, nullable=True),
                    # A food parcel's: how many, and when the resident can take them (the window's hours at the
                    # sender, null for any time). Optional: bundles of other requests, and older ones, have none.
                    "delivery": _object(
                        {
                            "parcels": {"type": "integer", "minimum": 1, "maximum": MAX_PARCELS},
                            "delivery_window": {"enum": values(DeliveryWindow)},
                            "delivery_from": _CLOCK_OR_NULL,
                            "delivery_to": _CLOCK_OR_NULL,
                        }
                    ),
                },
                required=[
                    "due_by",
                    "history",
                    "min_dbs",
                    "need",
                    "notes_for_receiver",
                    "raised_at",
                    "recurrence",
                    "reference",
                    "required_skills",
                    "type",
                    "urgency",
                ],
            ),
            "resident": _object(
                {
                    "name": _text(120, min_length=1),
                    "address_line1": _text(120, min_length=1),
                    "address_line2": _text(120, nullable=True),
                    "town": _text(60, nullable=True),
                    "postcode": _text(8, min_length=5),
                    "phone": _text(20, nullable=True),
                    "email": _text(254, nullable=True),
                    "preferred_channel": {"enum": values(ContactChannel)},
                    "language": _text(40, min_length=1),
                    "accessibility_needs": _text(1000, nullable=True),
                    "vulnerabilities": _text(2000, nullable=True),
                    "shielding": {"type": "boolean"},
                    "consent_given": {"type": "boolean"},
                    "lawful_basis": {"enum": values(LawfulBasis)},
                }
            ),
            "signature": _object(
                {
                    "algorithm": {"const": "Ed25519"},
                    "key_id": {"type": "string", "pattern": "^[0-9a-f]{16}$"},
                    "value": {"type": "string", "pattern": "^[A-Za-z0-9_-]{86}$"},
                }
            ),
        },
    ),
}


@cache
def validator() -> Draft202012Validator:
    Draft202012Validator.check_schema(SCHEMA)
    return Draft202012Validator(SCHEMA)


def problems(bundle: Any) -> dict[str, str]:
    """Each place the bundle breaks the schema, keyed by its JSON path ("resident.postcode"), first few only."""
    found: dict[str, str] = {}
    for error in sorted(validator().iter_errors(bundle), key=lambda e: list(map(str, e.absolute_path))):
        path = ".".join(str(p) for p in error.absolute_path) or "bundle"
        found.setdefault(path, error.message[:200])
        if len(found) >= 10:
            break
    return found
