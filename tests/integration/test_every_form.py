"""Every form of the app, found by walking the pages as each role, answers bad input with a page, never a 5xx.

Each form is posted (or, for a GET form, submitted) with a valid CSRF token and values missing, repeated,
empty, oversized, hostile (HTML, SQL text, NUL bytes, control characters, right-to-left marks) and out of
range, on PostgreSQL and on SQLite: the two databases refuse different things (NUL in text, over-long
text, integer range), so a check one of them does for us must be done by the app for both.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import g
from site_walk import Fetched, Form, coverage_problems, parse, restore_accounts, seed, sign_in, walk

from tests.conftest import ROOT, FreshUserClient, postcode_in

ROLES = ["anonymous", "admin", "coordinator", "partner", "councillor", "volunteer"]
START = ["/", "/coordinator/", "/partner/", "/admin/users", "/request-help", "/track"]
PASSWORD_PAGE = "/auth/password"
# The fewest distinct forms each role's walk must post (a little under what it finds today): a walk that
# lost its way (sign-in broken, a seed short of data, navigation gone) fails here instead of passing on less.
MIN_FORMS = {"anonymous": 4, "admin": 12, "coordinator": 32, "partner": 6, "councillor": 3, "volunteer": 4}
HOSTILE = [
    "",
    "   ",
    "x" * 100_000,
    "<script>alert(1)</script><b onmouseover=alert(1)>",
    "'; DROP TABLE requests; -- \" OR 1=1",
    "nul\x00byte",
    "\x01\x02\x07\x1b[31m\x7f",
    "\u202eevil\u202c\u200f\u061c",
    "99999999999999999999",
    "2147483648",
    "-1",
    "0",
    "1e309",
    "NaN",
    "\u00b2",
    "\u0663\u0664",
]


def _apps_config(extra: dict[str, Any], postcode_index: Path) -> dict[str, Any]:
    return {
        "CAN_ENV": "test",
        "TESTING": True,
        "WTF_CSRF_ENABLED": True,  # posted as a browser would: the token read from the page
        "REDIS_URL": None,
        "POSTCODE_INDEX": str(postcode_index),
        "JOB_SWEEP_SECONDS": 0,
        "ROUNDS_TIME_LIMIT_SECONDS": 1,  # the planner searches until its limit: keep tests quick
        **extra,
    }


@pytest.fixture(params=["postgresql", "sqlite"])
def csrf_app(
    request: pytest.FixtureRequest, db: Any, database_url: str, postcode_index: Path, tmp_path: Path
) -> Iterator[Any]:
    """The app with CSRF on, on the test PostgreSQL database (emptied by `db` afterwards) or a new SQLite one."""
    from flask_migrate import upgrade

    from can_crm import create_app

    if request.param == "postgresql":
        extra = {
            "SQLALCHEMY_DATABASE_URI": database_url.replace("postgresql://", "postgresql+psycopg://"),
            "SQLALCHEMY_ENGINE_OPTIONS": {},
        }
    else:
        extra = {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'can_crm.sqlite'}",
            "SQLALCHEMY_ENGINE_OPTIONS": {},
            "HEATMAP_CACHE_DIR": str(tmp_path / "heatmaps"),
            # Jobs run after each commit in the same thread: this test is about answers to bad input, and the
            # seed's burst of writes racing in-process job threads for SQLite's one writer lock is not.
            "JOBS_INLINE": True,
        }
    app = create_app(_apps_config(extra, postcode_index))
    app.test_client_class = FreshTokenClient
    with app.app_context():
        if request.param == "sqlite":
            upgrade(directory=str(ROOT / "migrations"))
        yield app
        app.extensions["can_queue"].wait()
        from can_crm.extensions import db as _db

        _db.session.remove()
        _db.engine.dispose()


class FreshTokenClient(FreshUserClient):
    """The test holds an app context open, so `g` outlives a request: forget the CSRF token Flask-WTF keeps
    there too, or one client's page would carry the token of the client before it."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        g.pop("csrf_token", None)
        return super().open(*args, **kwargs)


