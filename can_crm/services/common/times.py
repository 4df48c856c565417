"""The council's clock: days and times as the people using the service live them.

Moments are stored in UTC. People live on the council's clock (TIMEZONE, Europe/London by default): from late
March to late October that is an hour ahead, so between midnight and 1 am the UTC date is still yesterday. So
"today" (availability, pauses, the most tasks a day, today's rounds, due dates), every time a page shows and every
bare time someone types are the council's. Times of day inside a day (delivery windows, shifts, rounds) count
whole minutes from the council's midnight.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from flask_babel import format_date, get_locale

from can_crm.config import DEFAULT_TIMEZONE
from can_crm.models.base import utcnow


def zone() -> ZoneInfo:
    """The council's time zone (the app's TIMEZONE; Europe/London outside an app, e.g. in a script)."""
    name = current_app.config.get("TIMEZONE", DEFAULT_TIMEZONE) if has_app_context() else DEFAULT_TIMEZONE
    return ZoneInfo(name)


def local(moment: datetime) -> datetime:
    """A stored (UTC) moment on the council's clock."""
    return moment.astimezone(zone())


def today(now: datetime | None = None) -> date:
    """The council's date now (or at `now`)."""
    return local(now or utcnow()).date()


def local_dates(moments: Iterable[datetime]) -> list[date]:
    """The council's date of each stored moment (the zone looked up once: maps and open data read 100,000s)."""
    here = zone()
    return [moment.astimezone(here).date() for moment in moments]


def day_start(day: date) -> datetime:
    """The moment the council's `day` begins, as an aware datetime (compare it with stored UTC moments)."""
    return datetime.combine(day, time.min, tzinfo=zone())


def day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """From the start of `first` to the start of the day after `last`, on the council's clock."""
    return day_start(first), day_start(last + timedelta(days=1))


def from_wall_clock(moment: datetime) -> datetime:
    """A time someone typed without a zone is the council's; one with a zone stays as given."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone())


def long_date(value: datetime | date | None) -> str:
    """The council's day of `value` written out in the page's language: "10 June 2026" (GOV.UK's style, not
    Babel's American "June 10, 2026"), "10 czerwca 2026", "10 de junio de 2026"; "" for None."""
    if value is None:
        return ""  # format_date would write today's
    english = str(get_locale() or "en").startswith("en")
    return str(format_date(value, "d MMMM y" if english else "long"))  # a moment: on the council's clock (i18n)


def when(value: datetime | date | None, fmt: str) -> str:
    """`value` formatted for a page: a moment on the council's clock, a calendar date as it is; "" for None."""
    if value is None:
        return ""
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = local(value)
    return value.strftime(fmt)


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
