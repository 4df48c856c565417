"""`flask --app wsgi heatmap`: scripted export of the shareable map; bad arguments exit with code 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from maps_helpers import postcode_in, requests_for_people


def test_heatmap_command_writes_shareable_html_and_geojson(
    app: Any, db: Any, make_request: Any, hf_postcode: str, postcode_index: Path, tmp_path: Path
) -> None:
    requests_for_people(make_request, 5, hf_postcode)
    requests_for_people(make_request, 2, postcode_in(postcode_index, "E09000020"), tag="ken")
    out, geojson = tmp_path / "map.html", tmp_path / "map.geojson"
    result = app.test_cli_runner().invoke(
        args=[
            "heatmap",
            "--layer",
            "open-requests",
            "--out",
            str(out),
            "--geojson",
            str(geojson),
            "--k",
            "3",
            "--from",
            "2020-01-01",
            "--type",
            "shopping",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "Wrote" in result.output
    page = out.read_text()
    assert "Open requests for help" in page and "/assets/" not in page
    data = json.loads(geojson.read_text())
    assert data["metadata"]["k"] == 3 and data["metadata"]["request_types"] == ["shopping"]
    props = [f["properties"] for f in data["features"]]
    assert sorted(p.get("count", 0) for p in props) == [0, 5]
    assert all("count" not in p for p in props if p.get("suppressed"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--layer", "everything"], "Choose a map layer from the list"),
        (["--layer", "gap", "--k", "1"], "k must be between 2 and 1000"),
        (["--layer", "gap", "--k", "five"], "k must be a whole number"),
        (["--layer", "gap", "--from", "2020-02-30"], "The start date must be a real date"),
        (["--layer", "gap", "--from", "2020-03-02", "--to", "2020-03-01"], "same as or after the start date"),
        (["--layer", "gap", "--type", "pizza"], "Choose a request type from the list"),
    ],
)
def test_heatmap_command_refuses_bad_arguments(
    app: Any, db: Any, tmp_path: Path, args: list[str], message: str
) -> None:
    out = tmp_path / "map.html"
    result = app.test_cli_runner().invoke(args=["heatmap", *args, "--out", str(out)])
    assert result.exit_code == 2
    assert message in result.output
    assert not out.exists()


def test_heatmap_command_needs_layer_and_out(app: Any, db: Any) -> None:
    assert app.test_cli_runner().invoke(args=["heatmap", "--layer", "gap"]).exit_code == 2


def test_heatmap_command_reports_an_unwritable_file(app: Any, db: Any, tmp_path: Path) -> None:
    result = app.test_cli_runner().invoke(
        args=["heatmap", "--layer", "shielded", "--out", str(tmp_path / "missing" / "map.html")]
    )
    assert result.exit_code == 2 and "cannot write" in result.output
