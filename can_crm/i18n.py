"""Languages of the resident-facing pages: chosen with ?lang=, remembered in the session, English by default.

Staff pages stay in English. Messages to a resident use the language kept on their record
(`Resident.locale`), never the page's: see can_crm/services/notifications/messages.py.
"""

from __future__ import annotations

import re

from flask import Flask, has_request_context, request, session
from flask_babel import get_locale, gettext, refresh
from flask_login import current_user

from can_crm.extensions import babel
from can_crm.models.enums import LOCALES, RTL_LOCALES


def N_(text: str) -> str:  # noqa: N802 - the gettext convention: marks text for the catalogue only
    return text


# English words defined elsewhere (enums) that resident pages show: listed so the catalogue carries them.
CATALOGUE_EXTRAS = (
    N_("Food parcel"),
    N_("Shopping"),
    N_("Prescription collection"),
    N_("Befriending call"),
    N_("Transport to an appointment"),
    N_("Dog walking"),
    N_("Something else"),
    N_("Any time"),
    N_("Morning"),
    N_("Afternoon"),
    N_("Evening"),
)


# The services refuse bad input in English (the API's words too). A resident's page says the same in the page's
# language: `translate_error` finds a service message here, whole or built from a field's label, and translates it.
SERVICE_MESSAGES = frozenset(
    {
        N_("Enter a postcode"),
        N_("Enter a full UK postcode, like SW1A 1AA"),
        N_("Enter a real postcode"),
        N_("Enter a phone number, like 020 7946 0000 or 07911 123 456"),
        N_("Enter a real phone number, like 020 7946 0000 or 07911 123 456"),
        N_("Enter an email address"),
        N_("Enter an email address in the correct format, like name@example.com"),
        N_("Enter a phone number, or choose another way for us to contact you"),
        N_("Enter an email address, or choose another way for us to contact you"),
        N_("Select yes or no"),
        N_("Confirm that we can use your details to arrange help"),
        N_("Date help is needed by must be a real date, like 2026-12-24"),
        N_("Date help is needed by must be today or in the future"),
        N_("Date help is needed by must be within the next year"),
    }
)
# Sentences built around a field's label (services.common.validation), each with the label's place kept.
LABELLED_MESSAGES = (
    (
        re.compile(r"^(?P<label>.+) must be (?P<n>\d+) characters or fewer$"),
        N_("%(label)s must be %(n)s characters or fewer"),
    ),
    (re.compile(r"^(?P<label>.+) must not contain HTML or code$"), N_("%(label)s must not contain HTML or code")),
    (
        re.compile(r"^(?P<label>.+) must only include letters, numbers and punctuation$"),
        N_("%(label)s must only include letters, numbers and punctuation"),
    ),
    (
        re.compile(r"^(?P<label>.+) must only include letters a to z, hyphens, spaces and apostrophes$"),
        N_("%(label)s must only include letters a to z, hyphens, spaces and apostrophes"),
    ),
    (
        re.compile(r"^How many parcels must be a whole number from 1 to (?P<n>\d+)$"),
        N_("How many parcels must be a whole number from 1 to %(n)s"),
    ),
    # A choice from outside the list is refused with the list's codes: a resident is asked to choose again.
    (re.compile(r"^Select (?P<label>.+?)(?: from the list: .*)?$"), N_("Select %(label)s")),
    (re.compile(r"^Enter (?P<label>.+)$"), N_("Enter %(label)s")),
)
# The labels of the fields on residents' forms, as the services name them.
FIELD_LABELS = frozenset(
    {
        N_("full name"),
        N_("address line 1"),
        N_("address line 2"),
        N_("town or city"),
        N_("language"),
        N_("accessibility needs"),
        N_("what help is needed"),
        N_("details of the help needed"),
        N_("how we should contact you"),
        N_("the language for our messages"),
        N_("how often help is needed"),
    }
)


def _residents_language() -> bool:
    """Whether this page speaks a resident's language other than English (signed-in pages are English)."""
    return not str(get_locale() or "en").startswith("en") and not current_user.is_authenticated


def error_prefix() -> str | None:
    """The word a screen reader hears before each field's error ("Error: Enter your full name"), on a resident's
    page in another language; None where GOV.UK's English "Error" stands."""
    return str(gettext("Error")) if _residents_language() else None


def translate_error(message: str) -> str:
    """A service's error message in the page's language; unchanged in English, on signed-in pages (staff's and
    volunteers' pages are English) and for a message not listed above (shown as the service wrote it)."""
    if not _residents_language():
        return message
    if message in SERVICE_MESSAGES:
        return str(gettext(message))
    for pattern, sentence in LABELLED_MESSAGES:
        found = pattern.match(message)
        if found is None:
            continue
        parts = found.groupdict()
        label = parts.get("label")
        if label is not None:
            label = label[:1].lower() + label[1:]
            if label not in FIELD_LABELS:
                return message
            parts["label"] = gettext(label)
        translated = str(gettext(sentence, **parts))
        return translated[:1].upper() + translated[1:]
    return message


def select_locale() -> str:
    if not has_request_context():
        return "en"  # a CLI command or a job renders in English (the resident's own messages carry their locale)
    chosen = request.args.get("lang")
    if chosen in LOCALES:
        session["lang"] = chosen
        return chosen
    remembered = session.get("lang")
    return remembered if remembered in LOCALES else "en"


def init_app(app: Flask) -> None:
    # Babel's own dates (format_date and friends) keep the council's clock, as `services.common.times` does.
    babel.init_app(
        app,
        default_locale="en",
        default_translation_directories="translations",
        default_timezone=app.config["TIMEZONE"],
        locale_selector=select_locale,
    )

    # Flask-Babel keeps the chosen locale on the app context; a context that outlives one request (tests,
    # CLI commands) must not carry one request's language into the next.
    app.before_request(refresh)

    @app.context_processor
    def language() -> dict[str, object]:
        code = str(get_locale() or "en")
        return {"page_locale": code, "page_dir": "rtl" if code in RTL_LOCALES else "ltr", "locales": LOCALES}
