"""Shared setup for the map tests: people placed in one H3 cell, and a per-test map cache."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import update

from can_crm import unit_of_work
from can_crm.extensions import db
from can_crm.models.request import HelpRequest

LETTERS = "abcdefghijklmnopqrstuvwxyz"


def postcode_in(index: Path, gss: str) -> str:
    from geo.directory import PostcodeDirectory

    directory = PostcodeDirectory.load(index)
    return next(pc for pc in sorted(directory) if directory.geocode(pc).authority_gss == gss)


def requests_for_people(
    make_request: Any,
    people: int,
    postcode: str,
    *,
    per_person: int = 1,
    kind: str = "shopping",
    shielding: bool = False,
    tag: str = "",
) -> list[Any]:
    """`people` different residents at one postcode (one H3 cell), each with `per_person` requests."""
    made = []
    for i in range(people):
        name = f"Resident {tag} {LETTERS[i // 26]}{LETTERS[i % 26]}".replace("  ", " ")
        first = make_request(
            request={"type": kind}, resident={"name": name, "postcode": postcode, "shielding": shielding}
        )
        made.append(first)
        for _ in range(per_person - 1):
            made.append(make_request(request={"type": kind}, resident_id=first.resident_id))
    return made


def set_fields(requests: list[Any], **values: Any) -> None:
    ids = [r.id for r in requests]
    db.session.execute(update(HelpRequest).where(HelpRequest.id.in_(ids)).values(**values))
    unit_of_work.commit()


def deliver(requests: list[Any], hours: list[float]) -> None:
    for req, h in zip(requests, hours, strict=True):
        db.session.execute(
            update(HelpRequest)
            .where(HelpRequest.id == req.id)
            .values(status="delivered", delivered_at=req.created_at + timedelta(hours=h))
        )
    unit_of_work.commit()
