"""Reading and checking a shielded-residents CSV: the whole file is refused (nothing imported) when it cannot
be read as a table we understand; otherwise each row is checked and a bad row is reported, not imported.

Refused outright: empty, binary (NUL bytes), not UTF-8 (a UTF-8 BOM is fine), a field over
MAX_FIELD characters, too large, missing required columns, a mapping naming unknown fields.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import phonenumbers

from can_crm.services.common.errors import ValidationError
from can_crm.services.common.validation import clean_email, clean_name, clean_nhs_number, clean_postcode, clean_text

MAX_FIELD = 500
FIELDS = (
    "nhs_number",
    "first_name",
    "last_name",
    "date_of_birth",
    "address_line1",
    "address_line2",
    "address_line3",
    "postcode",
    "phone",
    "mobile",
    "email",
)
REQUIRED = ("nhs_number", "first_name", "last_name", "date_of_birth", "address_line1", "postcode")
# Headers seen in councils' files, normalised (lower case, letters and digits only), for each field.
DEFAULT_HEADERS = {
    "nhs_number": ("nhsnumber", "nhsno", "nhs"),
    "first_name": ("firstname", "forename", "givenname", "patientfirstname"),
    "last_name": ("lastname", "surname", "familyname", "patientsurname"),
    "date_of_birth": ("dateofbirth", "dob", "birthdate"),
    "address_line1": ("addressline1", "address1", "patientaddressline1"),
    "address_line2": ("addressline2", "address2", "patientaddressline2"),
    "address_line3": ("addressline3", "address3", "town", "patientaddressline3"),
    "postcode": ("postcode", "postalcode", "patientaddresspostcode"),
    "phone": ("phone", "telephone", "landline", "phonenumber", "telephonenumber"),
    "mobile": ("mobile", "mobilenumber", "mobilephone"),
    "email": ("email", "emailaddress"),
}
_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y%m%d")


class FileRefused(Exception):  # noqa: N818 - the name reads as what happened
    """The file cannot be imported at all; nothing was written."""


@dataclass(frozen=True)
class RowError:
    row: int  # the line's number in the file, the header being row 1
    column: str
    message: str
    value: str


def _normal(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.lower())


def check_mapping(mapping: object) -> dict[str, str]:
    """A council's mapping: {"our field": "their header"}."""
    if mapping is None:
        return {}
    if not isinstance(mapping, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()):
        raise FileRefused('The mapping must be a JSON object like {"nhs_number": "NHS No"}')
    unknown = sorted(set(mapping) - set(FIELDS))
    if unknown:
        raise FileRefused(f"The mapping names fields we do not know: {', '.join(unknown)}. Known: {', '.join(FIELDS)}")
    return dict(mapping)


