from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import shapely
from conftest import HAMMERSMITH, KENSINGTON

from geo.__main__ import main
from geo.boundaries import Boundaries
from geo.onspd_gen import DISTRICTS, make_onspd, random_points_in
from geo.postcodes import is_valid_postcode


def read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_random_points_lie_inside_the_polygon_not_just_its_box(london: Boundaries) -> None:
    geom = london.geometry(HAMMERSMITH)
    lat, lon = random_points_in(geom, 500, np.random.default_rng(1))
    assert lat.shape == (500,)
    assert shapely.contains_xy(geom, lon, lat).all()


def test_generated_rows_are_inside_their_borough_with_its_districts(tmp_path: Path, london: Boundaries) -> None:
    out = tmp_path / "onspd.csv"
    n = make_onspd(london, out, per_borough=150, seed=11, codes=[HAMMERSMITH, KENSINGTON])
    rows = read(out)
    assert len(rows) == n == 2 * (150 + 3 + 2)
    live = [r for r in rows if not r["doterm"] and r["lat"] != "99.999999"]
    assert len(live) == 300
    assert len({r["pcds"] for r in rows}) == len(rows)
    for r in rows:
        assert is_valid_postcode(r["pcds"])
        assert r["pcds"].split(" ")[0] in DISTRICTS[r["oslaua"]]
    codes = london.codes_at([float(r["lat"]) for r in live], [float(r["long"]) for r in live])
    assert codes == [r["oslaua"] for r in live]
    assert {"pcd", "pcds", "doterm", "oslaua", "osward", "lat", "long", "oseast1m", "osnrth1m"} <= set(rows[0])


def test_generator_is_deterministic_by_seed(tmp_path: Path, london: Boundaries) -> None:
    a, b, c = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    make_onspd(london, a, per_borough=40, seed=5, codes=[HAMMERSMITH])
    make_onspd(london, b, per_borough=40, seed=5, codes=[HAMMERSMITH])
    make_onspd(london, c, per_borough=40, seed=6, codes=[HAMMERSMITH])
    assert a.read_bytes() == b.read_bytes() != c.read_bytes()


def test_cli_makes_and_imports_a_file(tmp_path: Path, boundary_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, index = tmp_path / "o.csv", tmp_path / "o.npz"
    argv = ["make-onspd", "--out", str(out), "--per-borough", "20", "--seed", "2"]
    assert main([*argv, "--boroughs", f"{HAMMERSMITH},{KENSINGTON}", "--boundaries", str(boundary_file)]) == 0
    assert main(["import-onspd", str(out), "--out", str(index)]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["imported"] == 40
    assert main(["lookup", str(index), "SW1A"]) == 1
    assert "Enter a full UK postcode" in capsys.readouterr().err
    assert main(["import-onspd", str(tmp_path / "nope.csv"), "--out", str(index)]) == 1
