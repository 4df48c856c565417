"""The GOV.UK component cache returns exactly what the macro renders, and only for calls it can key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from jinja2 import ChoiceLoader, DictLoader, Environment, FileSystemLoader, PackageLoader, PrefixLoader, Undefined
from markupsafe import Markup

from can_crm.lru import Lru
from can_crm.models.enums import Status, values
from can_crm.templating import _UNCACHEABLE, params_key
from can_crm.templating import Environment as CanEnvironment


def _env(cls: type[Environment] = Environment, **templates: str) -> Environment:
    """A plain Jinja environment, or (`CanEnvironment`) the app's, which memoises the components."""
    loader = ChoiceLoader(
        [DictLoader(templates), PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")})]
    )
    if cls is CanEnvironment:
        return CanEnvironment(Flask(__name__), loader=loader, autoescape=True)
    return Environment(loader=loader, autoescape=True)


PAGE = """{% from "govuk_frontend_jinja/components/button/macro.html" import govukButton %}
{% from "govuk_frontend_jinja/components/summary-list/macro.html" import govukSummaryList %}
{% from "govuk_frontend_jinja/components/fieldset/macro.html" import govukFieldset %}
{{ govukButton(button) }}
{{ govukSummaryList(summary) }}
{% call govukFieldset({'legend': {'text': legend}}) %}<p>{{ inside }}</p>{% endcall %}"""

CASES: list[dict[str, Any]] = [
    {"button": {"text": "Save"}, "summary": {"rows": [{"key": {"text": "Name"}, "value": {"text": "Ada <b>"}}]}},
    {
        "button": {"text": "Save"},
        "summary": {"rows": [{"key": {"text": "Name"}, "value": {"html": Markup("<b>Ada</b>")}}]},
    },
    {"button": {"text": "Save", "disabled": True}, "summary": {"rows": []}},
    {"button": {"text": "Save", "disabled": 1}, "summary": {"rows": [], "classes": "govuk-summary-list--no-border"}},
    {"button": {"text": "Send", "attributes": {"data-a": "1", "data-b": "2"}}, "summary": {"rows": []}},
    {"button": {"text": "Send", "attributes": {"data-b": "2", "data-a": "1"}}, "summary": {"rows": []}},
]


@pytest.mark.parametrize("case", CASES)
def test_memoised_components_render_exactly_what_the_macros_render(case: dict[str, Any]) -> None:
    plain = _env(page=PAGE)
    cached = _env(CanEnvironment, page=PAGE)
    context = {**case, "legend": "Who", "inside": "first"}
    expected = plain.get_template("page").render(**context)
    # Twice: the second render is served from the cache and must not differ by a byte.
    assert cached.get_template("page").render(**context) == expected
    assert cached.get_template("page").render(**context) == expected


def test_every_case_is_its_own_cache_entry_and_call_blocks_are_never_cached() -> None:
    env = _env(CanEnvironment, page=PAGE)
    cache = env.component_cache  # type: ignore[attr-defined]
    for case in CASES:
        env.get_template("page").render(**case, legend="Who", inside="first")
    # Two distinct buttons per disabled/attributes variant, one "Save"; summary lists likewise; no fieldset entry
    # because a {% call %} block varies with its body.
    first = env.get_template("page").render(**CASES[0], legend="Who", inside="second body")
    assert "second body" in first
    names = {name for name, _ in cache._items}
    assert names == {"govukButton", "govukSummaryList"}
    assert len(cache) == 5 + 4  # buttons: Save, Save+True, Save+1, two attribute orders; summary lists: 4 distinct


def test_params_key_tells_apart_what_renders_differently() -> None:
    assert params_key({"text": "<b>"}) != params_key({"text": Markup("<b>")})
    assert params_key({"a": True}) != params_key({"a": 1})
    assert params_key({"a": 1, "b": 2}) != params_key({"b": 2, "a": 1})
    assert params_key([1, "x"]) == params_key([1, "x"])
    assert params_key({"when": Undefined()}) is _UNCACHEABLE
    assert params_key({"rows": [{"value": object()}]}) is _UNCACHEABLE


def test_the_cache_is_bounded() -> None:
    cache: Lru[str, int] = Lru(3)
    for i in range(5):
        cache.put(str(i), i)
    assert len(cache) == 3
    assert cache.get("0") is None and cache.get("4") == 4


def test_template_globals_see_the_environment_and_name_their_keys_as_a_set() -> None:
    env = CanEnvironment(Flask(__name__), loader=DictLoader({"page": "{{ greeting }} {{ local }}"}))
    env.globals["greeting"] = "Hello"
    template = env.get_template("page", globals={"local": "there"})
    env.globals["late"] = "added after loading"
    assert template.render() == "Hello there"
    assert template.globals.keys() == {"local", *env.globals}
    assert template.globals["late"] == "added after loading"


def test_fixed_url_is_url_for_wherever_the_app_is_mounted() -> None:
    from flask import url_for

    from can_crm.templating import fixed_url

    app = Flask(__name__)
    app.add_url_rule("/help", "help", lambda: "")
    app.add_url_rule("/assets/<package>/<path:filename>", "asset", lambda package, filename: "")
    for root in ("", "/can", "/council/can", ""):
        with app.test_request_context("/help", base_url=f"http://localhost{root}/"):
            for endpoint, values in (("help", {}), ("asset", {"package": "govuk", "filename": "assets"})):
                assert fixed_url(endpoint, **values) == url_for(endpoint, **values)
                assert fixed_url(endpoint, **values).startswith(f"{root}/{'help' if endpoint == 'help' else 'assets'}")


def test_our_status_tag_is_memoised_and_renders_exactly_what_its_macro_renders() -> None:
    page = (
        '{% from "components/status_tag.html" import statusTag %}{% for s in statuses %}{{ statusTag(s) }}|{% endfor %}'
    )
    folder = str(Path(__file__).resolve().parents[3] / "templates")
    plain = Environment(loader=ChoiceLoader([DictLoader({"page": page}), FileSystemLoader(folder)]), autoescape=True)
    cached = CanEnvironment(
        Flask(__name__), loader=ChoiceLoader([DictLoader({"page": page}), FileSystemLoader(folder)]), autoescape=True
    )
    statuses = [*values(Status), "<odd & new>"]
    expected = plain.get_template("page").render(statuses=statuses)
    assert "&lt;odd &amp; new&gt;" in expected and 'govuk-tag--red">Escalated<' in expected
    for _ in range(2):  # the second time from the cache
        assert cached.get_template("page").render(statuses=statuses) == expected
    assert {key for _, key in cached.component_cache._items} >= set(statuses)  # type: ignore[attr-defined]


def test_path_for_is_url_for_for_every_value_and_wherever_the_app_is_mounted() -> None:
    from flask import url_for

    from can_crm.templating import path_for
    from can_crm.web import DatabaseId, Text

    app = Flask(__name__)
    app.url_map.converters["int"] = DatabaseId
    app.url_map.converters["default"] = app.url_map.converters["string"] = Text
    app.add_url_rule("/requests/<reference>/claim", "claim", lambda reference: "")
    app.add_url_rule("/requests/<reference>", "show", lambda reference: "")
    app.add_url_rule("/rounds/<int:round_id>/accept", "accept", lambda round_id: "")
    odd = ["CAN-AB12-CD34", "x_y", "with space", "a/b", "ü", "%41", "?q=1", "#top"]
    for root in ("", "/can", "/council/can", ""):
        with app.test_request_context("/", base_url=f"http://localhost{root}/"):
            for value in odd:
                for endpoint in ("claim", "show"):
                    assert path_for(endpoint, "reference", value) == url_for(endpoint, reference=value), value
            for number in (1, 42, 2147483647):
                assert path_for("accept", "round_id", number) == url_for("accept", round_id=number)
            assert path_for("claim", "reference", "CAN-1").startswith(f"{root}/requests/CAN-1/claim")
