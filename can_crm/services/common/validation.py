"""Field rules shared by the web forms and the JSON API, so both say exactly the same thing."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any

import phonenumbers

from can_crm.services.common.errors import ValidationError
from geo.postcodes import InvalidPostcode, parse_postcode

_TAG = re.compile(r"<\s*/?\s*[a-zA-Z!?]")
_NAME = re.compile(r"^[^\W\d_]+(?:[ '\-.][^\W\d_]+)*\.?$")
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[A-Za-z]{2,}$")


def clean_text(value: str | None, field: str, label: str, *, max_length: int, required: bool = False) -> str:
    """Trim, then refuse markup, control characters and overlong text with a message naming the field."""
    text = (value or "").strip()
    if not text:
        if required:
            raise ValidationError(f"Enter {label}", field)
        return ""
    if len(text) > max_length:
        raise ValidationError(f"{label[0].upper()}{label[1:]} must be {max_length} characters or fewer", field)
    if _TAG.search(text):
        raise ValidationError(f"{label[0].upper()}{label[1:]} must not contain HTML or code", field)
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\r\t" for ch in text):
        raise ValidationError(
            f"{label[0].upper()}{label[1:]} must only include letters, numbers and punctuation", field
        )
    return text


def clean_name(value: str | None, field: str = "name", label: str = "full name") -> str:
    name = clean_text(value, field, label, max_length=120, required=True)
    name = re.sub(r"\s+", " ", name)
    if not _NAME.match(name):
        raise ValidationError(
            f"{label[0].upper()}{label[1:]} must only include letters a to z, hyphens, spaces and apostrophes", field
        )
    return name


def clean_postcode(value: str | None, field: str = "postcode") -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError("Enter a postcode", field)
    try:
        return parse_postcode(text)
    except InvalidPostcode as exc:
        raise ValidationError(exc.message, field) from exc


def clean_phone(value: str | None, field: str = "phone", required: bool = False) -> str:
    """Return a UK phone number in E.164, or refuse an impossible one."""
    text = (value or "").strip()
    if not text:
        if required:
            raise ValidationError("Enter a phone number, like 020 7946 0000 or 07911 123 456", field)
        return ""
    if len(text) > 20 or re.search(r"[^\d\s()+\-]", text):
        raise ValidationError("Enter a phone number, like 020 7946 0000 or 07911 123 456", field)
    try:
        number = phonenumbers.parse(text, "GB")
    except phonenumbers.NumberParseException as exc:
        raise ValidationError("Enter a phone number, like 020 7946 0000 or 07911 123 456", field) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError("Enter a real phone number, like 020 7946 0000 or 07911 123 456", field)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display_phone(stored: str | None) -> str:
    """A stored number the way people read and dial it: a +44 one in the national format ("020 7946 0189"),
    another country's in the international one ("+33 1 23 45 67 89"); anything unreadable as it is."""
    return _display_phone((stored or "").strip())


# Parsing with the phone library costs ~0.1 ms a number, and a volunteer's task list or a request page shows the
# same few numbers on every load: each is formatted once per process (a pure function of the stored text).
@functools.lru_cache(maxsize=4096)
def _display_phone(text: str) -> str:
    try:
        number = phonenumbers.parse(text, "GB")
    except phonenumbers.NumberParseException:
        return text
    if not phonenumbers.is_valid_number(number):
        return text
    # +44 is dialled with a 0 from anywhere in the UK (the Crown Dependencies share it).
    uk = number.country_code == 44
    kind = phonenumbers.PhoneNumberFormat.NATIONAL if uk else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(number, kind)


def is_mobile(e164: str) -> bool:
    number = phonenumbers.parse(e164, "GB")
    return phonenumbers.number_type(number) in {
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    }


def clean_email(value: str | None, field: str = "email", required: bool = False) -> str:
    text = (value or "").strip()
    if not text:
        if required:
            raise ValidationError("Enter an email address", field)
        return ""
    if len(text) > 254 or not _EMAIL.match(text):
        raise ValidationError("Enter an email address in the correct format, like name@example.com", field)
    return text.lower()


def clean_nhs_number(value: str | None, field: str = "nhs_number") -> str:
    """Validate a 10-digit NHS number with its modulus 11 check digit."""
    text = re.sub(r"[\s-]", "", value or "")
    if not text:
        return ""
    if not (text.isascii() and text.isdigit()) or len(text) != 10:
        raise ValidationError("NHS number must be 10 digits, like 943 476 5919", field)
    total = sum(int(d) * w for d, w in zip(text[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    if check == 10 or check != int(text[9]):
        raise ValidationError("Enter a real NHS number, like 943 476 5919", field)
    return text


def clean_choice(value: object, allowed: list[str], field: str, label: str) -> str:
    # GOV.UK wording starts with "Select", which ruff's S608 mistakes for SQL: these are messages.
    if value is None or value == "":
        raise ValidationError(f"Select {label}", field)  # noqa: S608
    if not isinstance(value, str) or value not in allowed:
        raise ValidationError(f"Select {label} from the list: " + ", ".join(allowed), field)  # noqa: S608
    return value


def clean_bool(value: object, field: str) -> bool:
    """A yes/no answer from a form ("y", "yes", "on", ...) or JSON (true/false); nothing given means no."""
    if isinstance(value, bool):
        return value
    if value in (None, "", "n", "no", "false", "off", "0"):
        return False
    if value in ("y", "yes", "true", "on", "1"):
        return True
    raise ValidationError("Select yes or no", field)


def apply_rules(
    rules: Mapping[str, Callable[[Any], Any]], data: Mapping[str, Any], *, partial: bool = False
) -> tuple[dict[str, Any], dict[str, str]]:
    """Each field's rule on its value in `data` (with `partial`, only the fields sent): the cleaned values and every
    field's message, so a form shows all its mistakes at once. The caller adds cross-field checks, then refuses."""
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field, rule in rules.items():
        if partial and field not in data:
            continue
        try:
            cleaned[field] = rule(data.get(field))
        except ValidationError as exc:
            errors[exc.field or field] = exc.message
    return cleaned, errors
