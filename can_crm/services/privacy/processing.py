"""The record of processing activities (UK GDPR Art. 30), generated from the configuration and the models:
who the controller is, each purpose with its lawful basis, the categories of data (from the columns marked
personal), recipients, and the retention schedule actually applied."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app

from can_crm.services.privacy import catalogue, retention

PURPOSES = (
    {
        "purpose": "Arranging help for residents who ask (requests, matching, delivery)",
        "basis": "Public task (Art. 6(1)(e)); health data: Art. 9(2)(g) substantial public interest, DPA 2018 Sch. 1",
        "subjects": "Residents asking for help",
        "recipients": "Council coordinators; the volunteer matched (name, address, request only); partners and "
        "councillors for requests they raised (name and postcode only)",
    },
    {
        "purpose": "Managing volunteers (vetting, availability, matching)",
        "basis": "Consent (Art. 6(1)(a)); DBS level: Art. 10 with DPA 2018 Sch. 1 Part 2",
        "subjects": "Volunteers",
        "recipients": "Council coordinators",
    },
    {
        "purpose": "Safeguarding",
        "basis": "Vital interests / public task; Art. 9(2)(g), DPA 2018 Sch. 1 para. 18",
        "subjects": "Residents at risk",
        "recipients": "Coordinators; the council's safeguarding team",
    },
    {
        "purpose": "Security and accountability (audit log, sign-in)",
        "basis": "Legal obligation (Art. 5(2), Art. 32)",
        "subjects": "Staff, partners, councillors, volunteers",
        "recipients": "Administrators",
    },
)


@dataclass(frozen=True)
class ProcessingRecord:
    controller: str
    dpo: str
    purposes: tuple[dict[str, str], ...]
    categories: dict[str, list[str]]
    retention: dict[str, int]
    security: list[str]

    def as_json(self) -> dict[str, Any]:
        return {
            "controller": self.controller,
            "dpo": self.dpo,
            "purposes": list(self.purposes),
            "categories": self.categories,
            "retention_days": self.retention,
            "security": self.security,
        }


def record() -> ProcessingRecord:
    config = current_app.config
    categories = {
        t.name: [c.name for c in catalogue.personal_columns(t)]
        for t in catalogue.tables()
        if catalogue.personal_columns(t)
    }
    return ProcessingRecord(
        controller=config.get("CONTROLLER_NAME") or f"{config['AUTHORITY_NAME']} Council",
        dpo=config.get("DPO_CONTACT") or "The council's Data Protection Officer",
        purposes=PURPOSES,
        categories=categories,
        retention=retention.schedule(),
        security=[
            "Two-factor sign-in (TOTP) for every staff role; recovery codes; admin reset is audited",
            f"Sessions end after {config['SESSION_IDLE_MINUTES']} minutes idle and "
            f"{config['SESSION_ABSOLUTE_HOURS']} hours in all",
            "API tokens are scoped, expire, and can be listed and revoked",
            "Every view, search and export of a resident's record is in the audit log; unusual volumes are flagged",
            "No personal data in URLs, logs or job arguments; pages with personal data are not cached",
            "Erasure by anonymisation; PostgreSQL tables vacuumed, SQLite secure_delete",
        ],
    )
