"""Member lists dropped into data/member-lists/ (one CSV each, any size): checked like every other file,
placed by the geocoder when they give no coordinates, one point per city whatever the number of lists
and networks that name it, and on the map with no code change."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dashboard.atlasmap.builder import build_map, map_html, shown_points
from dashboard.core import paths
from dashboard.core.data import load_atlas, load_atlas_partial, validate
from dashboard.core.filters import Filters, select
from dashboard.core.schema import MEMBER_LIST_REQUIRED
from geocoding import Gazetteer
from geocoding.cli import main as geocode_main

MINIMAL = Path(__file__).parent / "fixtures" / "minimal"
HEADER = ",".join(MEMBER_LIST_REQUIRED)


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(MINIMAL, folder)
    (folder / paths.MEMBER_LISTS).mkdir()
    monkeypatch.setenv("ATLAS_DATA_DIR", str(folder))
    return folder


def write_list(data: Path, name: str, rows: list[str], header: str = HEADER) -> Path:
    path = data / paths.MEMBER_LISTS / name
    path.write_text(header + "\n" + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def test_rows_with_coordinates_are_on_the_map_at_once(data):
    write_list(
        data,
        "net-2025.csv",
        [
            "net,Nairobi,KE,-1.2921,36.8219,city,2019,,2025-03,src-b,",
            "net,Kyoto,JP,35.0116,135.7681,city,,,2025-03,src-b,also in members.csv",
        ],
    )
    _add_country(data, "KE", "Kenya", "ケニア", "africa")
    atlas = load_atlas(data)
    members = atlas.points[atlas.points["point_type"] == "member"]
    assert set(members["name_en"]) == {"Nairobi", "Kyoto"}
    nairobi = members[members["name_en"] == "Nairobi"].iloc[0]
    assert (nairobi["lat"], nairobi["lon"], nairobi["precision"]) == (-1.2921, 36.8219, "city")
    assert nairobi["memberships"][0].since == "2019"
    assert nairobi["memberships"][0].sources == ("src-b",)
    assert nairobi["region"] == "africa"  # from the country


def test_rows_without_coordinates_are_placed_by_the_geocoder(data, capsys):
    write_list(
        data, "node-2025.csv", ["node,Bonn,DE,,,,,,2025,src-b,", "node,Kitakyushu,JP,,,,2010,,2025,src-b,"]
    )
    problems = validate(data)
    unplaced = [p for p in problems if "no coordinates yet" in p.message]
    assert [(p.file, p.where, p.severity) for p in unplaced] == [
        ("member-lists/node-2025.csv", "2 rows", "warning")
    ]
    assert "Bonn, Kitakyushu" in unplaced[0].value
    assert geocode_main(["--offline", "--no-progress"], gazetteer=Gazetteer()) == 0
    capsys.readouterr()
    atlas = load_atlas(data)
    names = set(atlas.points.loc[atlas.points["point_type"] == "member", "name_en"])
    assert {"Bonn", "Kitakyushu", "Kyoto"} <= names
    kitakyushu = atlas.points[atlas.points["name_en"] == "Kitakyushu"].iloc[0]
    assert kitakyushu["id"].startswith("gn")  # one identity: its GeoNames id
    assert kitakyushu["geonameid"] > 0


def test_a_city_named_by_several_lists_is_one_point_with_every_network(data):
    write_list(data, "node.csv", ["node,Kyoto,JP,35.0116,135.7681,city,2001,,2025,src-b,"])
    write_list(data, "net-more.csv", ["net,Kyoto,JP,35.0116,135.7681,city,,,2024,src-b,a second source"])
    atlas = load_atlas(data)
    kyoto = atlas.points[atlas.points["name_en"] == "Kyoto"]
    assert len(kyoto) == 1
    row = kyoto.iloc[0]
    assert set(row["organisations"]) == {"net", "node"}
    assert row["n_networks"] == 2
    net = next(m for m in row["memberships"] if m.organisation == "net")
    assert net.sources == ("src-a", "src-b")  # members.csv and the list: one membership, both sources
    assert net.since == "1993"
    # the filters keep only the selected networks' memberships
    only_node = select(atlas, Filters(organisations=("node",)))
    kyoto_node = only_node.points[only_node.points["name_en"] == "Kyoto"].iloc[0]
    assert kyoto_node["organisations"] == ("node",)
    assert kyoto_node["n_networks"] == 1


def test_bad_rows_are_named_by_file_line_and_field_and_the_rest_loads(data):
    write_list(
        data,
        "mixed.csv",
        [
            "net,Bonn,DE,50.73,7.09,city,,,2025,src-a,",  # line 2: fine
            "nobody,Bonn,DE,50.73,7.09,city,,,2025,src-a,",  # line 3: unknown organisation
            "net,Bonn,DE,50.73,7.09,city,,,2025,no-such-source,",  # line 4
            "net,Atlantis,XX,1,1,city,,,2025,src-a,",  # line 5: unknown country
            "net,Bonn,DE,50.73,,,,,2025,src-a,",  # line 6: half a coordinate
            "net,Bonn,DE,95,7.09,city,,,2025,src-a,",  # line 7: latitude out of range
            "net,Bonn,DE,50.73,7.09,exact,,,2025,src-a,",  # line 8: not a precision
            "net,Bonn,DE,50.73,7.09,city,2010,2001,2025,src-a,",  # line 9: until before since
            "net,Bonn,DE,50.73,7.09,city,soon,,2025,src-a,",  # line 10: not a date
        ],
    )
    atlas, problems = load_atlas_partial(data)
    errors = {(p.file, p.where, p.field) for p in problems if p.severity == "error"}
    f = "member-lists/mixed.csv"
    assert errors == {
        (f, "line 3", "organisation"),
        (f, "line 4", "source"),
        (f, "line 5", "country"),
        (f, "line 6", ""),
        (f, "line 7", "latitude"),
        (f, "line 8", "precision"),
        (f, "line 9", "until"),
        (f, "line 10", "since"),
    }
    text = "\n".join(str(p) for p in problems)
    assert (
        "member-lists/mixed.csv, line 6: coordinates need latitude, longitude and precision together" in text
    )
    assert atlas is not None
    assert "Bonn" in set(atlas.points.loc[atlas.points["point_type"] == "member", "name_en"])


@pytest.mark.parametrize(("header", "missing"), [("organisation,city,country,source", "latitude")])
def test_a_list_without_the_fixed_header_is_named_and_loads_nothing(data, header, missing):
    write_list(data, "short.csv", ["net,Bonn,DE,src-a"], header=header)
    problems = validate(data)
    named = [p for p in problems if p.file == "member-lists/short.csv"]
    assert len(named) == 1
    assert named[0].where == "line 1"
    assert missing in named[0].field
    assert named[0].message == "required column is missing"


def test_a_large_list_is_on_the_map_with_every_row(data):
    rows = [
        f"net,Place {i},DE,{47 + (i % 500) / 100:.4f},{6 + i // 500 / 10:.4f},city,,,2025,src-a,"
        for i in range(2500)
    ]
    write_list(data, "large.csv", rows)
    atlas = load_atlas(data)
    assert (atlas.points["point_type"] == "member").sum() == 2500 + 1  # and Kyoto from members.csv
    page = map_html(build_map(atlas.points, lang="en", atlas=atlas))
    assert shown_points(page) == len(atlas.points)


def _add_country(data: Path, code: str, en: str, ja: str, region: str) -> None:
    vocab = data / paths.VOCABULARY
    text = vocab.read_text(encoding="utf-8")
    text = text.replace(
        "countries:\n", f"countries:\n  {code}: {{en: {en}, ja: {ja}, region: {region}}}\n", 1
    )
    if f"  {region}:" not in text:
        text = text.replace("regions:\n", f"regions:\n  {region}: {{en: {region}, ja: {region}}}\n", 1)
    vocab.write_text(text, encoding="utf-8")
