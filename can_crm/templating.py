"""How GOV.UK Frontend components are rendered: each distinct call once per process.

Profiled on the coordinator pages (100,000-request database), the govuk-frontend-jinja component macros
were most of a page's Python time: a request page calls them ~60 times (summary lists, radios, checkboxes,
labels, buttons) and each call walks the component's whole template. Their HTML depends on their `params`
alone (the library imports them without context: no request, user or locale reaches them), so the output
for one `params` value is kept in a bounded per-process LRU and reused by every later call with an equal
`params`. Equal means same keys in the same order, same types (Markup is not str, True is not 1) and same
values; a call with anything else (a `caller` block, Jinja's Undefined, a date) is rendered every time.

Like the page cache, this holds rendered HTML in the worker's memory only, evicted by newer entries.
"""

from __future__ import annotations

import os
import re
from collections import ChainMap
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

from flask import Flask, current_app, g, render_template, request, url_for
from flask.templating import Environment as FlaskEnvironment
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from govuk_frontend_wtf.gov_form_base import GovFormBase
from jinja2 import Template as JinjaTemplate
from jinja2.environment import TemplateModule
from jinja2.runtime import Macro
from markupsafe import Markup

from can_crm.i18n import error_prefix
from can_crm.lru import Lru
from can_crm.services.common import times
from can_crm.services.common.validation import display_phone

COMPONENTS = os.path.join("govuk_frontend_jinja", "templates", "components", "")
CACHE_SIZE = 4096

_UNCACHEABLE = object()
_Key = tuple[Any, ...] | str


def params_key(value: Any) -> _Key | object:
    """A hashable key equal for two values exactly when a component renders them identically."""
    kind = type(value)
    if kind is str:
        return value  # type: ignore[no-any-return]
    if kind is Markup:
        return ("html", str(value))
    if value is None or kind in (bool, int, float):
        return (kind.__name__, value)
    if kind is dict:
        items = []
        for k, v in value.items():
            kv = params_key(v)
            if kv is _UNCACHEABLE:
                return _UNCACHEABLE
            items.append((k, kv))
        return ("dict", tuple(items))
    if kind in (list, tuple):
        parts = []
        for v in value:
            kv = params_key(v)
            if kv is _UNCACHEABLE:
                return _UNCACHEABLE
            parts.append(kv)
        return ("list", tuple(parts))
    return _UNCACHEABLE


# Our own components whose macros, like GOV.UK's, depend on their arguments alone (no context, no language): the
# queue draws a status tag on every row.
PURE_COMPONENTS = frozenset({"components/status_tag.html"})


def _is_component(name: str | None, filename: str | None) -> bool:
    """A govuk-frontend-jinja component's macro file (its loader names it without the package prefix), or one of
    our `PURE_COMPONENTS`."""
    if name in PURE_COMPONENTS:
        return True
    return filename is not None and COMPONENTS in filename and filename.endswith("macro.html")


def memoised(macro: Macro, cache: Lru[tuple[str, Any], Markup]) -> Callable[..., Any]:
    """`macro(params)`, served from `cache` for a `params` seen before; any other call goes straight through."""
    name = macro.name or ""

    def call(*args: Any, **kwargs: Any) -> Any:
        if kwargs or len(args) != 1:
            return macro(*args, **kwargs)
        key = params_key(args[0])
        if key is _UNCACHEABLE:
            return macro(*args)
        html = cache.get((name, key))
        if html is None:
            html = Markup(macro(*args))  # noqa: S704 - the macro's own output, already escaped by it
            cache.put((name, key), html)
        return html

    return call


def _render_widget(widget: GovFormBase, params: dict[str, Any]) -> Markup:
    # The widget's template is one line: import the GOV.UK macro (without context) and call it with `params`.
    # Its HTML is therefore a function of `params` too: kept in the components' cache, rendered straight from
    # the environment on a miss (the same HTML as Flask's render_template, without a full Flask render).
    error = params.get("errorMessage")
    if isinstance(error, dict) and "visuallyHiddenText" not in error:
        hidden = error_prefix()  # "Error:" read out before the message, in a resident's language
        if hidden is not None:
            params = {**params, "errorMessage": {**error, "visuallyHiddenText": hidden}}
    cache = current_app.jinja_env.component_cache  # type: ignore[attr-defined]  # our Environment's
    key = params_key(params)
    html = None if key is _UNCACHEABLE else cache.get((widget.template, key))
    if html is None:
        html = Markup(current_app.jinja_env.get_template(widget.template).render(params=params))  # noqa: S704 - the GOV.UK macros escape their params
        if key is not _UNCACHEABLE:
            cache.put((widget.template, key), html)
    return html


class _Globals(ChainMap[str, Any]):
    """A template's globals over the environment's (as Jinja makes them), with a plain set for keys().

    Jinja subtracts one template's global names from another's on every `{% from ... import %}`; over
    ChainMap's key view that is a Python-level lookup per name, 1-2 ms of every page when profiled.
    """

    def keys(self) -> set[str]:  # type: ignore[override]
        return set().union(*self.maps)


