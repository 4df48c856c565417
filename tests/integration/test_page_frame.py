"""Every page's frame (the menu, phase banner and footer) is rendered once per process for each way it can look
(can_crm.templating.frame): the kept copy must never show one person's, one page's or one language's frame on
another. The app, and so the kept frames, live for the whole test session: these pages run after many others."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import force_locale, gettext

from can_crm import unit_of_work
from tests.conftest import sign_in
from tests.integration.volunteer_helpers import volunteer_with_account

MENU = re.compile(r'<ul class="govuk-service-navigation__list".*?</ul>', re.S)
ITEM = re.compile(r'<li class="govuk-service-navigation__item([^"]*)">.*?<a [^>]*>\s*(.*?)\s*</a>', re.S)


def menu(html: str) -> dict[str, bool]:
    """The menu's items, each with whether it is marked as the page being shown."""
    found = MENU.search(html)
    assert found is not None, html[:2000]
    # The page shown is also wrapped in <strong> (GOV.UK's fallback for when its style does not load).
    return {re.sub(r"<[^>]+>", "", text): "--active" in classes for classes, text in ITEM.findall(found.group(0))}


def footer(html: str) -> str:
    found = re.search(r'<footer class="govuk-footer">.*?</footer>', html, re.S)
    assert found is not None
    return found.group(0)


def test_the_menu_marks_the_page_shown_and_follows_the_role(app: Any, make_user: Any, make_volunteer: Any) -> None:
    volunteer_user, _ = volunteer_with_account(make_user, make_volunteer)
    phone = app.test_client()
    assert sign_in(phone, volunteer_user).status_code == 302
    offers = phone.get("/volunteer/").get_data(as_text=True)
    tasks = phone.get("/volunteer/tasks").get_data(as_text=True)
    assert menu(offers)["Offers"] and not menu(offers)["My tasks"]
    assert menu(tasks)["My tasks"] and not menu(tasks)["Offers"]
    assert "Change your password" in footer(tasks)

    tracer, other = make_user("coordinator"), make_user("coordinator")
    tracer.can_trace = True
    unit_of_work.commit()
    pages, passwords = {}, {}
    for user in (tracer, other):
        desk = app.test_client()
        assert sign_in(desk, user).status_code == 302
        pages[user.id] = desk.get("/coordinator/").get_data(as_text=True)
        passwords[user.id] = desk.get("/auth/password").get_data(as_text=True)
    assert "Track and Trace" in menu(pages[tracer.id])
    assert "Track and Trace" not in menu(pages[other.id])
    assert menu(pages[other.id])["Queue"]
    # One page every role has: each sees their own menu on it.
    volunteer_password = phone.get("/auth/password").get_data(as_text=True)
    assert "Offers" in menu(volunteer_password) and "Queue" not in menu(volunteer_password)
    assert "Queue" in menu(passwords[other.id]) and "Offers" not in menu(passwords[other.id])

    # Nobody signed in, after all of them: the resident's menu, no password link.
    public = app.test_client().get("/request-help").get_data(as_text=True)
    assert "Sign in" in menu(public) and "Offers" not in menu(public)
    assert "Change your password" not in footer(public)


def test_the_frame_speaks_the_page_language(app: Any, client: Any) -> None:
    with app.test_request_context(), force_locale("pl"):
        polish = {text: gettext(text) for text in ("Ask for help", "Sign in", "Support links")}
    assert polish["Ask for help"] != "Ask for help"  # the catalogue has it: the check below means something

    english = client.get("/request-help?lang=en").get_data(as_text=True)
    page = client.get("/request-help?lang=pl").get_data(as_text=True)
    assert polish["Ask for help"] in menu(page) and polish["Sign in"] in menu(page)
    assert polish["Support links"] in footer(page)
    # The same page in English again, for the same visitor and for another: the Polish frame stays with Polish.
    again = client.get("/request-help?lang=en").get_data(as_text=True)
    other = client.application.test_client().get("/request-help").get_data(as_text=True)
    for html in (english, again, other):
        assert "Ask for help" in menu(html) and polish["Ask for help"] not in menu(html)
        assert "Support links" in footer(html)
