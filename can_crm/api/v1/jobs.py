"""/api/v1/jobs: the progress of a background job, for the user who started it."""

from __future__ import annotations

from typing import Any

from flask_login import current_user
from flask_smorest import Blueprint

from can_crm.access import roles
from can_crm.api.v1 import schemas
from can_crm.api.v1.schemas import MAX_ID
from can_crm.models.enums import Role
from can_crm.services.common import jobs
from can_crm.services.common.errors import NotFound

blp = Blueprint("jobs", __name__, url_prefix="/jobs", description="Background jobs started by the caller")


@blp.route("/<int:job_id>", methods=["GET"], tags=["jobs"])
@roles(*Role)
@blp.response(200, schemas.JobOutSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(404, response="NOT_FOUND")
def get_job(job_id: int) -> Any:
    """Read a job's state, progress, message and result

    Only the user who started the job can see it; anyone else gets 404.
    """
    if job_id > MAX_ID:
        raise NotFound("No job with that id")
    return jobs.get_job(job_id, current_user.id)
