from __future__ import annotations

import json
from pathlib import Path

import pytest

from geo.directory import OnspdFormatError, PostcodeDirectory, import_onspd
from geo.geocoders import Geocoder, GeocoderUnavailable, PostcodesIoGeocoder, parse_postcodes_io_payload
from geo.postcodes import InvalidPostcode, PostcodeLocation, UnknownPostcode

HEADER = "pcd,pcds,dointr,doterm,oslaua,osward,lat,long,usertype\n"
ROWS = [
    "W6  9JU,W6 9JU,199801,,E09000013,E05013745,51.492540,-0.228500,0",
    "W12 7RQ,W12 7RQ,199801,,E09000013,E05013741,51.507200,-0.226800,0",
    "SW6 1AA,SW6 1AA,199801,201905,E09000013,E05013740,51.480000,-0.200000,0",  # terminated
    "W14 0XX,W14 0XX,199801,,E09000013,E05013750,99.999999,0.000000,0",  # no grid reference
    "W8  4AA,W8 4AA,199801,,E09000020,E05009390,51.501000,-0.193000,0",
    "BAD,BAD,199801,,E09000020,E05009390,51.5,-0.19,0",
]


def write_csv(tmp_path: Path, header: str = HEADER, rows: list[str] = ROWS) -> Path:
    path = tmp_path / "onspd.csv"
    path.write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def directory(tmp_path: Path) -> PostcodeDirectory:
    report = import_onspd(write_csv(tmp_path), tmp_path / "index.npz")
    assert (report.rows_read, report.imported) == (6, 3)
    assert (report.skipped_terminated, report.skipped_no_location, report.skipped_invalid) == (1, 1, 1)
    return PostcodeDirectory.load(tmp_path / "index.npz")


def test_lookup_returns_location_with_authority_and_ward(directory: PostcodeDirectory) -> None:
    assert directory.geocode("w69ju") == PostcodeLocation("W6 9JU", 51.49254, -0.2285, "E09000013", "E05013745")
    assert directory.geocode("W8 4AA").authority_gss == "E09000020"
    assert len(directory) == 3
    assert directory.authorities == {"E09000013", "E09000020"}
    assert isinstance(directory, Geocoder)


def test_terminated_and_unlocated_postcodes_are_unknown(directory: PostcodeDirectory) -> None:
    for postcode in ("SW6 1AA", "W14 0XX", "E1 6AN"):
        with pytest.raises(UnknownPostcode) as err:
            directory.geocode(postcode)
        assert err.value.message == "Enter a real postcode"
        assert postcode not in directory


def test_malformed_postcode_lookup_is_invalid_not_unknown(directory: PostcodeDirectory) -> None:
    with pytest.raises(InvalidPostcode):
        directory.geocode("not a postcode")


def test_import_can_keep_only_some_authorities(tmp_path: Path) -> None:
    report = import_onspd(write_csv(tmp_path), tmp_path / "i.npz", authorities=["E09000020"])
    assert report.imported == 1 and report.skipped_other_authority == 2
    assert list(PostcodeDirectory.load(tmp_path / "i.npz")) == ["W8 4AA"]


def test_missing_columns_are_named_in_the_error(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path, header="pcd,pcds,dointr,oslaua,osward,lat\n", rows=["W6  9JU,W6 9JU,199801,E09,E05,51.4"]
    )
    with pytest.raises(OnspdFormatError, match="missing ONSPD column.*doterm.*long"):
        import_onspd(path, tmp_path / "i.npz")
    assert not (tmp_path / "i.npz").exists()


def test_empty_or_binary_file_is_a_format_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(OnspdFormatError):
        import_onspd(empty, tmp_path / "i.npz")
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81" * 50)
    with pytest.raises(OnspdFormatError):
        import_onspd(binary, tmp_path / "i.npz")


