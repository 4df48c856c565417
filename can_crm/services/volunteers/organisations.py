"""Partner organisations add their own people as volunteers, one at a time or from a CSV file.

A person added here is signed up exactly as on the public sign-up (`profiles.sign_up`: the same rules and
messages), waiting for vetting, with no password: they get an invitation to choose one. Which organisation
added them (`added_by_organisation`, the partner account's organisation) decides which partner accounts see
them, and what those see is `PersonRow`: name, contact, status and checks done, never the DBS certificate
or anything about residents.

A CSV file is all or nothing: every row is checked by the same sign-up, and when any row is wrong nobody is
added and every wrong row is reported by its number and column; the page says so.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from can_crm.extensions import db
from can_crm.models.enums import SKILLS, Role, VolunteerStatus
from can_crm.models.user import User
from can_crm.models.volunteer import Volunteer
from can_crm.services.accounts import invitations
from can_crm.services.accounts.users import UNUSABLE_PASSWORD
from can_crm.services.common import audit, times
from can_crm.services.common.errors import Conflict, DomainError, FieldErrors, Forbidden, NotFound, ValidationError
from can_crm.services.common.validation import clean_email
from can_crm.services.notifications import outgoing
from can_crm.services.outreach.shielded_csv import FileRefused, RowError, decode
from can_crm.services.volunteers import profiles
from can_crm.unit_of_work import atomic, savepoint

# What an organisation gives for each person: the public sign-up's fields, less the password (the person
# chooses it) and the organisation (theirs).
FIELDS = (
    "name",
    "email",
    "phone",
    "home_postcode",
    "max_km",
    "transport",
    "capacity",
    "max_per_day",
    "offers_by",
    "skills",
    "availability",
)
MAX_BYTES = 1024 * 1024
# The CSV's columns (header names, any case, spaces or underscores) and the field each fills.
COLUMNS = {
    "name": "name",
    "email": "email",
    "phone": "phone",
    "postcode": "home_postcode",
    "max_km": "max_km",
    "transport": "transport",
    "capacity": "capacity",
    "max_per_day": "max_per_day",
    "offers_by": "offers_by",
    "skills": "skills",
    "availability": "availability",
}
REQUIRED_COLUMNS = ("name", "email", "postcode", "max_km", "capacity")
_ALIASES = {
    "fullname": "name",
    "emailaddress": "email",
    "mobile": "phone",
    "phonenumber": "phone",
    "mobilephone": "phone",
    "homepostcode": "postcode",
    "maxkm": "max_km",
    "km": "max_km",
    "tasksatonce": "capacity",
    "tasksaday": "max_per_day",
    "maxperday": "max_per_day",
    "offersby": "offers_by",
}
# The field a service error names -> the CSV column to report it under.
_COLUMN_OF = {f: c for c, f in COLUMNS.items()}
DAY_WORDS = {
    "mon": "mon",
    "monday": "mon",
    "tue": "tue",
    "tues": "tue",
    "tuesday": "tue",
    "wed": "wed",
    "wednesday": "wed",
    "thu": "thu",
    "thur": "thu",
    "thurs": "thu",
    "thursday": "thu",
    "fri": "fri",
    "friday": "fri",
    "sat": "sat",
    "saturday": "sat",
    "sun": "sun",
    "sunday": "sun",
}
AVAILABILITY_HINT = "like mon morning; sat afternoon evening"


def organisation_of(partner: User) -> str:
    """The partner account's organisation, which its people are filed under."""
    if partner.role != Role.PARTNER.value:
        raise Forbidden("Only partner organisations add their people here")
    name = (partner.organisation or "").strip()
    if not name:
        raise Forbidden("Your account has no organisation name: ask an administrator to add it")
    return name


@dataclass(frozen=True)
class PersonRow:
    """What an organisation sees of one of its people: enough to follow them, nothing from the vetting file."""

    id: int
    name: str
    email: str | None
    phone: str | None
    status: str
    identity_checked: bool
    references_checked: bool
    training_done: bool
    has_dbs_check: bool
    added_on: date
    # They chose a password from their invitation (they can sign in).
    account_ready: bool


def people(partner: User) -> list[PersonRow]:
    """The organisation's people, by name."""
    organisation = organisation_of(partner)
    rows = db.session.execute(
        select(Volunteer, User.password_hash)
        .outerjoin(User, User.id == Volunteer.user_id)
        .where(Volunteer.added_by_organisation == organisation)
        .order_by(func.lower(Volunteer.name), Volunteer.id)
    ).all()
    return [_row(v, _ready(password_hash)) for v, password_hash in rows]


def _ready(password_hash: str | None) -> bool:
    return password_hash is not None and password_hash != UNUSABLE_PASSWORD


