"""Walk the app as a person would: follow every link from the start page, read every form on the way.

Shared by the form tests (which post every form found with bad values) and the browser tests (which run
axe-core on every page found). Nothing here is a hand-kept list of pages or forms: a page another team adds
is found as soon as a link reaches it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, NamedTuple
from urllib.parse import urljoin, urlsplit

from can_crm.services.common import times
from tests.conftest import PASSWORD, TOTP_SECRET, unused_totp_code

# Pages that change something on a GET or end the session: never followed.
SKIP_PREFIXES = ("/auth/sign-out", "/static/", "/assets/", "/govuk/", "/healthz")
# The same kind of page (one request, one volunteer...) is visited at most this many times.
PER_SHAPE = 2
# A walk stops after this many pages: well above what any role reaches (the coverage check below fails if a
# role's known pages were cut off by it).
MAX_PAGES = 250


@dataclass
class Field:
    name: str
    kind: str  # text, textarea, select, radio, checkbox, hidden, submit...
    values: list[str] = field(default_factory=list)  # the value(s) the page offers or fills in
    options: list[str] = field(default_factory=list)  # select options, radio and checkbox values


@dataclass
class Form:
    page: str
    action: str
    method: str
    fields: list[Field]

    @property
    def key(self) -> tuple[str, str, tuple[str, ...]]:
        """Forms that differ only in the id in their action are the same form."""
        return (self.method, shape(self.action), tuple(sorted({f.name for f in self.fields})))

    def field_names(self) -> list[str]:
        """Each posted name once, in page order, without the CSRF token."""
        seen: list[str] = []
        for f in self.fields:
            if f.name not in seen and f.name != "csrf_token":
                seen.append(f.name)
        return seen

    def parts(self, name: str) -> int:
        """How many inputs share `name` (3 for a GOV.UK date; radios and checkboxes count once)."""
        return sum(1 for f in self.fields if f.name == name and f.kind not in ("radio", "checkbox"))


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.forms: list[tuple[dict[str, str], list[Field]]] = []
        self._form: tuple[dict[str, str], list[Field]] | None = None
        self._select: Field | None = None
        self._textarea: Field | None = None
        self.csrf_token: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            self._form = (a, [])
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag in ("input", "button") and a.get("name"):
            kind = a.get("type", "text" if tag == "input" else "submit").lower()
            found = Field(a["name"], kind)
            if kind in ("radio", "checkbox"):
                found.options = [a.get("value", "on")]
                if "checked" in a:
                    found.values = [a.get("value", "on")]
            else:
                found.values = [a.get("value", "")]
            if a["name"] == "csrf_token":
                self.csrf_token = a.get("value")
            self._form[1].append(found)
        elif tag == "select" and a.get("name"):
            self._select = Field(a["name"], "select-multiple" if "multiple" in a else "select")
            self._form[1].append(self._select)
        elif tag == "option" and self._select is not None:
            self._select.options.append(a.get("value", ""))
            if "selected" in a:
                self._select.values.append(a.get("value", ""))
        elif tag == "textarea" and a.get("name"):
            self._textarea = Field(a["name"], "textarea", [""])
            self._form[1].append(self._textarea)

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea.values = [self._textarea.values[0] + data]

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def parse(page_url: str, html: str) -> tuple[list[str], list[Form], str | None]:
    """The page's own links (paths on this site), its forms, and its CSRF token if it has one."""
    parser = _PageParser()
    parser.feed(html)
    links = []
    for href in parser.links:
        url = urljoin(page_url, href)
        parts = urlsplit(url)
        if parts.scheme not in ("", "http", "https") or (parts.netloc and parts.netloc != "localhost"):
            continue
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if path.startswith("/") and not path.startswith(SKIP_PREFIXES):
            links.append(path)
    forms = []
    for attrs, fields in parser.forms:
        action = urlsplit(urljoin(page_url, attrs.get("action") or page_url))
        forms.append(
            Form(
                page=page_url,
                action=action.path + (f"?{action.query}" if action.query else ""),
                method=(attrs.get("method") or "get").lower(),
                fields=_merge_choices(fields),
            )
        )
    return links, forms, parser.csrf_token