class Template(JinjaTemplate):
    """A template whose module, when it is a GOV.UK component's, exports its macros memoised.

    The module is what `{% from ... import %}` reads, so every import gets the memoised macros; they are made
    when a component is first used (no start-up cost, and a template reloaded or evicted from Jinja's cache
    is memoised again when it is loaded again).
    """

    def make_module(
        self, vars: dict[str, Any] | None = None, shared: bool = False, locals: Mapping[str, Any] | None = None
    ) -> TemplateModule:
        module = super().make_module(vars, shared, locals)
        cache = getattr(self.environment, "component_cache", None)
        if cache is not None and _is_component(self.name, self.filename):
            for attr, value in list(module.__dict__.items()):
                if isinstance(value, Macro):
                    setattr(module, attr, memoised(value, cache))
        return module


class Environment(FlaskEnvironment):
    template_class = Template

    def __init__(self, *args: Any, **options: Any) -> None:
        super().__init__(*args, **options)
        self.component_cache: Lru[tuple[str, Any], Markup] = Lru(CACHE_SIZE)

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        return _Globals({} if d is None else d, self.globals)


_FIXED_URLS: dict[tuple[str, str, tuple[tuple[str, Any], ...]], str] = {}


def fixed_url(endpoint: str, **values: Any) -> str:
    """`url_for` for the links every page repeats (the menu, the footer, styles and scripts): the same for every
    request to this deployment, so each is built once per process (a page built some twenty, profiled). The app
    sets no URL defaults, so a URL depends only on the endpoint, its values and where the app is mounted."""
    key = (request.script_root, endpoint, tuple(sorted(values.items())))
    url = _FIXED_URLS.get(key)
    if url is None:
        url = _FIXED_URLS[key] = url_for(endpoint, **values)
    return url


# A value that stands for itself in any URL path, unquoted; the marks the URL is built with, one for each kind of
# value (a number's converter takes only numbers: the largest id a DatabaseId takes).
_PLAIN = re.compile(r"[A-Za-z0-9_-]+")
_MARKS: dict[type, str | int] = {str: "PATHFORVALUEMARK", int: 999_999_999}
_PATTERNS: dict[tuple[str, str, str, type], tuple[str, str]] = {}


def path_for(endpoint: str, name: str, value: str | int) -> str:
    """`url_for(endpoint, name=value)` for a link repeated on every row of a page (a reference in each form's
    action): the URL is built once per process with a mark in place of the value, which each row puts in. A value
    that is not plain letters, digits, "-" or "_" (none of ours, but a path must never be wrong) goes through
    `url_for`. Twenty `url_for` calls were a twentieth of the Nearby page's Python, profiled."""
    kind = type(value)
    text = str(value)
    if kind not in _MARKS or not _PLAIN.fullmatch(text):
        values: dict[str, Any] = {name: value}
        return url_for(endpoint, **values)
    key = (request.script_root, endpoint, name, kind)
    pattern = _PATTERNS.get(key)
    if pattern is None:
        mark: dict[str, Any] = {name: _MARKS[kind]}
        before, _, after = url_for(endpoint, **mark).partition(str(_MARKS[kind]))
        pattern = _PATTERNS[key] = (before, after)
    return pattern[0] + text + pattern[1]


def frame(name: str) -> Markup:
    """A part of every page's frame (the header's menu and phase banner, the footer), each way it can look rendered
    once per process: it depends only on who is signed in (their role, whether they trace contacts), the page's
    endpoint and language, and the deployment (see the note at the top of each part). Rendered afresh on every page
    they were a sixth of a volunteer's short page, profiled."""
    user = current_user
    signed_in = bool(user.is_authenticated)
    key = (
        request.script_root,
        request.endpoint,
        str(get_locale() or "en"),
        signed_in,
        user.role if signed_in else None,
        bool(user.can_trace) if signed_in else False,
    )
    # Kept beside the GOV.UK components' HTML, in the environment's one cache of rendered HTML (a frame's key is
    # its template's name, as a component's is its macro's, and the frame's inputs).
    cache = current_app.jinja_env.component_cache  # type: ignore[attr-defined]  # our Environment's
    html = cache.get((name, key))
    if html is None:
        html = Markup(render_template(name))  # noqa: S704 - our own template, autoescaped
        cache.put((name, key), html)
    return html  # type: ignore[no-any-return]


def csrf_token() -> str:
    """This request's CSRF token for a form: Flask-WTF's own per-request copy once it has made one. Its
    `generate_csrf` reads the configuration and the session again on every call, and a volunteer's page with a
    form per task called it a dozen times."""
    token = g.get("csrf_token")  # where Flask-WTF keeps it (WTF_CSRF_FIELD_NAME, which we leave at its default)
    return str(token) if token is not None else str(generate_csrf())


def init_app(app: Flask) -> None:
    """Form widgets render their macro directly, from the components' cache on a repeat; `|when(format)` shows a
    moment on the council's clock (and a calendar date as it is); `|long_date` the same day in the page's language
    (resident pages); `|phone` a number as people dial it."""
    GovFormBase.render = _render_widget
    app.jinja_env.filters["when"] = times.when
    app.jinja_env.filters["phone"] = display_phone
    app.jinja_env.filters["long_date"] = times.long_date
    app.jinja_env.globals["fixed_url"] = fixed_url
    app.jinja_env.globals["path_for"] = path_for
    app.jinja_env.globals["frame"] = frame
    # In place of Flask-WTF's generate_csrf (see csrf_token), which it sets as a global and a context processor: a
    # processor registered after its own wins.
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.context_processor(lambda: {"csrf_token": csrf_token})