def decode(content: bytes, max_bytes: int) -> str:
    if not content or not content.strip():
        raise FileRefused("The file is empty")
    if len(content) > max_bytes:
        raise FileRefused(f"The file is larger than {max_bytes // (1024 * 1024)} MB")
    if content[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise FileRefused("The file is UTF-16: save it as CSV UTF-8 and try again")
    if b"\x00" in content[:65536]:
        raise FileRefused("The file is not a CSV text file (it contains binary data)")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileRefused(
            f"The file is not UTF-8 text (byte {exc.start}): save it as CSV UTF-8 and try again"
        ) from None


def columns(header: list[str], mapping: Mapping[str, str]) -> dict[str, int]:
    """Our field -> the column index that holds it, or refuse the file naming the missing columns."""
    by_name = {_normal(h): i for i, h in enumerate(header)}
    found: dict[str, int] = {}
    for name in FIELDS:
        wanted = [_normal(mapping[name])] if name in mapping else list(DEFAULT_HEADERS[name])
        for candidate in wanted:
            if candidate in by_name:
                found[name] = by_name[candidate]
                break
    missing = [mapping.get(name, name) for name in REQUIRED if name not in found]
    if missing:
        raise FileRefused(f"The file has no column for: {', '.join(missing)}")
    return found


def rows(text: str, mapping: Mapping[str, str]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, {field: raw text}) for each data row. Raises FileRefused for a malformed file."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if not header or not any(h.strip() for h in header):
            raise FileRefused("The file has no header row")
        if any(len(h) > MAX_FIELD for h in header):
            raise FileRefused(f"A header is longer than {MAX_FIELD} characters")
        index = columns(header, mapping)
        for values in reader:
            line = reader.line_num
            if not values or not any(v.strip() for v in values):
                continue
            if any(len(v) > MAX_FIELD for v in values):
                raise FileRefused(f"Row {line} has a field longer than {MAX_FIELD} characters")
            yield line, {name: values[i].strip() if i < len(values) else "" for name, i in index.items()}
    except csv.Error as exc:
        raise FileRefused(f"The file is not a readable CSV (line {reader.line_num}): {exc}") from None


def _date_of_birth(raw: str, today: date) -> date:
    for fmt in _DATE_FORMATS:
        try:
            born = datetime.strptime(raw, fmt).date()  # noqa: DTZ007 - a calendar date, no time or zone
        except ValueError:
            continue
        if born > today or born.year < today.year - 120:
            raise ValidationError("Date of birth must be a real date in the past", "date_of_birth")
        return born
    raise ValidationError("Date of birth must be a date like 1948-03-27 or 27/03/1948", "date_of_birth")


_UK_NUMBER = re.compile(r"(?:\+44|0044|0)(\d{9,10})")


@functools.cache
def _uk_valid() -> re.Pattern[str]:
    """Every valid national number of +44 (GB, Guernsey, Jersey, Isle of Man) as one regex, built from the
    phonenumbers library's own metadata: the same answer as `is_valid_number`, about 50 times faster, which a
    100,000-row file needs. Numbers outside +44 still go through the library (see `_phone`)."""
    patterns: list[str] = []
    for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[44]:
        meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
        if meta is None:
            continue
        descs = (meta.fixed_line, meta.mobile, meta.toll_free, meta.premium_rate, meta.shared_cost,
                 meta.personal_number, meta.voip, meta.pager, meta.uan, meta.voicemail)  # fmt: skip
        general = meta.general_desc.national_number_pattern if meta.general_desc is not None else None
        kinds = [d.national_number_pattern for d in descs if d is not None and d.national_number_pattern]
        patterns.append(f"(?=(?:{general})$)(?:{'|'.join(kinds)})")
    return re.compile("(?:" + "|".join(patterns) + ")")


def _phone(raw: str, field: str) -> str | None:
    if not raw:
        return None
    digits = re.sub(r"[\s()\-]", "", raw)
    uk = _UK_NUMBER.fullmatch(digits)
    if uk:
        if not _uk_valid().fullmatch(uk.group(1)):
            raise ValidationError("Phone number is not a real UK phone number", field)
        return "+44" + uk.group(1)
    try:
        number = phonenumbers.parse(digits, "GB")
    except phonenumbers.NumberParseException:
        raise ValidationError("Phone number is not a phone number", field) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError("Phone number is not a real UK phone number", field)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def clean_row(raw: Mapping[str, str], today: date) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The row's resident fields, or the (column, message) errors that stop it being imported."""
    errors: list[tuple[str, str]] = []
    out: dict[str, Any] = {}

    def take(field: str, rule: Any) -> None:
        try:
            out[field] = rule(raw.get(field, ""))
        except ValidationError as exc:
            errors.append((field, exc.message))

    take("nhs_number", lambda v: clean_nhs_number(v) or _missing("NHS number"))
    take("first_name", lambda v: clean_name(v, "first_name", "first name"))
    take("last_name", lambda v: clean_name(v, "last_name", "last name"))
    take("date_of_birth", lambda v: _date_of_birth(v, today) if v else _missing("date of birth"))
    take("address_line1", lambda v: clean_text(v, "address_line1", "address line 1", max_length=120, required=True))
    take("address_line2", lambda v: clean_text(v, "address_line2", "address line 2", max_length=120) or None)
    take("address_line3", lambda v: clean_text(v, "address_line3", "address line 3", max_length=60) or None)
    take("postcode", clean_postcode)
    take("phone", lambda v: _phone(v, "phone"))
    take("mobile", lambda v: _phone(v, "mobile"))
    take("email", lambda v: clean_email(v) or None)
    return out, errors


def _missing(label: str) -> Any:
    raise ValidationError(f"Enter the {label}")


_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    """A value a spreadsheet will show as text, never run as a formula (OWASP CSV injection)."""
    return "'" + value if value.startswith(_FORMULA) else value


def error_csv(errors: list[RowError]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL)
    writer.writerow(["row", "column", "message", "value"])
    for e in errors:
        writer.writerow([e.row, safe_cell(e.column), safe_cell(e.message), safe_cell(e.value[:200])])
    return out.getvalue()