def _merge_choices(fields: list[Field]) -> list[Field]:
    """Radios and checkboxes of one name become one field with every option."""
    merged: list[Field] = []
    by_name: dict[str, Field] = {}
    for f in fields:
        if f.kind in ("radio", "checkbox") and f.name in by_name:
            by_name[f.name].options += f.options
            by_name[f.name].values += f.values
            continue
        if f.kind in ("radio", "checkbox"):
            by_name[f.name] = f
        merged.append(f)
    return merged


def shape(path: str) -> str:
    """A path with its ids and references blanked: /coordinator/requests/CAN-AB12-CD34 -> .../{ref}."""
    path = path.split("?", 1)[0]
    path = re.sub(r"CAN-[0-9A-Z]{4}-[0-9A-Z]{4}", "{ref}", path)
    return re.sub(r"/\d+(?=/|$)", "/{id}", path)


# The guard against a walk that silently covers less than it should (as when staff sign-in gained a second
# factor the seed did not enrol, and every staff walk stopped at /auth/two-factor/setup unnoticed): the page
# shapes each role must reach, the minimum of each role's pages a form test posts to. The walk finds far more
# than this by itself; these are the pages a person in that role could not do their job without.
MUST_REACH: dict[str, set[str]] = {
    "anonymous": {"/", "/request-help", "/request-help/form", "/track", "/auth/sign-in", "/volunteer/sign-up"},
    "coordinator": {
        "/coordinator/",
        "/coordinator/requests/{ref}",
        "/coordinator/requests/new",
        "/coordinator/volunteers",
        "/coordinator/volunteers/{id}",
        "/coordinator/volunteers/{id}/vetting",
        "/coordinator/matching",
        "/coordinator/maps",
        "/coordinator/rounds",
        "/coordinator/rounds/{id}",
        "/coordinator/safeguarding",
        "/coordinator/call-tasks",
        "/coordinator/outreach",
        "/coordinator/dashboard",
        "/coordinator/tracing/",
        "/coordinator/tracing/interactions/new",
        "/coordinator/privacy/residents/{id}",
        "/coordinator/privacy/reviews",
        "/coordinator/privacy/retention",
        "/coordinator/matching/runs/{id}",
        "/coordinator/tracing/cases/{id}",
        "/coordinator/outreach/campaigns/{id}",
    },
    "admin": {
        "/admin/users",
        "/admin/users/{id}",
        "/admin/users/new",
        "/admin/outbox",
        "/admin/partners",
        "/admin/data-sharing-log",
        "/admin/open311-keys",
        "/admin/matching-settings",
        "/admin/audit",
        "/admin/processing-record",
    },
    "partner": {
        "/partner/",
        "/partner/requests/{ref}",
        "/partner/requests/new",
        "/partner/volunteers",
        "/partner/volunteers/new",
        "/partner/volunteers/upload",
    },
    "councillor": {"/partner/", "/partner/requests/{ref}", "/partner/requests/new"},
    "volunteer": {"/volunteer/", "/volunteer/tasks", "/volunteer/nearby", "/volunteer/round", "/volunteer/profile"},
}


def coverage_problems(role: str, found: Walk) -> list[str]:
    """What the walk as `role` should have reached and did not (empty when it covered its ground)."""
    missing = sorted(MUST_REACH[role] - found.reached())
    if not missing:
        return []
    stuck = sorted({found.landed[p] for p in found.pages if found.landed.get(p, p).startswith("/auth/")})
    return [f"{role}: the walk never reached {', '.join(missing)} ({len(found.pages)} pages; ended on {stuck})"]


