"""What a food-parcel request asks of a delivery round: how many parcels, and when the resident can take them.

One small set of windows that phone intake and coordinators can say out loud: any time, morning, afternoon,
evening (their hours configured in DELIVERY_WINDOWS), or between two times the resident gives. Other request
types carry none of it (NULL). Shared by intake, triage, the API and the planner, so each says the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import current_app

from can_crm.models.enums import DELIVERY_WINDOW_LABELS, DeliveryWindow, RequestType, values
from can_crm.models.request import MAX_PARCELS, HelpRequest
from can_crm.services.common.errors import ValidationError
from can_crm.services.common.times import clock, parse_clock
from can_crm.services.common.validation import clean_choice

FIELDS = ("parcels", "delivery_window", "delivery_from", "delivery_to")
WHOLE_DAY = (0, 24 * 60)
_PARCELS_MESSAGE = f"How many parcels must be a whole number from 1 to {MAX_PARCELS}"
_WINDOW_LABEL = "when the resident can take a delivery"


def named_windows() -> dict[str, tuple[int, int]]:
    """The configured hours of morning, afternoon and evening (minutes from midnight)."""
    return dict(current_app.config["DELIVERY_WINDOWS"])


def window_choices() -> list[tuple[str, str]]:
    """The windows as radio choices, the named ones with their configured hours."""
    hours = named_windows()
    return [
        (w.value, f"{label} ({clock(hours[w.value][0])} to {clock(hours[w.value][1])})" if w.value in hours else label)
        for w, label in DELIVERY_WINDOW_LABELS.items()
    ]


def form_values(request: HelpRequest) -> dict[str, Any]:
    """A request's delivery fields as a form shows them (times as HH:MM)."""
    between = request.delivery_window == DeliveryWindow.BETWEEN.value
    return {
        "parcels": str(request.parcels or 1),
        "delivery_window": request.delivery_window or DeliveryWindow.ANY.value,
        "delivery_from": clock(request.delivery_from_min) if between else "",
        "delivery_to": clock(request.delivery_to_min) if between else "",
    }


def _clean_parcels(value: object, errors: dict[str, str]) -> int | None:
    if value is None or value == "":
        return 1
    if isinstance(value, bool):
        errors["parcels"] = _PARCELS_MESSAGE
        return None
    text = str(value).strip() if isinstance(value, int | str) else ""
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text[:6]) <= MAX_PARCELS:
        errors["parcels"] = _PARCELS_MESSAGE
        return None
    return int(text)


def _clean_time(value: object, field: str, what: str, errors: dict[str, str]) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        errors[field] = f"Enter {what}"
        return None
    minutes = parse_clock(value)
    if minutes is None:
        errors[field] = f"Enter {what} as a time like 14:30"
    return minutes


