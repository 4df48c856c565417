"""Subject access (UK GDPR Art. 15): everything held about one resident, as JSON and as printable HTML.

The tables come from the metadata walk in `catalogue`, so a table another domain adds later (messages,
feedback, handoffs) is in the export as soon as it refers to a resident or to one of their requests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from flask import render_template

from can_crm.extensions import db
from can_crm.models.base import utcnow
from can_crm.models.resident import Resident
from can_crm.services.common import audit
from can_crm.services.common.errors import NotFound
from can_crm.services.privacy import catalogue

# Never part of an export: secrets and internal machinery, not information about the person.
WITHHELD_COLUMNS = frozenset({"password_hash", "totp_secret", "token_hash", "code_hash"})


@dataclass
class Export:
    resident_id: int
    generated_at: datetime
    tables: dict[str, list[dict[str, Any]]]

    @property
    def rows(self) -> int:
        return sum(len(r) for r in self.tables.values())

    def as_json(self) -> dict[str, Any]:
        return {
            "resident_id": self.resident_id,
            "generated_at": self.generated_at.isoformat(),
            "tables": self.tables,
        }


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def build(resident_id: int) -> Export:
    holdings = catalogue.collect("residents", resident_id)
    if not holdings.rows:
        raise NotFound("No resident with that id")
    tables = {
        name: [{k: _plain(v) for k, v in row.items() if k not in WITHHELD_COLUMNS} for _, row in sorted(rows.items())]
        for name, rows in sorted(holdings.rows.items())
    }
    return Export(resident_id, utcnow(), tables)


def export(resident_id: int, actor_id: int | None, actor_role: str | None) -> Export:
    """The export, recorded in the audit log (the export is itself a processing of the data)."""
    if db.session.get(Resident, resident_id) is None:
        raise NotFound("No resident with that id")
    result = build(resident_id)
    audit.record(
        actor_id,
        "subject_access",
        "resident",
        resident_id,
        resident_id=resident_id,
        role=actor_role,
        records=result.rows,
    )
    return result


def render_html(result: Export) -> str:
    return render_template("privacy/subject_access.html", export=result, title="Subject access export")


def write(result: Export, out: Path) -> dict[str, Any]:
    """Write `subject-access-<id>.json` and `.html` into `out`; returns the one-line summary."""
    out.mkdir(parents=True, exist_ok=True)
    stem = f"subject-access-{result.resident_id}"
    json_path = out / f"{stem}.json"
    html_path = out / f"{stem}.html"
    json_path.write_text(json.dumps(result.as_json(), indent=2, default=str), encoding="utf-8")
    html_path.write_text(render_html(result), encoding="utf-8")
    return {
        "resident_id": result.resident_id,
        "files": [str(json_path), str(html_path)],
        "tables": sorted(result.tables),
        "rows": result.rows,
    }
