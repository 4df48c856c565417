"""A small per-process cache of whole rendered pages that every user of one role sees identically.

The coordinator queue is the busiest page and the same for every coordinator. A cached copy is served
only while the data it shows is unchanged (a version the caller computes in one cheap query) and within
the same minute (overdue markers depend on the clock). Pages with a flash message, errors (status other
than 200) or anything but GET are never cached. Nothing personal to one user may be on a cached page; the
session's CSRF token and the response's CSP nonce are filled in for each response.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, current_app, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from can_crm import http
from can_crm.lru import Lru
from can_crm.models.base import utcnow

PAGE_CACHE_SIZE = 256
# What differs per response on a page that is otherwise the same for every user of a role: the session's CSRF
# token (in every form) and the response's CSP nonce (on every script and style). Stored as markers, filled in
# for each response: another coordinator's token would refuse this one's posts, an old nonce its scripts.
_CSRF_MARK = b"\x00can-csrf-token\x00"
_NONCE_MARK = b"\x00can-csp-nonce\x00"


def _hollow(body: bytes) -> bytes:
    body = body.replace(generate_csrf().encode(), _CSRF_MARK)
    return body.replace(http.csp_nonce().encode(), _NONCE_MARK)


def _fill(stored: bytes) -> bytes:
    return stored.replace(_CSRF_MARK, generate_csrf().encode()).replace(_NONCE_MARK, http.csp_nonce().encode())


def shared_page(version: Callable[[], tuple[Any, ...]]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Serve the view's page from the cache while `version()` and the minute are unchanged."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            cache: Lru[tuple[Any, ...], bytes] = current_app.extensions.setdefault(
                "can_page_cache", Lru(PAGE_CACHE_SIZE)
            )
            # A saved search is one user's, and its reads are audited: never served from the shared cache.
            if request.method != "GET" or session.get("_flashes") or "search" in request.args:
                return view(*args, **kwargs)
            # Everything the page shows that differs between users of one role (the navigation follows permissions).
            permissions = (
                bool(getattr(current_user, "can_trace", False)),
                bool(getattr(current_user, "privacy_officer", False)),
            )
            key = (
                request.endpoint,
                current_user.role,
                permissions,
                request.full_path,
                version(),
                utcnow().strftime("%Y%m%d%H%M"),
            )
            stored = cache.get(key)
            if stored is not None:
                return Response(_fill(stored), mimetype="text/html")
            response = current_app.make_response(view(*args, **kwargs))
            if response.status_code == 200 and not response.direct_passthrough:
                cache.put(key, _hollow(response.get_data()))
            return response

        return wrapped

    return decorator
