"""Resident pages and messages in English, Polish, Arabic (right to left), Spanish and Somali."""

from __future__ import annotations

from typing import Any

import pytest
from babel.messages.pofile import read_po
from sqlalchemy import select

from can_crm.config import PROJECT_ROOT
from can_crm.models.resident import Resident
from can_crm.services.notifications import messages
from tests.integration.notify_helpers import deliver, feedback_token, messages_for

CATALOGUES = PROJECT_ROOT / "can_crm" / "translations"


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("pl", "Twoja prośba"),
        ("es", "Su solicitud"),
        ("ar", "طلب المساعدة"),
        ("so", "Codsigaaga"),
        ("en", "Your request"),
    ],
)
def test_messages_are_written_in_each_language(app: Any, locale: str, words: str) -> None:
    with app.app_context():
        subject, body = messages.render("request_received", locale, {"reference": "CAN-AAAA-BBBB", "authority": "X"})
    assert words in subject and "CAN-AAAA-BBBB" in body and "%(" not in body


def test_unknown_language_falls_back_to_english(app: Any) -> None:
    with app.app_context():
        _, body = messages.render("follow_up", "xx", {"reference": "CAN-AAAA-BBBB", "authority": "X"})
    assert body.startswith("We have not heard")


def test_machine_translations_are_marked_for_review() -> None:
    for locale in ("pl", "es", "ar", "so"):
        with open(CATALOGUES / locale / "LC_MESSAGES" / "messages.po", "rb") as po:
            catalogue = read_po(po)
        entries = [m for m in catalogue if m.id]
        assert entries and all(m.fuzzy for m in entries), locale
        assert (CATALOGUES / locale / "LC_MESSAGES" / "messages.mo").is_file()


def test_arabic_pages_read_right_to_left(client: Any, db: Any) -> None:
    html = client.get("/request-help?lang=ar").get_data(as_text=True)
    assert '<html lang="ar"' in html and 'dir="rtl"' in html and "اطلب المساعدة" in html
    # The choice is remembered for the next page.
    assert 'dir="rtl"' in client.get("/request-help/form").get_data(as_text=True)
    assert 'dir="ltr"' in client.get("/request-help?lang=en").get_data(as_text=True)


def test_unsupported_lang_parameter_is_ignored(client: Any, db: Any) -> None:
    html = client.get("/request-help?lang=<script>").get_data(as_text=True)
    assert '<html lang="en"' in html and "<script>" not in html.split("<main")[1]


def test_language_chosen_on_the_form_is_kept_for_every_message(
    app: Any, client: Any, db: Any, resident_data: dict[str, Any], make_volunteer: Any
) -> None:
    form = {
        **{k: v for k, v in resident_data.items() if k not in ("shielding", "consent_given")},
        "shielding": "yes",
        "consent_given": "y",
        "preferred_channel": "sms",
        "locale": "so",
        "type": "shopping",
        "details": "Weekly shop",
    }
    page = client.get("/request-help/form?lang=pl").get_data(as_text=True)
    assert 'value="pl" checked' in page or 'checked value="pl"' in page or "Polski" in page
    assert client.post("/request-help/form", data=form).status_code == 302
    resident = db.session.scalar(select(Resident))
    assert resident.locale == "so"
    app.extensions["can_queue"].wait()
    from can_crm.models.request import HelpRequest

    request = deliver(app, db.session.scalar(select(HelpRequest)), make_volunteer())
    sent = messages_for(db, request)
    assert {m.locale for m in sent} == {"so"}
    assert "Codsigaaga" in sent[0].body or "Golaha" in sent[0].body
    page = client.get(f"/f/{feedback_token(db, request)}?lang=es").get_data(as_text=True)
    assert "¿Le llegó la ayuda?" in page


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("pl", ["Sprawdź postęp", "Twój kod pocztowy"]),
        ("es", ["Ver el progreso", "Su código postal"]),
        ("en", ["Check progress", "Your postcode"]),
    ],
)
def test_check_on_a_request_is_in_the_residents_language(
    client: Any, db: Any, make_request: Any, resident_data: dict[str, Any], locale: str, words: list[str]
) -> None:
    """The whole page: the form, its errors, the answer's rows, the progress and the day it was asked."""
    from can_crm.services.common import times

    req = make_request()
    form = client.get(f"/track?lang={locale}").get_data(as_text=True)
    assert all(w in form for w in words), locale
    refused = client.post("/track", data={"reference": "", "postcode": resident_data["postcode"]})
    found = client.post("/track", data={"reference": req.reference, "postcode": resident_data["postcode"]})
    page = found.get_data(as_text=True)
    month = {
        "pl": [
            "stycznia",
            "lutego",
            "marca",
            "kwietnia",
            "maja",
            "czerwca",
            "lipca",
            "sierpnia",
            "września",
            "października",
            "listopada",
            "grudnia",
        ],
        "es": [
            "enero",
            "febrero",
            "marzo",
            "abril",
            "mayo",
            "junio",
            "julio",
            "agosto",
            "septiembre",
            "octubre",
            "noviembre",
            "diciembre",
        ],
    }
    today = times.today()
    if locale == "pl":
        assert "Wpisz numer sprawy" in refused.get_data(as_text=True)
        assert "Postęp" in page and "Data prośby" in page and "Zakupy" in page and "Progress" not in page
        assert f"{today.day} {month['pl'][today.month - 1]} {today.year}" in page
        # The page around it too: the menu, the banner and the footer.
        assert "Zostań wolontariuszem" in page and "To nowa usługa prowadzona przez radę" in page
        assert "Oprogramowanie open source" in page and "This is a new service" not in page
    elif locale == "es":
        assert "Introduzca la referencia de su solicitud" in refused.get_data(as_text=True)
        assert "Progreso" in page and "Fecha de la solicitud" in page and "Progress" not in page
        assert f"{today.day} de {month['es'][today.month - 1]} de {today.year}" in page
    else:
        assert "Enter your request reference" in refused.get_data(as_text=True)
        assert "Progress" in page and "We have received your request" in page
        assert today.strftime("%-d %B %Y") in page