class Fetched(NamedTuple):
    """What a walk's `get(path)` returns: the answer after redirects, and the path it ended on."""

    status: int
    content_type: str
    body: str
    landed: str  # the path (and query) of the last request, after any redirects

    @classmethod
    def of(cls, response: Any) -> Fetched:
        """From a Flask test client's response, asked for with follow_redirects=True."""
        query = response.request.query_string.decode()
        landed = response.request.path + (f"?{query}" if query else "")
        if "attachment" in response.headers.get("Content-Disposition", ""):
            return cls(response.status_code, "application/x-download", "", landed)  # a file, not a page
        return cls(response.status_code, response.content_type or "", response.get_data(as_text=True), landed)


@dataclass
class Walk:
    pages: dict[str, int] = field(default_factory=dict)  # path -> HTTP status
    landed: dict[str, str] = field(default_factory=dict)  # path -> where its redirects ended
    forms: list[Form] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # pages that answered 5xx or raised

    def reached(self) -> set[str]:
        """The shapes of the pages the walk really saw: answered 200 where they were asked for, not on
        another page a redirect led to (a staff page that bounces to sign-in or to the second factor is not
        reached, whatever the status of the sign-in page)."""
        return {
            shape(path)
            for path, status in self.pages.items()
            if status == 200 and shape(self.landed.get(path, path)) == shape(path)
        }


def walk(get: Callable[[str], Fetched], start: list[str], max_pages: int = MAX_PAGES) -> Walk:
    """Breadth first from `start`. `get(path)` returns the answer after redirects (see `Fetched`)."""
    result = Walk()
    queue = list(start)
    shapes: dict[str, int] = {}
    seen_forms: set[tuple[str, str, tuple[str, ...]]] = set()
    while queue and len(result.pages) < max_pages:
        path = queue.pop(0)
        if path in result.pages:
            continue
        page_shape = shape(path) + ("?" if "?" in path else "")
        if shapes.get(page_shape, 0) >= PER_SHAPE:
            continue
        shapes[page_shape] = shapes.get(page_shape, 0) + 1
        try:
            status, content_type, body, landed = get(path)
        except Exception as exc:  # noqa: BLE001 - a page that raises is what this walk is looking for
            result.pages[path] = 500
            result.errors.append(f"GET {path} raised {type(exc).__name__}: {exc}")
            continue
        result.pages[path] = status
        result.landed[path] = landed
        if status >= 500:
            result.errors.append(f"GET {path} answered {status}")
        if not content_type.startswith("text/html"):
            continue
        links, forms, _ = parse(landed, body)
        for form in forms:
            if form.key not in seen_forms:
                seen_forms.add(form.key)
                result.forms.append(form)
        queue += [link for link in links if link not in result.pages]
    return result


# -- signing in as a person would --------------------------------------------------------------------------


def sign_in(client: Any, email: str) -> None:
    """Sign in on a Flask test client through the real pages with CSRF on: the password, then (staff) the
    TOTP code of the secret `seed` enrolled them with. Fails loudly unless the client ends up signed in:
    a walk that silently stayed on the sign-in or second-factor page would cover nothing."""
    _, _, token = parse("/auth/sign-in", client.get("/auth/sign-in").get_data(as_text=True))
    response = client.post("/auth/sign-in", data={"email": email, "password": PASSWORD, "csrf_token": token or ""})
    assert response.status_code == 302, f"sign-in as {email}: {response.status_code} {_problems(response)}"
    location = response.headers["Location"]
    assert "/auth/two-factor/setup" not in location, f"{email} is staff but the walk seed did not enrol them"
    if "/auth/two-factor" in location:
        _, _, token = parse("/auth/two-factor", client.get("/auth/two-factor").get_data(as_text=True))
        # A code works once: signing in again after a fuzzed form signed the walk out takes the next one.
        response = client.post("/auth/two-factor", data={"code": unused_totp_code(email), "csrf_token": token or ""})
        assert response.status_code == 302, f"second factor for {email}: {response.status_code} {_problems(response)}"
        location = response.headers["Location"]
    assert "/auth/" not in location, f"sign-in as {email} ended on {location}"


def _problems(response: Any) -> list[str]:
    return re.findall(
        r"govuk-error-message.*?</p>|<p class=.govuk-body.>.*?</p>", response.get_data(as_text=True), re.S
    )


