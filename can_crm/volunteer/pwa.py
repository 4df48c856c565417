"""The installable web app: a manifest and a service worker, served by the app from /volunteer/ (its scope).

The service worker keeps the task list readable offline; the page script (static/volunteer.js) queues progress
made offline, each update with its idempotency key, and sends it when the signal returns. Sign-out answers with
Clear-Site-Data, so nothing about residents stays on the phone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Response, jsonify, send_file, url_for

from can_crm.access import public
from can_crm.volunteer.blueprint import bp

_STATIC = Path(__file__).resolve().parent.parent / "static"


@bp.get("/manifest.webmanifest")
@public
def manifest() -> Any:
    response = jsonify(
        {
            "name": "Community Aid Network: volunteer",
            "short_name": "CAN volunteer",
            "start_url": url_for("volunteer.tasks_page"),
            "scope": url_for("volunteer.offers_page"),
            "display": "standalone",
            "background_color": "#ffffff",
            "theme_color": "#1d70b8",
            "icons": [
                {
                    "src": url_for("main.app_static", filename="volunteer-icon.svg"),
                    "sizes": "any",
                    "type": "image/svg+xml",
                }
            ],
        }
    )
    response.mimetype = "application/manifest+json"
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get("/sw.js")
@public
def service_worker() -> Response:
    # Served from /volunteer/ so its scope is the volunteer pages only; never cached long, so updates arrive.
    response = send_file(_STATIC / "volunteer-sw.js", mimetype="text/javascript", max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    return response
