"""The large member-list loader: rows become map points with their source; bad rows are named
(file, line, field) and left out while the rest loads. A fake gazetteer keeps the tests fast."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest

from dashboard.atlasmap.builder import build_map, map_html, marker_count
from dashboard.core.data import POINT_COLUMNS, load_atlas
from dashboard.core.member_lists import load_member_list

MINIMAL = Path(__file__).parent / "fixtures" / "minimal"


@dataclass(frozen=True)
class FakeCity:
    name: str
    country: str
    latitude: float
    longitude: float


class FakeGazetteer:
    """Knows Bonn, Kitakyushu and two country names; counts look-ups."""

    CITIES: ClassVar[dict[tuple[str, str], FakeCity]] = {
        ("bonn", "DE"): FakeCity("Bonn", "DE", 50.73438, 7.09549),
        ("kitakyushu", "JP"): FakeCity("Kitakyushu", "JP", 33.85181, 130.85034),
    }
    COUNTRIES: ClassVar[dict[str, str]] = {
        "germany": "DE",
        "japan": "JP",
        "kenya": "KE",
        "de": "DE",
        "jp": "JP",
        "ke": "KE",
    }

    def __init__(self) -> None:
        self.city_calls = 0

    def country_code(self, value: str) -> str | None:
        return self.COUNTRIES.get(value.strip().lower())

    def country_name(self, iso: str) -> str:
        return {"KE": "Kenya"}.get(iso, iso)

    def city(self, name: str, country: str, *alternates: str | None) -> FakeCity | None:  # noqa: ARG002
        self.city_calls += 1
        return self.CITIES.get((name.strip().lower(), country))


@pytest.fixture(scope="module")
def atlas():
    return load_atlas(MINIMAL)


def write(tmp_path: Path, text: str, name: str = "members-2025.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_cities_and_coordinates_become_points_with_their_source(tmp_path, atlas):
    path = write(
        tmp_path,
        "name,country,city,latitude,longitude,precision,name_ja,as_of\n"
        "City of Bonn,DE,Bonn,,,,ボン市,2025-01\n"
        "Kitakyushu City,Japan,Kitakyushu,,,,,\n"
        "Nairobi NGO,KE,,-1.2921,36.8219,address,,2024-06\n",
    )
    gaz = FakeGazetteer()
    points, problems = load_member_list(path, "net", atlas, as_of="2025-03", gazetteer=gaz)
    assert [p for p in problems if p.severity == "error"] == []
    assert list(points.columns) == list(POINT_COLUMNS)
    assert list(points["name_en"]) == ["City of Bonn", "Kitakyushu City", "Nairobi NGO"]
    assert list(points["name_ja"]) == ["ボン市", "Kitakyushu City", "Nairobi NGO"]
    assert list(points["country"]) == ["DE", "JP", "KE"]
    assert list(points["country_en"]) == ["Germany", "Japan", "Kenya"]
    assert list(points["lat"]) == [50.73438, 33.85181, -1.2921]
    assert list(points["lon"]) == [7.09549, 130.85034, 36.8219]
    assert list(points["precision"]) == ["city", "city", "address"]
    assert list(points["provider"]) == ["gazetteer", "gazetteer", "member list"]
    assert set(points["source"]) == {"members-2025.csv"}
    assert list(points["as_of"]) == ["2025-01", "2025-03", "2024-06"]
    assert set(points["organisation"]) == {"net"}
    assert set(points["point_type"]) == {"member"}
    assert points["id"].is_unique
    assert gaz.city_calls == 2  # the row with coordinates needs no look-up


def test_bad_rows_are_named_and_left_out_while_the_rest_loads(tmp_path, atlas):
    path = write(
        tmp_path,
        "name,country,city,latitude,longitude,precision\n"
        "Good,DE,Bonn,,,\n"  # line 2
        ",DE,Bonn,,,\n"  # line 3: no name
        "No country,,Bonn,,,\n"  # line 4
        "Atlantis,Atlantis,Poseidonia,,,\n"  # line 5: unknown country
        "Unknown town,DE,Nowhere,,,\n"  # line 6: not in the gazetteer
        "Half,DE,,12.5,,city\n"  # line 7: longitude missing
        "Swapped,DE,,200,7.1,city\n"  # line 8: latitude out of range
        "Vague,DE,,50.7,7.1,\n"  # line 9: no precision with coordinates
        "Odd precision,DE,,50.7,7.1,exact\n"  # line 10
        "Nothing,DE,,,,\n"  # line 11: neither city nor coordinates
        "Text,DE,,fifty,7.1,city\n",  # line 12
    )
    points, problems = load_member_list(path, "net", atlas, as_of="2025-01", gazetteer=FakeGazetteer())
    assert list(points["name_en"]) == ["Good"]
    found = {(p.where, p.field) for p in problems if p.severity == "error"}
    assert found == {
        ("line 3", "name"),
        ("line 4", "country"),
        ("line 5", "country"),
        ("line 6", "city"),
        ("line 7", "longitude"),
        ("line 8", "latitude"),
        ("line 9", "precision"),
        ("line 10", "precision"),
        ("line 11", "city"),
        ("line 12", "latitude"),
    }
    assert all(p.file == "members-2025.csv" for p in problems)
    text = "\n".join(str(p) for p in problems)
    assert "members-2025.csv, line 5, field 'country': is not a country" in text
    assert "'Atlantis'" in text
    assert "line 6, field 'city': not found in the offline gazetteer in DE" in text
    assert "line 8, field 'latitude': must be a number from -90 to 90 (value: '200')" in text


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("country,city\nDE,Bonn\n", "name"),
        ("name,country\nBonn,DE\n", "city"),
        ("name,city\nBonn,Bonn\n", "country"),
    ],
)
def test_a_missing_column_is_named_and_nothing_loads(tmp_path, atlas, text, field):
    points, problems = load_member_list(write(tmp_path, text), "net", atlas, gazetteer=FakeGazetteer())
    assert points.empty
    assert list(points.columns) == list(POINT_COLUMNS)
    assert any(p.where == "line 1" and field in p.field and p.severity == "error" for p in problems)


def test_file_problems_unknown_organisation_and_undated_rows(tmp_path, atlas):
    points, problems = load_member_list(tmp_path / "absent.csv", "net", atlas, gazetteer=FakeGazetteer())
    assert points.empty
    assert [str(p) for p in problems] == ["absent.csv: file is missing"]

    path = write(tmp_path, "name,country,city\nBonn,DE,Bonn\n")
    points, problems = load_member_list(path, "no-such-org", atlas, gazetteer=FakeGazetteer())
    assert points.empty
    assert problems[0].field == "organisation"
    assert "unknown organisation id" in problems[0].message

    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("name,country,city\nK\xf6ln,DE,Bonn\n".encode("latin-1"))
    points, problems = load_member_list(latin1, "net", atlas, gazetteer=FakeGazetteer())
    assert points.empty
    assert "is not UTF-8" in str(problems[0])

    points, problems = load_member_list(path, "net", atlas, gazetteer=FakeGazetteer())
    assert len(points) == 1
    assert points["as_of"].isna().all()
    warnings = [p for p in problems if p.severity == "warning"]
    assert len(warnings) == 1
    assert warnings[0].field == "as_of"
    assert "1 row(s) have no as-of date" in warnings[0].message


def test_no_gazetteer_is_loaded_when_every_row_has_coordinates(tmp_path, atlas, monkeypatch):
    import geocoding

    def boom(*args, **kwargs):
        raise AssertionError("the gazetteer was loaded")

    monkeypatch.setattr(geocoding, "Gazetteer", boom)
    path = write(
        tmp_path, "name,country,latitude,longitude,precision\nA,DE,50.7,7.1,city\nB,JP,33.8,130.8,city\n"
    )
    points, problems = load_member_list(path, "node", atlas, as_of="2025-01")
    assert [p for p in problems if p.severity == "error"] == []
    assert list(points["name_en"]) == ["A", "B"]
    assert list(points["org_short_en"].unique()) == [
        atlas.organisations.set_index("id").loc["node", "short_en"]
    ]


def test_a_large_list_loads_and_maps_with_escaped_names(tmp_path, atlas):
    hostile = "<img src=x onerror=alert(1)>"
    lines = ["name,country,latitude,longitude,precision,as_of"]
    for i in range(3000):
        name = f'"{hostile} {i}"' if i % 500 == 0 else f"Member {i}"
        lines.append(f"{name},DE,{47 + (i % 80) / 10},{6 + (i % 90) / 10},city,2025-01")
    path = write(tmp_path, "\n".join(lines) + "\n")
    points, problems = load_member_list(path, "net", atlas, gazetteer=FakeGazetteer())
    assert problems == []
    assert len(points) == 3000
    page = map_html(build_map(points, lang="en"))
    assert marker_count(page) == 3000
    assert hostile not in page