def test_rows_with_unreadable_coordinates_are_skipped_as_unlocated(tmp_path: Path) -> None:
    path = write_csv(tmp_path, rows=[ROWS[0], "W12 7RQ,W12 7RQ,199801,,E09000013,E05013741,north,west,0"])
    report = import_onspd(path, tmp_path / "i.npz")
    assert (report.imported, report.skipped_no_location) == (1, 1)


def test_upper_case_headers_and_bom_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "upper.csv"
    path.write_text("\ufeff" + HEADER.upper() + ROWS[0] + "\n", encoding="utf-8")
    assert import_onspd(path, tmp_path / "i.npz").imported == 1


def test_generated_onspd_round_trips_through_the_directory(tmp_path: Path, london: object) -> None:
    from geo.boundaries import Boundaries
    from geo.onspd_gen import make_onspd

    assert isinstance(london, Boundaries)
    rows = make_onspd(london, tmp_path / "g.csv", per_borough=100, seed=3, codes=["E09000013", "E09000020"])
    report = import_onspd(tmp_path / "g.csv", tmp_path / "g.npz")
    assert report.rows_read == rows and report.imported == 200
    assert report.skipped_terminated == 4 and report.skipped_no_location == 2
    directory = PostcodeDirectory.load(tmp_path / "g.npz")
    for postcode in directory:
        loc = directory.geocode(postcode)
        found = london.authority_at(loc.lat, loc.lon)
        assert found is not None and found.gss_code == loc.authority_gss


PAYLOAD = {
    "status": 200,
    "result": {
        "postcode": "W6 9JU",
        "latitude": 51.49254,
        "longitude": -0.2285,
        "codes": {"admin_district": "E09000013", "admin_ward": "E05013745"},
    },
}


def test_postcodes_io_payload_is_parsed_into_a_location() -> None:
    assert parse_postcodes_io_payload(PAYLOAD) == PostcodeLocation(
        "W6 9JU", 51.49254, -0.2285, "E09000013", "E05013745"
    )


def test_postcodes_io_geocoder_uses_the_same_interface_without_network() -> None:
    calls: list[str] = []

    def fetch(url: str, timeout: float) -> tuple[int, bytes]:
        calls.append(url)
        if url.endswith("W6%209JU"):
            return 200, json.dumps(PAYLOAD).encode()
        if url.endswith("E1%206AN"):
            return 404, b'{"status":404,"error":"Postcode not found"}'
        return 503, b""

    geocoder = PostcodesIoGeocoder("https://postcodes.example", fetch=fetch)
    assert isinstance(geocoder, Geocoder)
    assert geocoder.geocode("w69ju").authority_gss == "E09000013"
    with pytest.raises(UnknownPostcode):
        geocoder.geocode("E1 6AN")
    with pytest.raises(GeocoderUnavailable):
        geocoder.geocode("SW1A 1AA")
    with pytest.raises(InvalidPostcode):
        geocoder.geocode("nonsense")
    assert calls == [
        "https://postcodes.example/postcodes/W6%209JU",
        "https://postcodes.example/postcodes/E1%206AN",
        "https://postcodes.example/postcodes/SW1A%201AA",
    ]


def test_postcodes_io_postcode_without_location_is_unknown() -> None:
    payload = {"status": 200, "result": {"postcode": "W6 9JU", "latitude": None, "longitude": None, "codes": {}}}
    with pytest.raises(UnknownPostcode):
        parse_postcodes_io_payload(payload)


def test_postcodes_io_geocoder_refuses_non_http_urls() -> None:
    with pytest.raises(ValueError):
        PostcodesIoGeocoder("file:///etc/passwd")


def test_lookup_results_are_frozen(directory: PostcodeDirectory) -> None:
    import dataclasses

    loc = directory.geocode("W6 9JU")
    with pytest.raises(dataclasses.FrozenInstanceError):
        loc.lat = 0.0  # type: ignore[misc]
    assert hash(loc) == hash(PostcodeLocation("W6 9JU", 51.49254, -0.2285, "E09000013", "E05013745"))