# -- the accounts and requests a walk starts from ----------------------------------------------------------


def seed(postcode: str) -> dict[str, str]:
    """One account for each role and requests in the states that show the most forms. Returns role -> email."""
    from can_crm import unit_of_work
    from can_crm.extensions import db
    from can_crm.models.enums import Channel, VolunteerStatus
    from can_crm.models.resident import Resident
    from can_crm.services.accounts import two_factor, users
    from can_crm.services.outreach import campaigns
    from can_crm.services.privacy import consent
    from can_crm.services.requests import intake as requests
    from can_crm.services.requests import operations, safeguarding
    from can_crm.services.requests.events import Actor
    from can_crm.services.rounds import approval
    from can_crm.services.tracing import cases
    from can_crm.services.volunteers import profiles as volunteers

    resident = {
        "name": "Margaret Okafor",
        "address_line1": "12 Fulham Palace Road",
        "postcode": postcode,
        "phone": "07911 123456",
        "preferred_channel": "phone",
        "shielding": True,
        "consent_given": True,
    }
    coordinator = users.create_user("coordinator@example.gov.uk", "Casey Coordinator", "coordinator", PASSWORD)
    admin = users.create_user("admin@example.gov.uk", "Ada Admin", "admin", PASSWORD)
    partner = users.create_user("partner@example.gov.uk", "Pat Partner", "partner", PASSWORD, "Age UK")
    volunteer_user = users.create_user("volunteer@example.gov.uk", "Val Volunteer", "volunteer", PASSWORD)
    volunteer = volunteers.create_volunteer(
        {
            "name": "Val Volunteer",
            "home_postcode": postcode,
            "skills": ["shopping", "driving"],  # drives: the delivery-round pages offer her a round
            "max_km": "5",
            "capacity": "3",
            "dbs_level": "basic",
            "active": True,
        },
        status=VolunteerStatus.ACTIVE,  # vetted: pages that offer work show it
    )
    staff = Actor(role="coordinator", user_id=coordinator.id)
    new = requests.submit(
        {"type": "shopping", "urgency": 2, "details": "Shop"}, staff, Channel.PHONE, resident_data=resident
    )
    triaged = requests.submit({"type": "prescription", "urgency": 3}, staff, Channel.PHONE, resident_data=resident)
    matched = requests.submit({"type": "dog_walking", "urgency": 1}, staff, Channel.PHONE, resident_data=resident)
    requests.submit(
        {"type": "shopping", "urgency": 1},
        Actor(role="partner", user_id=partner.id),
        Channel.PARTNER,
        resident_data=resident,
    )
    db.session.flush()
    for req in (triaged, matched):
        operations.triage(req, {"urgency": str(req.urgency), "min_dbs": "none"}, staff)
    operations.assign_volunteer(matched, volunteer.id, staff)
    # Food parcels: one on a draft plan (the edit forms), one on an approved plan (its stop is offered to Val).
    draft_food, approved_food = (
        requests.submit({"type": "food_parcel", "urgency": u}, staff, Channel.PHONE, resident_data=resident)
        for u in (2, 3)
    )
    db.session.flush()
    plans = [_seed_round_plan(coordinator.id, volunteer.id, req, staff) for req in (draft_food, approved_food)]
    approval.approve_plan(plans[1].id, coordinator)
    ward = db.session.get(Resident, new.resident_id).ward_code
    councillor = users.create_user("councillor@example.gov.uk", "Cal Councillor", "councillor", PASSWORD, None, ward)
    # Staff sign in with a second factor: enrol them with the fixtures' known secret, or the walk stops at
    # /auth/two-factor/setup and covers none of their pages. The coordinator also holds the two permissions
    # an admin grants, so the tracing and privacy pages are walked too.
    for staff_user in (coordinator, admin, partner, councillor):
        two_factor.enrol_known_secret(staff_user, TOTP_SECRET)
    coordinator.can_trace = coordinator.privacy_officer = True
    unit_of_work.commit()
    safeguarding.raise_concern(coordinator, new.reference, "Seems confused about the dates")
    # The pages behind a list: a finished matching run with a proposal to decide, a Track and Trace case,
    # an outreach campaign with a call list (the shielded resident is in its cohort), a review to resolve.
    _seed_matching_run(coordinator.id, triaged.id, volunteer.id)
    cases.create_case({"resident_id": new.resident_id, "onset": times.today().isoformat()}, coordinator.id)
    campaigns.create_campaign({"name": "Shielding check-in", "channel": "phone"}, coordinator.id)
    consent.open_review(new.resident_id, "Not offered a volunteer", "Please have a person look again", coordinator.id)
    unit_of_work.commit()
    accounts = {"admin": admin, "coordinator": coordinator, "partner": partner, "councillor": councillor}
    accounts["volunteer"] = volunteer_user
    return {role: user.email for role, user in accounts.items()}


