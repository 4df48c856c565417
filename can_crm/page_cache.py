"""A small per-process cache of whole rendered pages that every user of one role sees identically.

The coordinator queue is the busiest page and the same for every coordinator. A cached copy is served
only while the data it shows is unchanged (a version the caller computes in one cheap query) and within
the same minute (overdue markers depend on the clock). Pages with a flash message, errors (status other
than 200) or anything but GET are never cached. Nothing personal to one user may be on a cached page.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, current_app, request, session
from flask_login import current_user

from can_crm.models.base import utcnow


class PageCache:
    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._pages: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> bytes | None:
        with self._lock:
            body = self._pages.get(key)
            if body is not None:
                self._pages.move_to_end(key)
            return body

    def put(self, key: tuple[Any, ...], body: bytes) -> None:
        with self._lock:
            self._pages[key] = body
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)


def shared_page(version: Callable[[], tuple[Any, ...]]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Serve the view's page from the cache while `version()` and the minute are unchanged."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            cache: PageCache = current_app.extensions.setdefault("can_page_cache", PageCache())
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
            body = cache.get(key)
            if body is not None:
                return Response(body, mimetype="text/html")
            response = current_app.make_response(view(*args, **kwargs))
            if response.status_code == 200 and not response.direct_passthrough:
                cache.put(key, response.get_data())
            return response

        return wrapped

    return decorator