MISTAKES = {
    "name": "A" * 300,
    "address_line1": "<b>1</b>",
    "postcode": "ZZ",
    "phone": "123",
    "email": "not-an-email",
    "type": "food_parcel",
    "preferred_channel": "fax",
    "shielding": "maybe",
}


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        (
            "pl",
            [
                "Błąd: ",
                '<span class="govuk-visually-hidden">Błąd:</span> Wpisz prawdziwy kod pocztowy',
                "Wystąpił problem",
                ">Wstecz<",
                "Imię i nazwisko: najwyżej 120 znaków",
                "Adres, wiersz 1: nie może zawierać HTML ani kodu",
                "Wpisz prawdziwy kod pocztowy",
                "Wpisz prawdziwy numer telefonu, na przykład 020 7946 0000 lub 07911 123 456",
                "Wpisz adres e-mail w poprawnym formacie, na przykład name@example.com",
                "Wybierz: jak mamy się z Tobą kontaktować",
            ],
        ),
        ("ar", ["هناك مشكلة", "الاسم الكامل: يجب ألا يزيد عن 120 حرفًا", "أدخل رمزًا بريديًا حقيقيًا"]),
        ("es", ["Hay un problema", "Nombre completo: como máximo 120 caracteres", "Introduzca un código postal real"]),
        ("so", ["Waxaa jira dhibaato", "Magaca oo buuxa: ugu badnaan 120 xaraf", "Geli koodh boosto oo jira"]),
        (
            "en",
            [
                "Error: ",
                '<span class="govuk-visually-hidden">Error:</span> Enter a real postcode',
                "There is a problem",
                "Full name must be 120 characters or fewer",
                "Address line 1 must not contain HTML or code",
                "Enter a real postcode",
                "Select how we should contact you from the list: phone, sms, email, letter",
            ],
        ),
    ],
)
def test_a_residents_mistakes_are_named_in_their_language(client: Any, db: Any, locale: str, words: list[str]) -> None:
    """The services refuse in English; the resident's page says the same in the page's language, and keeps what
    they typed."""
    import html

    client.get(f"/request-help/form?lang={locale}")
    refused = client.post("/request-help/form", data=MISTAKES)
    page = html.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 400
    missing = [w for w in words if w not in page]
    assert not missing, (locale, missing)
    assert 'value="ZZ"' in page and 'value="not-an-email"' in page


def test_a_message_the_catalogue_does_not_know_is_shown_as_the_service_wrote_it(app: Any, make_user: Any) -> None:
    from flask_babel import refresh
    from flask_login import login_user

    from can_crm.i18n import translate_error

    with app.test_request_context("/request-help/form?lang=pl"):
        assert translate_error("Enter full name") == "Wpisz: imię i nazwisko"
        assert (
            translate_error("Select what help is needed from the list: a, b") == "Wybierz: jakiej pomocy potrzebujesz"
        )
        # A label the catalogue lacks, and a sentence it lacks: English rather than nothing.
        late = "Enter the latest time for a delivery as a time like 14:30"
        assert translate_error(late) == late
        assert translate_error("Urgency must be 1 (routine), 2 (soon) or 3 (urgent)").startswith("Urgency")
    with app.test_request_context("/request-help/form"):
        refresh()  # as before every request: the language is the request's, not the last one's
        assert translate_error("Enter full name") == "Enter full name"
    partner = make_user("partner")
    with app.test_request_context("/request-help/form?lang=pl"):
        refresh()
        login_user(partner)  # signed-in pages (staff, partners, volunteers) are English
        assert translate_error("Enter full name") == "Enter full name"
