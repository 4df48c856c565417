"""`render_heatmap`: aggregate and render one heat map (and its shareable exports) into the file cache.

Args are numbers only (see `MapFilters.job_args`): the layer as an index, dates as day numbers, the request
type as an index, `internal` 0/1, k, and `key`, the number of the cache key the page asked for (so a page
refreshing while the job runs finds it and does not start another). Idempotent: files are replaced atomically.
"""

from __future__ import annotations

from typing import Any

from can_crm.jobs.runner import Progress
from can_crm.models.job import Job
from can_crm.services.maps import data as heatmap_data
from can_crm.services.maps import render as heatmaps


def render_heatmap(job: Job, progress: Progress) -> dict[str, Any]:
    filters = heatmap_data.MapFilters.from_job_args(job.args)
    progress(10, "Loading the data")
    rendered = heatmaps.render_to_cache(filters)
    return {"areas": rendered.cells, "points": rendered.points}
