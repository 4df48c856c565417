"""/open-data/requests.csv and .json: the anonymised aggregate export (public)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request

from can_crm import http
from can_crm.access import public
from can_crm.services.federation import open_data

bp = Blueprint("open_data", __name__, url_prefix="/open-data")


@bp.get("/requests.json")
@public
def requests_json() -> Any:
    return jsonify(open_data.as_json(open_data.clean_period(request.args)))


@bp.get("/requests.csv")
@public
def requests_csv() -> Any:
    period = open_data.clean_period(request.args)
    return Response(
        open_data.as_csv(period),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="requests-{period.start}-{period.end}.csv"'},
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    http.json_blueprint(app, bp.name, bp.url_prefix or "/open-data")
