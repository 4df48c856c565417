"""Importing the shielded list: validation, deduplication, idempotent re-import, hostile files, the CLI."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from can_crm import unit_of_work
from can_crm.models.resident import Resident
from can_crm.services.outreach import shielded
from can_crm.services.outreach.shielded_csv import FileRefused, safe_cell
from geo.directory import PostcodeDirectory
from tests.shielded_helpers import HEADER, csv_bytes, nhs_number, rows


@pytest.fixture
def postcodes(postcode_index: Path) -> list[str]:
    return sorted(PostcodeDirectory.load(postcode_index))[:20]


def residents(db: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(Resident)) or 0


def test_a_clean_file_imports_everyone_and_again_changes_nothing(db: Any, postcodes: list[str]) -> None:
    content = csv_bytes(rows(50, postcodes))
    summary, errors = shielded.import_shielded(content)
    unit_of_work.commit()
    assert summary == {"rows": 50, "imported": 50, "updated": 0, "duplicates": 0, "errors": 0} and errors == []
    first = db.session.scalar(select(Resident).where(Resident.nhs_number == nhs_number(1)))
    assert first.shielding and first.mobile == "+447911000001" and first.preferred_channel == "sms"
    assert first.lat is not None and first.location_source == "postcode"
    before = db.session.execute(select(Resident.id, Resident.updated_at).order_by(Resident.id)).all()
    again, _ = shielded.import_shielded(content)
    unit_of_work.commit()
    assert again == {"rows": 50, "imported": 0, "updated": 0, "duplicates": 50, "errors": 0}
    assert db.session.execute(select(Resident.id, Resident.updated_at).order_by(Resident.id)).all() == before


def test_changed_details_update_the_same_resident(db: Any, postcodes: list[str]) -> None:
    data = rows(3, postcodes)
    shielded.import_shielded(csv_bytes(data))
    data[0][4] = "99 New Road"
    summary, _ = shielded.import_shielded(csv_bytes(data))
    unit_of_work.commit()
    assert (summary["updated"], summary["duplicates"], residents(db)) == (1, 2, 3)
    assert (
        db.session.scalar(select(Resident.address_line1).where(Resident.nhs_number == nhs_number(0))) == "99 New Road"
    )


def test_same_name_birth_date_and_postcode_is_the_same_person(db: Any, postcodes: list[str], make_request: Any) -> None:
    data = rows(1, postcodes)
    data[0][1:4] = ["Margaret", "Okafor", "27/03/1948"]
    shielded.import_shielded(csv_bytes(data))
    unit_of_work.commit()
    second = [list(data[0])]
    second[0][0] = nhs_number(99)  # a corrected NHS number, same person
    summary, _ = shielded.import_shielded(csv_bytes(second))
    unit_of_work.commit()
    assert (summary["imported"], summary["updated"], residents(db)) == (0, 1, 1)


def test_bad_rows_are_reported_and_the_good_ones_imported(db: Any, postcodes: list[str]) -> None:
    data = rows(6, postcodes)
    data[0][0] = "9434765918"  # wrong check digit
    data[1][3] = "31/02/1950"
    data[2][7] = "NOT A POSTCODE"
    data[3][9] = "12345"
    data[4][1] = '=HYPERLINK("http://evil")'
    summary, errors = shielded.import_shielded(csv_bytes(data))
    unit_of_work.commit()
    assert (summary["rows"], summary["imported"], summary["errors"]) == (6, 1, 5)
    assert {(e.row, e.column) for e in errors} == {
        (2, "nhs_number"), (3, "date_of_birth"), (4, "postcode"), (5, "mobile"), (6, "first_name")
    }  # fmt: skip
    table = list(csv.reader(io.StringIO(shielded.error_csv(errors))))
    assert table[0] == ["row", "column", "message", "value"]
    assert all(not cell.startswith(("=", "+", "-", "@")) for line in table for cell in line)
    assert any(line[3].startswith("'=HYPERLINK") for line in table)


def test_formula_cells_are_neutralised() -> None:
    assert [safe_cell(v) for v in ("=1+1", "+44", "-2", "@SUM", "\tx", "ok")] == [
        "'=1+1",
        "'+44",
        "'-2",
        "'@SUM",
        "'\tx",
        "ok",
    ]


def test_a_mapping_file_maps_a_councils_headers(db: Any, postcodes: list[str]) -> None:
    header = ["NHS_NO", "FORENAME", "SURNAME", "BIRTH", "ADDR1", "ADDR2", "ADDR3", "PCODE", "TEL", "MOB", "EMAIL"]
    mapping = {"nhs_number": "NHS_NO", "date_of_birth": "BIRTH", "address_line1": "ADDR1", "postcode": "PCODE",
               "mobile": "MOB", "phone": "TEL"}  # fmt: skip
    summary, _ = shielded.import_shielded(csv_bytes(rows(4, postcodes), header), mapping)
    assert summary["imported"] == 4
    with pytest.raises(FileRefused, match="fields we do not know"):
        shielded.import_shielded(csv_bytes(rows(1, postcodes)), {"shoe_size": "X"})


HOSTILE = {
    "empty": b"",
    "only spaces": b"   \n\n",
    "binary": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "utf-16": "NHS Number,First Name\n".encode("utf-16"),
    "latin-1": (
        "NHS Number,First Name,Last Name,Date of Birth,Address Line 1,Postcode\n"
        "4000000004,Jos\xe9,A,01/01/1950,1 Road,W6 9AA\n"
    ).encode("latin-1"),
    "missing columns": b"NHS Number,Surname\n4000000004,Smith\n",
    "no header": b"\n\n\n,,,\n",
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_files_are_refused_whole(db: Any, name: str) -> None:
    with pytest.raises(FileRefused):
        shielded.import_shielded(HOSTILE[name])
    assert residents(db) == 0


def test_a_huge_field_late_in_the_file_leaves_nothing_half_imported(db: Any, postcodes: list[str]) -> None:
    data = rows(30, postcodes)
    data[-1][4] = "x" * 100_000
    with pytest.raises(FileRefused, match="longer than"):
        shielded.import_shielded(csv_bytes(data))
    unit_of_work.rollback()
    assert residents(db) == 0


def test_a_bom_is_fine(db: Any, postcodes: list[str]) -> None:
    summary, _ = shielded.import_shielded(b"\xef\xbb\xbf" + csv_bytes(rows(2, postcodes)))
    assert summary["imported"] == 2


def run_cli(app: Any, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["import-shielded", *args])


def test_cli_prints_one_json_line(app: Any, db: Any, postcodes: list[str], tmp_path: Path) -> None:
    data = rows(5, postcodes)
    data[0][0] = "123"
    file = tmp_path / "list.csv"
    file.write_bytes(csv_bytes(data))
    dry = run_cli(app, str(file), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.stdout)["imported"] == 4 and residents(db) == 0
    result = run_cli(app, str(file))
    assert result.exit_code == 0 and len(result.output.strip().splitlines()) == 1
    out = json.loads(result.stdout)
    assert {k: out[k] for k in ("rows", "imported", "updated", "duplicates", "errors")} == {
        "rows": 5, "imported": 4, "updated": 0, "duplicates": 0, "errors": 1
    }  # fmt: skip
    assert Path(out["error_file"]).read_text().startswith('"row","column"')
    db.session.expire_all()
    assert residents(db) == 4


def test_cli_exits_2_for_a_file_it_cannot_read(app: Any, db: Any, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(HOSTILE["binary"])
    for args in ([str(bad)], [str(tmp_path / "missing.csv")], [str(bad), "--mapping", str(tmp_path / "none.json")]):
        result = run_cli(app, *args)
        assert result.exit_code == 2 and "error" in json.loads(result.stdout)
    mapping = tmp_path / "m.json"
    mapping.write_text("[1, 2]")
    good = tmp_path / "good.csv"
    good.write_bytes(csv_bytes([], HEADER))
    assert run_cli(app, str(good), "--mapping", str(mapping)).exit_code == 2