def _row(v: Volunteer, account_ready: bool) -> PersonRow:
    return PersonRow(
        id=v.id,
        name=v.name,
        email=v.email,
        phone=v.phone,
        status=v.status,
        identity_checked=v.identity_checked,
        references_checked=v.references_checked,
        training_done=v.training_done,
        has_dbs_check=v.dbs_level != "none" and v.dbs_certificate_date is not None,
        added_on=times.today(v.created_at),
        account_ready=account_ready,
    )


def person(partner: User, volunteer_id: int) -> PersonRow:
    """One of the organisation's people; someone else's is as missing as an unknown id."""
    organisation = organisation_of(partner)
    volunteer = db.session.get(Volunteer, volunteer_id)
    if volunteer is None or volunteer.added_by_organisation != organisation:
        raise NotFound("No volunteer with that id in your organisation")
    account = db.session.get(User, volunteer.user_id) if volunteer.user_id is not None else None
    return _row(volunteer, _ready(account.password_hash if account is not None else None))


def as_row(volunteer: Volunteer) -> PersonRow:
    """A volunteer just added, as its organisation sees it."""
    return _row(volunteer, False)


@atomic
def add_person(partner: User, data: Mapping[str, Any]) -> Volunteer:
    """Sign one person up for the partner's organisation, waiting for vetting, and invite them to set a password.

    `data` has FIELDS; anything else is ignored (a partner never sets vetting, DBS or status)."""
    organisation = organisation_of(partner)
    profile = {k: data.get(k) for k in FIELDS if k != "email"}
    volunteer = profiles.sign_up(
        {**profile, "active": True, "organisation": organisation}, data.get("email"), None, invited=True
    )
    volunteer.added_by_id = partner.id
    volunteer.added_by_organisation = organisation
    db.session.flush()
    _invite(partner, volunteer, organisation)
    audit.record(partner.id, "add_volunteer", "volunteer", volunteer.id, role=partner.role)
    return volunteer


def _invite(partner: User, volunteer: Volunteer, organisation: str) -> None:
    """A new link to set a password, by the volunteer's own channel; any older link stops working."""
    account = profiles.user_of(volunteer.user_id)
    invitation, token = invitations.invite(account, partner.id)
    outgoing.send(
        "volunteer_invitation",
        volunteer_id=volunteer.id,
        dedupe_key=f"volunteer_invitation:i{invitation.id}",
        params={"link": invitations.url_for_token(token), "organisation": organisation},
    )


@atomic
def invite_again(partner: User, volunteer_id: int) -> PersonRow:
    """Send one of the organisation's people a new link (the last was lost, or ran out); the old one stops working.

    Refused once they have set a password (they sign in, or reset it) or have left."""
    row = person(partner, volunteer_id)
    if row.account_ready:
        raise Conflict(f"{row.name} has already set a password: they can sign in")
    if row.status == VolunteerStatus.LEFT.value:
        raise Conflict(f"{row.name} has left: a new invitation would not let them volunteer")
    volunteer = db.session.get(Volunteer, volunteer_id)
    assert volunteer is not None  # person() found it
    _invite(partner, volunteer, organisation_of(partner))
    audit.record(partner.id, "invite_volunteer_again", "volunteer", volunteer_id, role=partner.role)
    return row


# -- CSV -------------------------------------------------------------------------------------------------


@dataclass
class ImportReport:
    """What one file did: the rows added, or (nothing added) every wrong row by number and column."""

    rows: int = 0
    added: list[Volunteer] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    file_error: str | None = None

    @property
    def refused(self) -> bool:
        return bool(self.errors) or self.file_error is not None

    @property
    def rows_with_errors(self) -> list[int]:
        return sorted({e.row for e in self.errors})


class _Refused(Exception):  # noqa: N818 - raised to roll the whole file back
    pass


def _normal(header: str) -> str:
    key = re.sub(r"[^a-z0-9]", "", header.lower())
    for column in COLUMNS:
        if key == column.replace("_", ""):
            return column
    return _ALIASES.get(key, "")


def _header(header: list[str]) -> dict[str, int]:
    if not header or not any(h.strip() for h in header):
        raise FileRefused("The file has no header row")
    found: dict[str, int] = {}
    unknown = []
    for i, raw in enumerate(header):
        column = _normal(raw)
        if not raw.strip():
            continue
        if not column:
            unknown.append(raw.strip()[:40])
        elif column in found:
            raise FileRefused(f"The file has two {column} columns")
        else:
            found[column] = i
    if unknown:
        raise FileRefused(f"The file has columns we do not know: {', '.join(unknown)}. Columns: {', '.join(COLUMNS)}")
    missing = [c for c in REQUIRED_COLUMNS if c not in found]
    if missing:
        raise FileRefused(f"The file has no column for: {', '.join(missing)}")
    return found


