"""The loader and `python -m dashboard validate`: valid data loads; each kind of defect is named
with its file, line or entry, field and value; the command exits non-zero."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dashboard.core import paths
from dashboard.core.data import AtlasDataError, load_atlas, validate

MINIMAL = Path(__file__).parent / "fixtures" / "minimal"


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(MINIMAL, folder)
    return folder


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture text {old!r} not found in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def messages(folder: Path) -> list[str]:
    return [str(p) for p in validate(folder) if p.severity == "error"]


def test_shipped_data_validates():
    problems = validate(paths.SHIPPED_DATA_DIR)
    assert problems == [], "\n".join(map(str, problems))
    atlas = load_atlas(paths.SHIPPED_DATA_DIR)
    assert len(atlas.organisations) >= 11
    # every office and every member place is on the map (a city in several networks once)
    assert len(atlas.points) == len(atlas.offices) + atlas.members["place"].nunique()


def test_minimal_fixture_loads_into_tables():
    atlas = load_atlas(MINIMAL)
    assert list(atlas.organisations["id"]) == ["net", "node"]
    assert atlas.org("node").parent.organisation == "net"
    # offices by their id, a member city by its identity (here its name: no GeoNames id in the fixture)
    assert set(atlas.points["id"]) == {"net-bonn", "node-tokyo", "city-jp-kyoto"}
    tokyo = atlas.points.set_index("id").loc["node-tokyo"]
    assert tokyo["name_ja"] == "日本事務所"
    assert atlas.label("countries", tokyo["country"], "ja") == "日本"
    assert atlas.source_title(tokyo["source"]) == "Test source B"
    kyoto = atlas.points.set_index("id").loc["city-jp-kyoto"]
    assert [m.organisation for m in kyoto["memberships"]] == ["net"]
    assert kyoto["memberships"][0].since == "1993"
    assert atlas.label("regions", "east-asia", "ja") == "東アジア"


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        pytest.param(
            "offices.csv",
            ",src-b\n",
            ",src-zzz\n",
            ["offices.csv, line 3, field 'source': unknown source id", "src-zzz"],
            id="unknown-source",
        ),
        pytest.param(
            "organisations.yaml",
            "  sources: [src-b]\n",
            "",
            ["organisations.yaml, entry 2 (id: node), field 'sources': is required"],
            id="missing-source",
        ),
        pytest.param(
            "members.csv",
            "net-kyoto,net,",
            "net-kyoto,nope,",
            ["members.csv, line 2, field 'organisation': unknown organisation id", "'nope'"],
            id="unknown-organisation",
        ),
        pytest.param(
            "events.csv",
            "1990-09,month",
            "1990-13,month",
            ["events.csv, line 2, field 'date'", "'1990-13' is not a real date"],
            id="bad-date",
        ),
        pytest.param(
            "membership.csv",
            "net-1990,net,1990-09",
            "net-1990,net,1887",
            ["membership.csv, line 2, field 'as_of'", "lies outside 1980-2026"],
            id="date-out-of-range",
        ),
        pytest.param(
            "offices.csv",
            "node-tokyo,node",
            "net-bonn,node",
            ["offices.csv, line 3, field 'id': duplicate id (first at line 2)", "'net-bonn'"],
            id="duplicate-id",
        ),
        pytest.param(
            "members.csv",
            "net-kyoto,net",
            "net-bonn,net",
            ["members.csv, line 2, field 'id': id is also used in offices.csv"],
            id="id-shared-across-files",
        ),
        pytest.param(
            "sources.yaml",
            "- id: src-b\n",
            "- id: src-b\n  title: [unclosed\n",
            ["sources.yaml, line ", "is not valid YAML"],
            id="malformed-yaml",
        ),
        pytest.param(
            "offices.csv",
            "id,organisation,name,",
            "id,organisation,nom,",
            ["offices.csv, line 1, field 'name': required column is missing"],
            id="missing-column",
        ),
        pytest.param(
            "membership.csv",
            "net-2025,net,2025,2500,",
            "net-2025,net,2025,lots,",
            ["membership.csv, line 3, field 'members'", "'lots'"],
            id="wrong-type",
        ),
        pytest.param(
            "offices.csv",
            ",JP,east-asia,",
            ",XX,east-asia,",
            ["offices.csv, line 3, field 'country': unknown country code", "'XX'"],
            id="unknown-country",
        ),
        pytest.param(
            "offices.csv",
            ",JP,east-asia,",
            ",JP,europe,",
            ["offices.csv, line 3, field 'region': JP is in region 'east-asia'"],
            id="region-mismatch",
        ),
        pytest.param(
            "organisations.yaml",
            "themes: [climate]",
            "themes: [weather]",
            ["organisations.yaml, entry 2 (id: node), field 'themes': unknown theme", "'weather'"],
            id="unknown-theme",
        ),
        pytest.param(
            "events.csv",
            "1990-09,month",
            "1990-09,day",
            ["events.csv, line 2, field 'precision': date '1990-09' is written to month precision"],
            id="precision-mismatch",
        ),
        pytest.param(
            "offices.csv",
            ",https://example.org,",
            ",javascript:alert(1),",
            ["offices.csv, line 2, field 'website'", "is not an http(s) address"],
            id="non-http-link",
        ),
    ],
)
def test_each_defect_is_named(data: Path, file: str, old: str, new: str, expected: list[str]):
    edit(data / file, old, new)
    found = messages(data)
    joined = "\n".join(found)
    assert found, "the defect was not reported"
    for part in expected:
        assert part in joined, f"{part!r} not in:\n{joined}"
    with pytest.raises(AtlasDataError) as err:
        load_atlas(data)
    assert expected[0] in str(err.value)


def test_empty_file(data: Path):
    (data / "members.csv").write_text("", encoding="utf-8")
    assert "members.csv: file is empty" in messages(data)


def test_missing_file(data: Path):
    (data / "events.csv").unlink()
    assert "events.csv: file is missing" in messages(data)


def test_truncated_row(data: Path):
    text = (data / "offices.csv").read_text(encoding="utf-8")
    (data / "offices.csv").write_text(text.rstrip("\n")[:-40], encoding="utf-8")
    joined = "\n".join(messages(data))
    assert "offices.csv, line 3" in joined
    assert "fewer cells than the header" in joined


def test_wrong_encoding(data: Path):
    text = (data / "members.csv").read_text(encoding="utf-8")
    (data / "members.csv").write_bytes(text.encode("shift_jis"))
    joined = "\n".join(messages(data))
    assert "members.csv, line 2: is not UTF-8 text" in joined


def test_bom_and_windows_line_endings_are_accepted(data: Path):
    text = (data / "offices.csv").read_text(encoding="utf-8")
    (data / "offices.csv").write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    assert messages(data) == []
    assert len(load_atlas(data).offices) == 2


def test_all_problems_reported_at_once(data: Path):
    edit(data / "offices.csv", ",src-b\n", ",src-zzz\n")
    edit(data / "events.csv", "1990-09,month", "1990-13,month")
    assert len(messages(data)) == 2


def test_missing_coordinates_is_a_warning_and_point_left_out(data: Path):
    edit(data / "geocoded.csv", "net-kyoto,", "net-kyoto-x,")
    problems = validate(data)
    errors = [p for p in problems if p.severity == "error"]
    assert any("geocoded.csv, line 4, field 'id': unknown office or member id" in str(p) for p in errors)
    edit(data / "geocoded.csv", "net-kyoto-x,35.02107,135.75385,city,gazetteer,\"Kyoto, JP\",Kyoto,"
         "2026-11-23T00:00:00Z\n", "")  # fmt: skip
    problems = validate(data)
    assert [str(p) for p in problems] == [
        "members.csv, line 2, field 'id': warning: has no coordinates yet: run `python -m geocoding` "
        "(value: 'net-kyoto')"
    ]
    atlas = load_atlas(data)
    assert "Kyoto" not in set(atlas.points["name_en"])


def test_validate_command_exit_status(data: Path):
    ok = subprocess.run(
        [sys.executable, "-m", "dashboard", "validate", "--data-dir", str(data)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "OK" in ok.stdout
    edit(data / "offices.csv", ",src-b\n", ",src-zzz\n")
    bad = subprocess.run(
        [sys.executable, "-m", "dashboard", "validate"],
        capture_output=True, text=True, check=False, env={"ATLAS_DATA_DIR": str(data), "PATH": "/usr/bin"},
    )  # fmt: skip
    assert bad.returncode == 1
    assert "offices.csv, line 3, field 'source': unknown source id" in bad.stdout
    assert "Traceback" not in bad.stdout + bad.stderr


def test_partial_load_leaves_out_bad_entries_and_what_depends_on_them(data: Path):
    from dashboard.core.data import load_atlas_partial

    edit(data / "organisations.yaml", "kind: national-node", "kind: no-such-kind")
    atlas, problems = load_atlas_partial(data)
    joined = "\n".join(map(str, problems))
    assert "organisations.yaml, entry 2 (id: node), field 'kind': unknown organisation kind" in joined
    assert "offices.csv, line 3, field 'organisation': warning: left out: organisation 'node'" in joined
    assert list(atlas.organisations["id"]) == ["net"]
    assert set(atlas.points["id"]) == {"net-bonn", "city-jp-kyoto"}