class Browser:
    """A test client that signs in again when a fuzzed post signed it out, and records every 5xx or crash."""

    def __init__(self, app: Any, email: str | None) -> None:
        self.client = app.test_client()
        self.email = email
        self.failures: list[str] = []
        self.unexplained: list[str] = []
        self.posts = 0
        self.sign_in()

    def sign_in(self) -> None:
        if self.email is not None:
            sign_in(self.client, self.email)  # the password and, for staff, the second factor

    def get(self, path: str) -> Fetched:
        response = self.client.get(path, follow_redirects=True)
        landed = response.request.path + (
            f"?{response.request.query_string.decode()}" if response.request.query_string else ""
        )
        return Fetched(response.status_code, response.content_type or "", response.get_data(as_text=True), landed)

    def token_for(self, form: Form) -> str:
        """A fresh CSRF token from the form's own page, signing in again if the session was lost.

        The page may no longer show any form (an earlier post approved the round plan it was on): then a token
        from another page of the session (the change-password page: every account has it, and no shared page
        cache serves it), as a browser tab opened before that post still holds one. Posting none would only test
        the CSRF refusal, not the form's own answer to its input.
        """
        fetched = self.get(form.page)
        _, _, token = parse(form.page, fetched.body)
        signed_out = fetched.landed != form.page and fetched.landed.startswith(("/auth/sign-in", "/auth/two-factor"))
        if self.email is not None and (token is None or signed_out):
            self.sign_in()
            _, _, token = parse(form.page, self.get(form.page).body)
        if self.email is not None and token is None:
            _, _, token = parse(PASSWORD_PAGE, self.get(PASSWORD_PAGE).body)
        return token or ""

    def send(self, form: Form, data: list[tuple[str, str]], label: str) -> None:
        self.posts += 1
        try:
            if form.method == "post":
                response = self.client.post(
                    form.action, data=urlencode(data), content_type="application/x-www-form-urlencoded"
                )
            else:
                separator = "&" if "?" in form.action else "?"
                response = self.client.get(form.action + separator + urlencode(data))
            status = response.status_code
        except Exception as exc:  # noqa: BLE001 - an exception is the failure this test looks for
            self.failures.append(
                f"{form.method.upper()} {form.action} [{label}] raised {type(exc).__name__}: {exc}"[:400]
            )
            return
        if status >= 500:
            self.failures.append(f"{form.method.upper()} {form.action} [{label}] answered {status}")
        elif form.method == "post" and status in (400, 409) and (response.content_type or "").startswith("text/html"):
            # Refused input is answered the GOV.UK way: the form again with an error summary and, when the form
            # has a field a person fills in (not only hidden values behind a button), a message by that field.
            # A 409 (the thing the form acts on has moved on: a request matched, a plan approved) may no longer
            # show the form, so it needs the summary saying why; where it does show the form, the page tests
            # check the message by the field.
            body = response.get_data(as_text=True)
            fillable = any(f.kind not in ("hidden", "submit") for f in form.fields)
            if "govuk-error-summary" not in body or (status == 400 and fillable and "govuk-error-message" not in body):
                self.unexplained.append(
                    f"POST {form.action} [{label}] answered {status} without a GOV.UK error message"
                )


def baseline(form: Form, postcode: str) -> dict[str, list[str]]:
    """A plausible filling: what the page shows, the first choice, or a sensible value by the field's name."""
    values: dict[str, list[str]] = {}
    for f in form.fields:
        if f.name == "csrf_token":
            continue
        if f.kind in ("radio", "checkbox", "select", "select-multiple"):
            chosen = f.values or [o for o in f.options if o][:1] or f.options[:1]
            values[f.name] = list(chosen)
        elif f.kind == "submit":
            values.setdefault(f.name, []).append(f.values[0] if f.values else "")
        else:
            value = f.values[0] if f.values and f.values[0] else ""
            if not value:
                lowered = f.name.lower()
                value = (
                    postcode
                    if "postcode" in lowered
                    else "someone@example.org"
                    if "email" in lowered
                    else "07911 123456"
                    if "phone" in lowered
                    else "Pat Example"
                )
            values.setdefault(f.name, []).append(value)
    return values


def mutations(form: Form, postcode: str) -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """(label, body without the token) for every kind of bad input."""
    base = baseline(form, postcode)
    names = form.field_names()

    def flat(values: dict[str, list[str]]) -> list[tuple[str, str]]:
        return [(k, v) for k, vs in values.items() for v in vs]

    yield "valid-looking", flat(base)
    yield "nothing at all", []
    for hostile in HOSTILE:
        yield f"every field {hostile[:12]!r}", [(name, hostile) for name in names]
    for i, name in enumerate(names):
        others = {k: v for k, v in base.items() if k != name}
        hostile = HOSTILE[i % len(HOSTILE)]
        yield f"{name} missing", flat(others)
        yield f"{name} repeated", flat(others) + [(name, hostile), (name, HOSTILE[(i + 3) % len(HOSTILE)])]
        yield f"{name}={hostile[:12]!r}", flat({**others, name: [hostile]})
        if form.parts(name) == 3:  # a GOV.UK date: the wrong number of boxes, and numbers that make no date
            for parts in (["1"], ["1", "2"], ["1", "2", "2030", "4"], ["31", "2", "2030"], ["99", "99", "99999999"]):
                yield f"{name} as {parts}", flat(others) + [(name, p) for p in parts]


def test_every_form_answers_bad_input_without_a_server_error(csrf_app: Any, postcode_index: Path) -> None:
    postcode = postcode_in(postcode_index)
    emails = seed(postcode)
    failures: list[str] = []
    coverage: list[str] = []
    unexplained: list[str] = []
    forms_seen = posts = 0
    for role in ROLES:
        browser = Browser(csrf_app, emails.get(role))
        found = walk(browser.get, START)
        coverage += coverage_problems(role, found)
        failures += [f"{role}: {e}" for e in found.errors]
        role_forms = 0
        for form in found.forms:
            if form.action.startswith("/auth/sign-out") or form.action.startswith("/auth/logout"):
                continue  # signing out with bad values is covered as anonymous sign-in; it would end the walk
            forms_seen += 1
            role_forms += 1
            token = browser.token_for(form) if form.method == "post" else ""
            for label, data in mutations(form, postcode):
                body = [("csrf_token", token), *data] if token else data
                browser.send(form, body, label)
            restore_accounts(emails)
        failures += [f"{role}: {f}" for f in browser.failures]
        unexplained += [f"{role}: {f}" for f in browser.unexplained]
        posts += browser.posts
        print(f"{role}: {len(found.reached())} kinds of page, {role_forms} forms")
        if role_forms < MIN_FORMS[role]:
            coverage.append(f"{role}: only {role_forms} forms posted (at least {MIN_FORMS[role]} expected)")
    print(f"{forms_seen} forms, {posts} submissions")
    assert not coverage, "the walk did not cover the app:\n" + "\n".join(coverage)
    assert not failures, f"{len(failures)} server errors:\n" + "\n".join(failures[:60])
    assert not unexplained, f"{len(unexplained)} refusals without a GOV.UK error message:\n" + "\n".join(
        unexplained[:60]
    )
