"""Scenes (data/scenes.yaml): the shipped story, what a bad scene gets (a message naming it; the
others still work), and how a link carries a scene."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dashboard.core import paths
from dashboard.core.data import load_atlas, load_atlas_partial
from dashboard.core.filters import PAGES, Filters, from_query_params, scene_filters, select, to_query_params

MINIMAL = Path(__file__).parent / "fixtures" / "minimal"
GOOD = """\
- id: start
  title_ja: はじまり
  title_en: Start
  page: overview
- id: europe
  title_ja: ヨーロッパ
  title_en: Europe
  page: map
  years: 1990,2010
  region: europe
  center: [50, 8]
  zoom: 4
"""


@pytest.fixture(scope="module")
def shipped():
    return load_atlas(paths.SHIPPED_DATA_DIR)


def with_scenes(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(MINIMAL, folder)
    (folder / paths.SCENES).write_text(text, encoding="utf-8")
    return folder


def test_the_shipped_story_is_valid_and_complete(shipped):
    ids = [s.id for s in shipped.scenes]
    assert ids == ["networks", "timeline", "iclei-offices", "japan", "growth", "missions", "sources"]
    assert not [p for p in shipped.problems if p.file == paths.SCENES]
    for scene in shipped.scenes:
        assert scene.page in PAGES
        assert scene.title_ja.strip()
        assert scene.title_en.strip()
        assert scene.notes_ja
        assert scene.notes_en
        sel = select(shipped, scene_filters(scene))
        assert not sel.empty, scene.id  # every scene shows something
        if scene.page == "map":
            assert not sel.points.empty
        if scene.page == "compare":
            assert len(scene.compare) >= 2
    by_id = {s.id: s for s in shipped.scenes}
    assert by_id["iclei-offices"].org == ["iclei"]
    japan = select(shipped, scene_filters(by_id["japan"]))
    assert "JP" in set(japan.points["country"])
    missions = [shipped.org(o).mission for o in by_id["missions"].compare]
    assert all(missions)  # missions side by side: every one compared has one


def test_a_scene_without_a_file_is_no_problem():
    atlas = load_atlas(MINIMAL)
    assert atlas.scenes == []


@pytest.mark.parametrize(
    ("entry", "field", "message"),
    [
        (
            "page: atlas",
            "page",
            "Input should be 'overview', 'map', 'timeline', 'membership', 'compare' or 'sources'",
        ),
        ("page: timeline\n  region: [atlantis]", "region", "unknown region"),
        ("page: timeline\n  org: [nobody]", "org", "unknown organisation id"),
        ("page: compare\n  compare: [net]", "", "compare needs two to four organisations"),
        ("page: timeline\n  years: 2010,1990", "", "years 2010,1990"),
        ("page: timeline\n  center: [10, 10]", "", "center and zoom belong to a scene of the map page"),
        ("page: map\n  zoom: 40", "zoom", "less than or equal to 18"),
    ],
)
def test_a_bad_scene_is_named_and_left_out_the_others_kept(tmp_path, entry, field, message):
    bad = f"- id: bad\n  title_ja: 悪い\n  title_en: Bad\n  {entry}\n"
    folder = with_scenes(tmp_path, GOOD + bad)
    atlas, problems = load_atlas_partial(folder)
    mine = [p for p in problems if p.file == paths.SCENES]
    assert len(mine) == 1, mine
    assert mine[0].where == "entry 3 (id: bad)"
    assert mine[0].field == field
    assert message in mine[0].message
    assert [s.id for s in atlas.scenes] == ["start", "europe"]


def test_a_duplicate_scene_id_is_named(tmp_path):
    folder = with_scenes(tmp_path, GOOD + GOOD.split("- id: europe")[0])
    atlas, problems = load_atlas_partial(folder)
    assert [str(p) for p in problems if p.file == paths.SCENES] == [
        "scenes.yaml, entry 3 (id: start), field 'id': duplicate id (first at entry 1 (id: start))"
        " (value: 'start')"
    ]
    assert [s.id for s in atlas.scenes] == ["start", "europe"]


# ---------------------------------------------------------------------------------- links
def test_a_link_to_a_scene_starts_from_the_scenes_filters(tmp_path):
    atlas = load_atlas(with_scenes(tmp_path, GOOD))
    parsed = from_query_params({"scene": "europe", "lang": "en"}, atlas)
    assert parsed.notices == []
    assert parsed.filters == Filters(years=(1990, 2010), regions=("europe",), lang="en", scene="europe")
    # a filter the link also gives replaces the scene's
    parsed = from_query_params({"scene": "europe", "region": "east-asia"}, atlas)
    assert parsed.filters.regions == ("east-asia",)
    assert parsed.filters.years == (1990, 2010)
    assert to_query_params(parsed.filters)["scene"] == "europe"


def test_an_unknown_scene_in_a_link_is_ignored_with_a_notice(tmp_path):
    atlas = load_atlas(with_scenes(tmp_path, GOOD))
    parsed = from_query_params({"scene": "atlantis"}, atlas)
    assert parsed.filters == Filters()
    assert [n.text("en") for n in parsed.notices] == ["Ignored an unknown scene in the link: atlantis"]
    assert parsed.notices[0].text("ja") == "リンクの不明なシーンを無視しました：atlantis"


def test_a_scene_is_found_by_its_id_and_an_unknown_id_finds_none(shipped):
    first = shipped.scenes[0]
    assert shipped.scene(first.id) is first
    assert shipped.scene("no-such-scene") is None
    assert shipped.scene(None) is None


def test_the_view_of_the_filters_leaves_out_only_how_they_are_presented():
    shown = Filters(years=(1990, 2000), regions=("europe",), lang="en", present=True, scene="networks")
    assert shown.view() == Filters(years=(1990, 2000), regions=("europe",), lang="en")


def test_a_map_scenes_view_is_one_rule_for_the_app_the_site_and_the_pack():
    from dashboard.core.filters import SCENE_ZOOM, scene_view
    from dashboard.core.schema import Scene

    base = {"id": "s", "title_ja": "地図", "title_en": "Map", "page": "map"}
    assert scene_view(Scene(**base)) is None  # no center: the map fits its points
    assert scene_view(Scene(**base, center=(36.5, 137.0), zoom=5)) == {"center": (36.5, 137.0), "zoom": 5}
    assert scene_view(Scene(**base, center=(36.5, 137.0))) == {"center": (36.5, 137.0), "zoom": SCENE_ZOOM}
    assert scene_view(Scene(**{**base, "page": "timeline"})) is None
