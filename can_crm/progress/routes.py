"""Job progress pages: `/jobs/<id>` (refreshes itself while the job runs, no JavaScript needed) and its JSON."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, jsonify, render_template
from flask_login import current_user

from can_crm.access import roles
from can_crm.http import json_error
from can_crm.models.enums import Role
from can_crm.services.common import jobs as job_service
from can_crm.services.common.errors import NotFound

bp = Blueprint("progress", __name__)

# Any signed-in user may start a job; each sees only their own (another user's job is a 404).
ANY_ROLE = tuple(Role)
REFRESH_SECONDS = 2


@bp.get("/jobs/<int:job_id>")
@roles(*ANY_ROLE)
def show(job_id: int) -> Any:
    try:
        job = job_service.get_job(job_id, current_user.id)
    except NotFound:
        abort(404)
    view = job_service.describe(job)
    refresh = None if view["finished"] else REFRESH_SECONDS
    return render_template("progress/job.html", job=view, refresh=refresh, title=view["label"])


@bp.get("/jobs/<int:job_id>.json")
@roles(*ANY_ROLE)
def show_json(job_id: int) -> Any:
    try:
        job = job_service.get_job(job_id, current_user.id)
    except NotFound as exc:
        return json_error(404, exc.code, exc.message)
    return jsonify(job_service.describe(job))
