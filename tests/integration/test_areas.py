"""Which authority is responsible for a place, and the out-of-area flag other pages include."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import render_template_string

from can_crm.services.common import areas

HAMMERSMITH = (51.4927, -0.2240)
KENSINGTON = (51.5010, -0.1930)
MANCHESTER = (53.4808, -2.2426)
MACRO = '{% from "components/out_of_area.html" import outOfArea %}{{ outOfArea(flag, authority_name) }}'


def test_a_place_inside_this_authority_is_not_out_of_area(db: Any) -> None:
    assert areas.responsible_authority(*HAMMERSMITH) is None


def test_a_place_next_door_names_the_responsible_authority(db: Any) -> None:
    flag = areas.responsible_authority(*KENSINGTON)
    assert flag is not None and flag.home_gss == "E09000013"
    assert flag.responsible.gss_code == "E09000020" and "Kensington" in flag.responsible.name


def test_a_place_outside_every_boundary_is_out_of_area_with_no_one_named(db: Any) -> None:
    flag = areas.responsible_authority(*MANCHESTER)
    assert flag is not None and flag.responsible is None


def test_unknown_coordinates_are_not_flagged(db: Any) -> None:
    assert areas.responsible_authority(None, None) is None


def test_boundaries_are_loaded_once_per_app(db: Any) -> None:
    assert areas.boundaries() is areas.boundaries()
    assert areas.home_authority().name == "Hammersmith and Fulham"


def test_without_a_boundary_file_nothing_is_flagged(
    app: Any, db: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "BOUNDARIES_FILE", str(tmp_path / "none.geojson"))
    monkeypatch.delitem(app.extensions, "can_boundaries.BOUNDARIES_FILE", raising=False)
    assert areas.responsible_authority(*KENSINGTON) is None
    monkeypatch.delitem(app.extensions, "can_boundaries.BOUNDARIES_FILE")


def test_out_of_area_macro_names_the_responsible_authority(app: Any, db: Any) -> None:
    with app.test_request_context("/"):
        inside = render_template_string(MACRO, flag=areas.responsible_authority(*HAMMERSMITH))
        next_door = render_template_string(MACRO, flag=areas.responsible_authority(*KENSINGTON))
        nowhere = render_template_string(MACRO, flag=areas.responsible_authority(*MANCHESTER))
    assert inside.strip() == ""
    assert "Out of area" in next_door and "Kensington and Chelsea (E09000020)" in next_door
    assert "not Hammersmith and Fulham" in next_door
    assert "outside every authority boundary we hold" in nowhere
