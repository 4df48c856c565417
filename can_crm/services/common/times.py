"""Times of day as whole minutes from midnight, the way delivery windows, shifts and rounds count them."""

from __future__ import annotations


def clock(minutes: float | None) -> str:
    """Minutes from the day's start as a 24-hour time: 570 -> "09:30" (rounded to the minute)."""
    if minutes is None:
        return ""
    whole = round(minutes)
    return f"{whole // 60 % 24:02d}:{whole % 60:02d}"


def parse_clock(raw: object) -> int | None:
    """ "09:30", "9:30" or "9.30" -> 570; None when it is not a time of day."""
    text = raw.strip() if isinstance(raw, str) else ""
    for sep in (":", "."):
        if sep in text:
            hours, _, mins = text.partition(sep)
            break
    else:
        hours, mins = text, "00"
    if not (hours.isascii() and hours.isdigit() and mins.isascii() and mins.isdigit()):
        return None
    if len(hours) > 2 or len(mins) != 2 or int(hours) > 23 or int(mins) > 59:
        return None
    return int(hours) * 60 + int(mins)
