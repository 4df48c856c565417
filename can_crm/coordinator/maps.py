"""`/coordinator/maps`: heat maps of need and supply, with a table alternative and shareable downloads.

A map is served from the file cache; a miss starts the `render_heatmap` job (small databases render inline)
and shows a page that refreshes itself until the map is ready.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, render_template, request, url_for
from flask_login import current_user

from can_crm.access import roles
from can_crm.coordinator.maps_forms import MapFilterForm
from can_crm.forms import show_errors
from can_crm.http import allow_images_from
from can_crm.models.enums import Role
from can_crm.services.common.errors import FieldErrors
from can_crm.services.maps import data as heatmap_data
from can_crm.services.maps import render as heatmaps

bp = Blueprint("maps", __name__, url_prefix="/coordinator/maps")

REFRESH_SECONDS = 2
EXPORTS = {
    "html": ("html", "text/html; charset=utf-8"),
    "geojson": ("geojson", "application/geo+json"),
}


def _leaflet_base() -> str:
    return url_for("main.asset", package="leaflet", filename="leaflet.js").rsplit("/", 1)[0]


def _with_tile_origin(response: Response) -> Response:
    """Allow the configured tile server's images (the app-wide CSP only allows this origin)."""
    tile_url = current_app.config.get("MAP_TILE_URL")
    if tile_url:
        parts = urlsplit(tile_url)
        allow_images_from(f"{parts.scheme}://{parts.netloc.replace('{s}.', '*.')}")
    return response


def _preparing(result: heatmaps.MapResult, what: str) -> Any:
    return render_template(
        "maps/preparing.html",
        job_id=result.job_id,
        refresh=REFRESH_SECONDS,
        refresh_url=request.full_path,
        what=what,
        title="The map is being prepared",
    ), 202


def _page(form: MapFilterForm, status: int, result: heatmaps.MapResult | None = None) -> Any:
    view = None
    if result is not None and result.payload is not None:
        view = dict(result.payload)
        view["head"] = view["head"].replace(heatmaps.ASSET_PLACEHOLDER, _leaflet_base())
    exports = None
    if result is not None:
        args: dict[str, Any] = dict(result.filters.query_args())
        exports = {
            "html": url_for("maps.export_html", **args),
            "geojson": url_for("maps.export_geojson", **args),
        }
    response = current_app.make_response(
        (
            render_template(
                "maps/page.html",
                form=form,
                view=view,
                filters=result.filters if result else None,
                exports=exports,
                title="Maps of need and supply",
            ),
            status,
        )
    )
    return _with_tile_origin(response)


@bp.get("")
@roles(Role.COORDINATOR)
def page() -> Any:
    form = MapFilterForm(formdata=request.args if request.args else None)
    try:
        filters = heatmap_data.clean_filters(form.values(), current_app.config["HEATMAP_K"])
    except FieldErrors as exc:
        show_errors(form, exc)
        return _page(form, 400)
    result = heatmaps.serve(filters, current_user.id)
    if result.job_id is not None:
        return _preparing(result, "map")
    return _page(form, 200, result)


def _export(kind: str) -> Any:
    suffix, mimetype = EXPORTS[kind]
    raw = {
        "layer": request.args.get("layer"),
        "date_from": request.args.get("from"),
        "date_to": request.args.get("to"),
        "type": request.args.get("type"),
    }
    try:
        # Downloads are always the shareable map, whatever detail the page showed.
        filters = heatmap_data.clean_filters(raw, current_app.config["HEATMAP_K"], shareable_only=True)
    except FieldErrors as exc:
        form = MapFilterForm(formdata=None, data={k: v for k, v in raw.items() if k in ("layer", "type")})
        show_errors(form, exc)
        return _page(form, 400)
    result = heatmaps.serve(filters, current_user.id, suffix=suffix)
    if result.job_id is not None:
        return _preparing(result, "download")
    stamp = result.filters.end or result.filters.start
    name = f"{filters.layer}-heatmap{'-' + stamp.isoformat() if stamp else ''}.{suffix}"
    response = Response(result.payload, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.get("/export.html")
@roles(Role.COORDINATOR)
def export_html() -> Any:
    return _export("html")


@bp.get("/export.geojson")
@roles(Role.COORDINATOR)
def export_geojson() -> Any:
    return _export("geojson")
