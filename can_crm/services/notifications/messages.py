"""The words of every message, per event, in the recipient's language (Flask-Babel catalogues).

Each template is a subject (email only) and a body with named placeholders. The text is ours, written in
the resident's language here; a provider's template only wraps it (GOV.UK Notify: ((body))).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import force_locale, gettext

from can_crm.models.enums import LOCALES


def N_(text: str) -> str:  # noqa: N802 - the gettext convention: marks text for the catalogue, translated later
    return text


@dataclass(frozen=True)
class Template:
    subject: str
    body: str


TEMPLATES: dict[str, Template] = {
    "request_received": Template(
        N_("Your request for help: %(reference)s"),
        N_(
            "%(authority)s Council has your request for help. Your reference is %(reference)s. "
            "We will contact you when a volunteer has been found."
        ),
    ),
    "volunteer_on_way": Template(
        N_("A volunteer is on the way: %(reference)s"),
        N_(
            "A volunteer from %(authority)s Council is on the way with your help (reference %(reference)s). "
            "They will show you their council ID badge."
        ),
    ),
    "delivered_check": Template(
        N_("Did your help arrive? %(reference)s"),
        N_(
            "Did your help arrive (reference %(reference)s)? Tell us here: %(link)s "
            "or reply YES, NO or PARTLY to this message."
        ),
    ),
    "follow_up": Template(
        N_("We have not heard from you: %(reference)s"),
        N_(
            "We have not heard whether your help arrived (reference %(reference)s). "
            "Someone from %(authority)s Council will call you."
        ),
    ),
    "campaign_check_in": Template(
        N_("Do you need help? %(authority)s Council"),
        N_(
            "%(authority)s Council is checking on residents who are shielding. If you need help with food, "
            "medicine or anything else, reply HELP or call 020 8753 1000."
        ),
    ),
    "not_received_reopened": Template(
        N_("We are sorry: %(reference)s"),
        N_(
            "We are sorry your help did not arrive as it should (reference %(reference)s). "
            "We are arranging it again as a priority."
        ),
    ),
    "tracing_isolate": Template(
        N_("Please stay at home: %(authority)s Council"),
        N_(
            "%(authority)s Council: you were in contact with someone who has tested positive. Please stay at home "
            "until %(until)s. We can bring food and medicine: call 020 8753 1000."
        ),
    ),
    "tracing_released": Template(
        N_("You may stop isolating: %(authority)s Council"),
        N_("%(authority)s Council: you may stop isolating now. Thank you for staying at home."),
    ),
    "contact_tracing": Template(
        N_("A message from %(authority)s Council"),
        N_(
            "%(authority)s Council: someone you were in contact with may have an infection. "
            "Please call us on 020 8753 1000 for advice."
        ),
    ),
    "volunteer_invitation": Template(
        N_("Volunteer with %(authority)s Council: set your password"),
        N_(
            "%(organisation)s has signed you up to volunteer with %(authority)s Council. Choose a password to "
            "sign in: %(link)s (the link works once). A coordinator checks every volunteer before offering "
            "anything to do."
        ),
    ),
    # To volunteers who chose offers by text message (English: volunteers choose no language).
    "volunteer_offer": Template(
        N_("Can you help? %(reference)s"),
        N_(
            "%(authority)s Council: can you help? %(what)s, %(where)s, needed by %(due)s. "
            "Reply YES %(reference)s to take it on, or NO %(reference)s if you cannot."
        ),
    ),
    "volunteer_task": Template(
        N_("Thank you: %(reference)s is yours"),
        N_(
            "Thank you: %(reference)s is yours. %(name)s, %(address)s. Phone: %(phone)s. %(notes)s "
            "Reply DONE %(reference)s when you have delivered it. Please keep these details private and delete "
            "this message when you have finished."
        ),
    ),
    "volunteer_declined": Template(
        N_("Thank you for letting us know: %(reference)s"),
        N_("Thank you for letting us know. We will ask someone else to help with %(reference)s."),
    ),
    "volunteer_reply_unclear": Template(
        N_("Which request do you mean?"),
        N_(
            "We could not tell what you meant. Reply YES or NO with the reference, like YES %(reference)s. "
            "Offered to you now: %(references)s."
        ),
    ),
    "volunteer_no_offer": Template(
        N_("%(reference)s is no longer open to you"),
        N_(
            "%(reference)s is no longer open to you (a coordinator may have changed it, or someone else taken it). "
            "Nothing was recorded. Thank you all the same."
        ),
    ),
    "volunteer_nothing_open": Template(
        N_("Nothing is waiting for your answer"),
        N_(
            "%(authority)s Council: nothing is waiting for an answer from you now (an offer may have gone to "
            "someone else, or been changed by a coordinator). Nothing was recorded. We will text you when there is "
            "something you could help with."
        ),
    ),
    "volunteer_done": Template(
        N_("Thank you: %(reference)s is delivered"),
        N_("Thank you: %(reference)s is marked delivered. We will check with the resident that all is well."),
    ),
}


_PLACEHOLDERS = (
    "authority",
    "reference",
    "link",
    "until",
    "organisation",
    # volunteers' texts
    "what",
    "where",
    "due",
    "name",
    "address",
    "phone",
    "notes",
    "references",
)


class UnknownTemplate(ValueError):
    pass


def locale_of(value: str | None) -> str:
    """A supported locale code, English when the value is none of ours."""
    return value if value in LOCALES else "en"


def render(template: str, locale: str, params: Mapping[str, Any]) -> tuple[str, str]:
    """(subject, body) of `template` in `locale`, placeholders filled. Missing placeholders read as blanks."""
    spec = TEMPLATES.get(template)
    if spec is None:
        raise UnknownTemplate(f"no message template named {template!r}")
    values = {name: str(params.get(name, "")) for name in _PLACEHOLDERS}
    with force_locale(locale_of(locale)):
        # gettext with keyword arguments fills the placeholders after translating (the English is the id).
        subject = gettext(spec.subject, **values)
        body = gettext(spec.body, **values)
    return subject, body
