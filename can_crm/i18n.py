"""Languages of the resident-facing pages: chosen with ?lang=, remembered in the session, English by default.

Staff pages stay in English. Messages to a resident use the language kept on their record
(`Resident.locale`), never the page's: see can_crm/services/notifications/messages.py.
"""

from __future__ import annotations

from flask import Flask, has_request_context, request, session
from flask_babel import get_locale, refresh

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