def _skills(raw: str) -> list[str] | str:
    """Skill names or their labels, separated by ; or , (an unknown one is left for the profile rules)."""
    by_label = {label.lower(): key for key, label in SKILLS.items()}
    out = []
    for part in re.split(r"[;,]", raw):
        word = part.strip().lower()
        if word:
            out.append(by_label.get(word, word.replace(" ", "_")))
    return out


def _availability(raw: str) -> dict[str, list[str]]:
    """ "mon morning; sat afternoon evening" -> {"mon": ["morning"], "sat": ["afternoon", "evening"]}."""
    out: dict[str, list[str]] = {}
    for part in re.split(r"[;,]", raw):
        words = re.split(r"[\s:]+", part.strip().lower())
        words = [w for w in words if w]
        if not words:
            continue
        day = DAY_WORDS.get(words[0])
        if day is None or len(words) < 2 or any(w not in profiles.SLOTS for w in words[1:]):
            raise FieldErrors({"availability": f"Availability must be days and times of day, {AVAILABILITY_HINT}"})
        out.setdefault(day, [])
        out[day] += [w for w in words[1:] if w not in out[day]]
    return out


def _rows(text: str, max_rows: int) -> list[tuple[int, dict[str, Any]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    out: list[tuple[int, dict[str, Any]]] = []
    try:
        index = _header(next(reader, []))
        for values in reader:
            if not values or not any(v.strip() for v in values):
                continue
            if len(out) >= max_rows:
                raise FileRefused(f"The file has more than {max_rows} people: split it into smaller files")
            if len(values) > len(index) and any(v.strip() for v in values[max(index.values()) + 1 :]):
                raise FileRefused(f"Row {reader.line_num} has more values than the header has columns")
            out.append((reader.line_num, {c: values[i].strip() if i < len(values) else "" for c, i in index.items()}))
    except csv.Error as exc:
        raise FileRefused(f"The file is not a readable CSV (line {reader.line_num}): {exc}") from None
    if not out:
        raise FileRefused("The file has a header row but nobody in it")
    return out


def _field_data(raw: Mapping[str, str]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    data: dict[str, Any] = {COLUMNS[c]: v for c, v in raw.items() if c not in ("skills", "availability")}
    errors: list[tuple[str, str]] = []
    data["skills"] = _skills(raw.get("skills", ""))
    try:
        data["availability"] = _availability(raw.get("availability", ""))
    except FieldErrors as exc:
        errors.append(("availability", exc.fields["availability"]))
    return data, errors


def _check_email(email: str) -> list[tuple[str, str]]:
    try:
        clean_email(email, required=True)
    except ValidationError as exc:
        return [("email", exc.message)]
    return []


@atomic
def import_people(partner: User, content: bytes) -> ImportReport:
    """Add everyone in a CSV file, or nobody: see the module's docstring. Never raises for a bad file."""
    organisation_of(partner)
    report = ImportReport()
    try:
        text = decode(content, MAX_BYTES)
        rows = _rows(text, int(current_app.config["VOLUNTEER_IMPORT_MAX_ROWS"]))
    except FileRefused as exc:
        report.file_error = str(exc)
        return report
    report.rows = len(rows)
    first_row_of: dict[str, int] = {}
    try:
        with savepoint():
            for line, raw in rows:
                data, errors = _field_data(raw)
                email = (raw.get("email") or "").strip().lower()
                if email and email in first_row_of:
                    errors.append(("email", f"Email address is also in row {first_row_of[email]}"))
                elif email:
                    first_row_of[email] = line
                try:
                    if errors:
                        # Still checked by the sign-up rules, so every wrong column of the row is reported.
                        errors += _check_email(email)
                        profiles.clean_volunteer({**data, "availability": {}, "active": True})
                    else:
                        report.added.append(add_person(partner, data))
                except FieldErrors as exc:
                    errors += [(_COLUMN_OF.get(f, f), m) for f, m in exc.fields.items()]
                except DomainError as exc:
                    errors.append((_COLUMN_OF.get(exc.field or "email", exc.field or "email"), exc.message))
                seen: set[str] = set()
                for column, message in errors:
                    if column not in seen:
                        seen.add(column)
                        report.errors.append(RowError(line, column, message, raw.get(column, "")[:60]))
            if report.errors:
                raise _Refused
    except _Refused:
        report.added = []
    return report


def sample_csv() -> str:
    """A header and one example row, for the page to offer as a template."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    writer.writerow(
        [
            "Sam Example",
            "sam@example.com",
            "07911 123456",
            "W6 9JH",
            "5",
            "walk",
            "2",
            "3",
            "web",
            "shopping; pharmacy collection",
            "mon morning; sat afternoon evening",
        ]
    )
    return buffer.getvalue()