def check_delivery(
    data: Mapping[str, Any], request_type: str | None, *, partial: bool = False
) -> tuple[dict[str, Any], dict[str, str]]:
    """Clean the delivery fields of a request of `request_type`: (columns to set, errors by field).

    A food parcel gets 1 parcel at any time unless told otherwise. Another type may not send them (its
    columns are NULL). `partial` (triage, the API's changes): only what was sent is checked and changed; a
    new window replaces the old one, times included."""
    errors: dict[str, str] = {}
    sent = {k: data.get(k) for k in FIELDS if k in data and data.get(k) not in (None, "")}
    if request_type != RequestType.FOOD_PARCEL.value:
        for key in sent:
            errors[key] = "Parcels and a delivery time can only be given for a food-parcel request"
        if partial or request_type is None:
            return {}, errors
        return {"parcels": None, "delivery_window": None, "delivery_from_min": None, "delivery_to_min": None}, errors
    cleaned: dict[str, Any] = {}
    if not partial or "parcels" in sent:
        cleaned["parcels"] = _clean_parcels(data.get("parcels"), errors)
    window_sent = "delivery_window" in sent
    if partial and not window_sent:
        for key in ("delivery_from", "delivery_to"):
            if key in sent:
                errors[key] = "Send delivery_window as between with the times it is between"
        return cleaned, errors
    raw_window = data.get("delivery_window") if window_sent else DeliveryWindow.ANY.value
    try:
        raw_window = clean_choice(raw_window, values(DeliveryWindow), "delivery_window", _WINDOW_LABEL)
    except ValidationError as exc:
        errors["delivery_window"] = exc.message
        return cleaned, errors
    cleaned.update(delivery_window=raw_window, delivery_from_min=None, delivery_to_min=None)
    if raw_window != DeliveryWindow.BETWEEN.value:
        for key in ("delivery_from", "delivery_to"):
            if key in sent:
                errors[key] = f"Give times only when the delivery can be between two times (not {raw_window})"
        return cleaned, errors
    start = _clean_time(data.get("delivery_from"), "delivery_from", "the earliest time for a delivery", errors)
    end = _clean_time(data.get("delivery_to"), "delivery_to", "the latest time for a delivery", errors)
    if start is not None and end is not None:
        if end <= start:
            errors["delivery_to"] = "The latest time for a delivery must be later than the earliest"
        else:
            cleaned.update(delivery_from_min=start, delivery_to_min=end)
    return cleaned, errors


def window_of(request: HelpRequest) -> tuple[int, int]:
    """When the resident can take delivery, in minutes from midnight (the whole day for any time)."""
    window = request.delivery_window
    if window == DeliveryWindow.BETWEEN.value and request.delivery_from_min is not None:
        return request.delivery_from_min, request.delivery_to_min or WHOLE_DAY[1]
    if window in named_windows():
        return named_windows()[window]
    return WHOLE_DAY


def describe(request: HelpRequest) -> str:
    """ "Morning (09:00 to 12:00)", "Between 14:00 and 16:30", "Any time"; "" for a request of another type."""
    if request.type != RequestType.FOOD_PARCEL.value:
        return ""
    window = request.delivery_window or DeliveryWindow.ANY.value
    if window == DeliveryWindow.ANY.value:
        return "Any time"
    start, end = window_of(request)
    if window == DeliveryWindow.BETWEEN.value:
        return f"Between {clock(start)} and {clock(end)}"
    return f"{DELIVERY_WINDOW_LABELS[DeliveryWindow(window)]} ({clock(start)} to {clock(end)})"


def out(request: HelpRequest) -> dict[str, Any]:
    """The API's view: parcels, the window's name and its hours ("HH:MM"; null for any time or another type)."""
    if request.type != RequestType.FOOD_PARCEL.value:
        return {"parcels": None, "delivery_window": None, "delivery_from": None, "delivery_to": None}
    window = request.delivery_window or DeliveryWindow.ANY.value
    hours = None if window == DeliveryWindow.ANY.value else window_of(request)
    return {
        "parcels": request.parcels or 1,
        "delivery_window": window,
        "delivery_from": clock(hours[0]) if hours else None,
        "delivery_to": clock(hours[1]) if hours else None,
    }


def from_described(described: Mapping[str, Any]) -> dict[str, Any]:
    """Delivery fields as another authority described them (`out`'s shape: a window's name and its hours there)
    as input for `check_delivery` here. Their "morning" may not be our morning: a named window keeps its name
    when our hours for it are the same, and otherwise becomes "between" their hours, which is what the resident
    said."""
    window, start, end = described.get("delivery_window"), described.get("delivery_from"), described.get("delivery_to")
    data: dict[str, Any] = {"parcels": described.get("parcels"), "delivery_window": window}
    ours = named_windows().get(str(window))
    if start and end and (ours is None or (clock(ours[0]), clock(ours[1])) != (start, end)):
        data.update(delivery_window=DeliveryWindow.BETWEEN.value, delivery_from=start, delivery_to=end)
    return data
