"""``python -m matching``: JSON in and out; bad instances refused with a clear message and exit code 2."""

from __future__ import annotations

import copy
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from matching.cli import main

GOOD: dict[str, Any] = {
    "requests": [
        {
            "id": "R1",
            "lat": 51.49,
            "lon": -0.22,
            "urgency": 3,
            "skills": ["shopping", "unheard-of skill"],
            "min_dbs": "basic",
            "excluded": ["V9"],
            "preferred": None,
        },
        {
            "id": "R2",
            "lat": 51.60,
            "lon": -0.22,
            "urgency": 1,
            "skills": [],
            "min_dbs": "none",
            "excluded": [],
            "preferred": "V1",
        },
    ],
    "volunteers": [
        {
            "id": "V1",
            "lat": 51.495,
            "lon": -0.22,
            "skills": ["shopping", "unheard-of skill"],
            "dbs": "enhanced",
            "max_km": 3,
            "capacity": 2,
        },
    ],
}


def run(tmp_path: Path, data: Any, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    path = tmp_path / "instance.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    code = main(["solve", str(path)])
    out, err = capsys.readouterr()
    return code, out, err


def test_solves_a_good_instance(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(tmp_path, GOOD, capsys)
    assert code == 0
    result = json.loads(out)
    assert result["assignments"][0]["request"] == "R1" and result["assignments"][0]["volunteer"] == "V1"
    assert result["unmatched"] == [
        {"request": "R2", "reason": "none_within_distance", "detail": result["unmatched"][0]["detail"]}
    ]
    assert result["served_by_urgency"] == {"3": 1, "2": 0, "1": 0}
    assert result["optimal"] is True and isinstance(result["total_km"], float) and "stats" in result


def test_reads_stdin_with_a_dash(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(GOOD)))
    assert main(["solve", "-"]) == 0
    assert json.loads(capsys.readouterr().out)["served_by_urgency"]["3"] == 1


def mutate(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(GOOD)
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (mutate(("requests", 0, "lat"), 91), "requests[0] (id 'R1'): 'lat'"),
        (mutate(("requests", 1, "lon"), -181), "requests[1] (id 'R2'): 'lon'"),
        (mutate(("volunteers", 0, "capacity"), -1), "volunteers[0] (id 'V1'): 'capacity'"),
        (mutate(("volunteers", 0, "capacity"), 1.5), "volunteers[0] (id 'V1'): 'capacity'"),
        (mutate(("volunteers", 0, "dbs"), "gold"), "volunteers[0] (id 'V1'): 'dbs' must be one of"),
        (mutate(("requests", 0, "min_dbs"), "extra"), "requests[0] (id 'R1'): 'min_dbs'"),
        (mutate(("requests", 0, "urgency"), 4), "requests[0] (id 'R1'): 'urgency'"),
        (mutate(("requests", 0, "urgency"), True), "requests[0] (id 'R1'): 'urgency'"),
        (mutate(("requests", 0, "urgency"), KeyError), "requests[0] (id 'R1'): missing field 'urgency'"),
        (mutate(("volunteers", 0, "max_km"), KeyError), "volunteers[0] (id 'V1'): missing field 'max_km'"),
        (mutate(("volunteers", 0, "max_km"), "3"), "volunteers[0] (id 'V1'): 'max_km'"),
        (mutate(("requests", 0, "id"), 7), "requests[0]: 'id' must be a non-empty string"),
        (mutate(("requests", 1, "id"), "R1"), "requests[1] (id 'R1'): duplicate request id"),
        (mutate(("requests", 0, "skills"), "shopping"), "requests[0] (id 'R1'): 'skills' must be a list"),
        (mutate(("requests", 0, "excluded"), [3]), "requests[0] (id 'R1'): 'excluded'"),
        (mutate(("requests", 0, "preferred"), 5), "requests[0] (id 'R1'): 'preferred'"),
        (mutate(("volunteers", 0, "lat"), "NaN"), "volunteers[0] (id 'V1'): 'lat'"),
        (mutate(("volunteers",), {}), "'volunteers' must be a list"),
        (mutate(("requests", 0), "R1"), "requests[0]: must be an object"),
        ([1, 2], "instance must be a JSON object"),
        ("{not json", "is not valid JSON"),
        ('{"requests": [{"id": "R1", "lat": NaN}], "volunteers": []}', "requests[0] (id 'R1'): 'lat'"),
    ],
)
def test_refuses_bad_instances_naming_the_item(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: Any, expected: str
) -> None:
    code, out, err = run(tmp_path, data, capsys)
    assert code == 2
    assert expected in err
    assert "Traceback" not in err and out == ""


def test_missing_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["solve", str(tmp_path / "nope.json")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_module_entry_point_end_to_end(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(mutate(("volunteers", 0, "capacity"), -2)))
    # S603: the command is this interpreter with fixed arguments, not untrusted input.
    proc = subprocess.run(
        [sys.executable, "-m", "matching", "solve", str(bad)],  # noqa: S603
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[3],
        check=False,
    )
    assert proc.returncode == 2 and "volunteers[0] (id 'V1')" in proc.stderr and "Traceback" not in proc.stderr
    good = tmp_path / "good.json"
    good.write_text(json.dumps(GOOD))
    proc = subprocess.run(
        [sys.executable, "-m", "matching", "solve", str(good)],  # noqa: S603
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[3],
        check=False,
    )
    assert proc.returncode == 0 and json.loads(proc.stdout)["optimal"] is True


def test_bench_prints_one_json_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--requests", "200", "--volunteers", "100", "--seed", "1"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    line = json.loads(lines[0])
    assert line["checks_passed"] and line["optimal"] and "greedy" in line and "full_graph" in line