def _seed_matching_run(coordinator_id: int, request_id: int, volunteer_id: int) -> None:
    """A finished matching run proposing Val for a request, written directly (no engine run in a walk)."""
    from can_crm.extensions import db
    from can_crm.models.base import utcnow
    from can_crm.models.matching import MatchingRun, MatchProposal

    run = MatchingRun(
        started_by_id=coordinator_id,
        request_types=[],
        state="proposed",
        requests_considered=1,
        volunteers_considered=1,
        served_by_urgency={"3": 1},
        total_km=0.5,
        optimal=True,
        stats={},
        finished_at=utcnow(),
    )
    db.session.add(run)
    db.session.flush()
    db.session.add(
        MatchProposal(
            run_id=run.id, request_id=request_id, volunteer_id=volunteer_id, km=0.5, explanation="0.5 km away"
        )
    )
    db.session.flush()


def _seed_round_plan(coordinator_id: int, volunteer_id: int, request: Any, staff: Any) -> Any:
    """A draft delivery-round plan with one round and one stop, written directly (no engine run in a walk)."""
    from can_crm.extensions import db
    from can_crm.models.rounds import DeliveryRound, RoundPlan, RoundStop
    from can_crm.services.requests import operations

    operations.triage(request, {"urgency": str(request.urgency), "min_dbs": "none"}, staff)
    plan = RoundPlan(
        created_by_id=coordinator_id,
        day=times.today(),
        state="draft",
        hub_name="Town hall",
        hub_lat=51.4927,
        hub_lon=-0.2247,
        window_start_min=540,
        window_end_min=1020,
        service_min=5,
        speed_kmh=20.0,
        road_factor=1.3,
        time_limit_s=1,
        total_km=0.0,
        served_by_urgency={},
    )
    db.session.add(plan)
    db.session.flush()
    rnd = DeliveryRound(
        plan_id=plan.id, volunteer_id=volunteer_id, capacity=10, shift_start_min=540, shift_end_min=780, km=0.0
    )
    db.session.add(rnd)
    db.session.flush()
    db.session.add(
        RoundStop(
            plan_id=plan.id,
            round_id=rnd.id,
            request_id=request.id,
            position=0,
            parcels=1,
            urgency=request.urgency,
            window_start_min=540,
            window_end_min=1020,
            arrival_min=545.0,
        )
    )
    db.session.flush()
    return plan


def restore_accounts(emails: dict[str, str]) -> None:
    """A fuzzed admin form may demote or deactivate a seeded account, reset its second factor or take a
    permission away: put each back, so the walk goes on."""
    from sqlalchemy import select

    from can_crm import unit_of_work
    from can_crm.extensions import db
    from can_crm.models.base import utcnow
    from can_crm.models.user import User

    db.session.rollback()
    for role, email in emails.items():
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            continue
        user.role, user.active = role, True
        if role != "volunteer" and user.totp_secret != TOTP_SECRET:  # an admin form reset the second factor
            user.totp_secret, user.totp_enrolled_at = TOTP_SECRET, utcnow()
        if role == "coordinator":  # an admin form took a permission away
            user.can_trace = user.privacy_officer = True
    unit_of_work.commit()
