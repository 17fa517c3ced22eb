"""Presenting at a briefing, in Chromium: every page at 1280 x 720 and 1920 x 1080 in presentation
mode, at 1440 x 900 (a laptop) and at 390 x 844 (a phone), in both languages; the scenes stepped
with the keys and a clicker; a link to a scene; a bad scene (in a link, in the file); the scenes pack
opened offline; every control reached with the keyboard alone.

At projector sizes each page's main visual (.st-key-main-visual) lies inside the screen and covers
most of it, under a one-line title; on every page at every size no text covers other text (the
map's frame included) and axe-core finds nothing critical or serious. A screenshot of every page,
size and language is kept in test-artifacts/screens/<size>/. Expected titles and names come from the
catalogue and data/scenes.yaml, never from the page.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from urllib.parse import urlsplit

import pytest

from dashboard.core import paths
from dashboard.core.data import load_atlas, load_atlas_partial
from dashboard.core.describe import map_summary, membership_summary, timeline_summary
from dashboard.core.filters import Filters, scene_filters, select
from dashboard.core.text import count, pick, t
from tests.browser.layout import (
    PHONE,
    PROJECTOR,
    SIZES,
    axe_violations,
    overlapping_text,
    rect,
    screenshot,
    settle,
    tab_stops,
)
from tests.browser.pageutil import PAGES, current_url, heading, map_frame, poll, query, settled_map_state
from tests.test_load import serve

pytestmark = pytest.mark.browser

IN_WORDS = {  # page -> what says its main visual in words, the table of its data
    "map": (map_summary, "places_table"),
    "timeline": (timeline_summary, "events_table"),
    "membership": (lambda sel, a, lang: membership_summary(sel.membership, a, lang), "membership_table"),
}
# how much of a projector's screen the main visual covers at least (the comparison's columns are as
# tall as their texts; every other visual is laid out for the screen)
COVERS = {"compare": 0.3}


@pytest.fixture(scope="module")
def atlas():
    return load_atlas(paths.SHIPPED_DATA_DIR)


def wait_for_content(page, path: str) -> None:
    """Until the page's main visual has drawn what it holds."""
    if path == "map":
        settled_map_state(map_frame(page))
    elif path in ("timeline", "membership"):
        page.locator(".st-key-main-visual .js-plotly-plot .scatterlayer .trace").first.wait_for(
            state="attached"
        )
    elif path in ("", "sources"):
        page.locator('[data-testid="stDataFrame"]').first.wait_for()
    elif path == "compare":
        page.locator(".st-key-cmp-mission").first.wait_for()


def title_is_one_whole_line(page) -> dict:
    return page.evaluate(
        """() => { const h = document.querySelector('[data-testid="stMain"] h1');
          const fs = parseFloat(getComputedStyle(h).fontSize);
          return {lines: h.getBoundingClientRect().height / fs, cut: h.scrollWidth > h.clientWidth + 1,
                  size: fs}; }"""
    )


# ---------------------------------------------------------------------------------- every page
@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("path", list(PAGES), ids=[p or "overview" for p in PAGES])
@pytest.mark.parametrize("size", list(SIZES))
def test_every_page_fits_reads_and_passes_axe(server, new_browsed, atlas, size, path, lang):
    width, height = SIZES[size]
    projector = size in PROJECTOR
    b = new_browsed(viewport={"width": width, "height": height})
    page = b.page
    params = (
        f"lang={lang}"
        + ("&present=1" if projector else "")
        + ("&compare=iclei,can,citynet" if path == "compare" else "")
    )
    page.goto(f"{server}/{path}?{params}")
    page.locator('[data-testid="stMain"] h1').first.wait_for()
    settle(page)
    wait_for_content(page, path)
    box = settle(page)
    screenshot(page, size, f"{path or 'overview'}-{lang}")

    assert heading(page) == t(PAGES[path], lang)
    if path in IN_WORDS:  # the chart or the map in words under it, and its data one click away
        describe, table = IN_WORDS[path]
        words = describe(select(atlas, Filters(lang=lang)), atlas, lang)
        captions = page.locator('[data-testid="stCaptionContainer"]').all_inner_texts()
        assert words in [c.strip() for c in captions]
        assert page.locator('[data-testid="stExpander"] summary').filter(has_text=t(table, lang)).count() == 1
    assert overlapping_text(page) == []
    assert axe_violations(page) == []
    assert box is not None
    if projector:  # the main visual inside the screen, covering most of it, under a one-line title
        assert box["x"] >= 0
        assert box["y"] >= 0
        assert box["x"] + box["width"] <= width + 0.5
        assert box["y"] + box["height"] <= height + 0.5, (box, height)
        assert box["width"] * box["height"] >= COVERS.get(path, 0.6) * width * height, box
        title = title_is_one_whole_line(page)
        assert title["lines"] < 1.6
        assert not title["cut"]
        assert title["size"] >= 26  # a room reads it
        if path == "map":
            frame_box = rect(page, '.st-key-main-visual iframe[title="streamlit_folium.st_folium"]')
            assert frame_box["height"] >= 0.95 * box["height"]
            legend = map_frame(page).evaluate("() => document.querySelector('.atlas-legend').className")
            assert "atlas-legend-collapsed" in legend  # collapsible, collapsed to leave the map free
            zoom_in = map_frame(page).evaluate(
                "() => document.querySelector('.leaflet-control-zoom-in').getBoundingClientRect().toJSON()"
            )
            assert zoom_in["width"] >= 44 and zoom_in["height"] >= 44  # large enough to hit  # noqa: PT018
        if path in ("timeline", "membership"):
            chart = rect(page, ".st-key-main-visual .js-plotly-plot .main-svg")
            assert chart["y"] + chart["height"] <= height + 0.5  # the whole chart, axis and legend
    elif path == "map" and size == PHONE:  # the whole map on the screen, its legend collapsed
        frame_box = rect(page, '.st-key-main-visual iframe[title="streamlit_folium.st_folium"]')
        assert frame_box["x"] >= 0
        assert frame_box["x"] + frame_box["width"] <= width
        assert frame_box["y"] + frame_box["height"] <= height
        assert frame_box["height"] >= 300
        frame = map_frame(page)
        assert "atlas-legend-collapsed" in frame.evaluate(
            "() => document.querySelector('.atlas-legend').className"
        )
        frame.locator(".atlas-legend-toggle").click()  # a tap opens it
        assert "atlas-legend-collapsed" not in frame.evaluate(
            "() => document.querySelector('.atlas-legend').className"
        )
        assert frame.locator(".atlas-legend-row").count() > 5
    assert b.watch.problems(allow_basemap=(path == "map")) == []


# ---------------------------------------------------------------------------------- the scenes
def counter(page) -> str:
    # while a run replaces the page, the old bar can stand beside the new one: one counter, or all
    shown = [c.strip() for c in page.locator(".st-key-scene-counter").all_inner_texts()]
    return shown[0] if len(shown) == 1 else " | ".join(shown)


def shown_scene(page) -> tuple[str, str, str | None]:
    return urlsplit(current_url(page)).path.strip("/"), heading(page), query(page).get("scene")


def expect_scene(page, atlas, i: int, lang: str) -> None:
    scene = atlas.scenes[i]
    want = (
        "" if scene.page == "overview" else scene.page,
        pick(scene.title_ja, scene.title_en, lang),
        scene.id,
    )
    assert poll(lambda: shown_scene(page), lambda s: s == want) == want
    assert poll(lambda: counter(page), lambda c: c == f"{i + 1} / {len(atlas.scenes)}") == (
        f"{i + 1} / {len(atlas.scenes)}"
    )
    box = settle(page)
    assert box["y"] + box["height"] <= page.viewport_size["height"] + 0.5  # each scene fits


def test_the_keys_and_a_clicker_step_through_the_scenes(server, new_browsed, atlas):
    b = new_browsed(viewport={"width": 1280, "height": 720})
    page = b.page
    page.goto(f"{server}/?present=1&lang=en")
    settle(page)
    assert counter(page) == f"– / {len(atlas.scenes)}"
    keys = ["PageDown", "ArrowRight", "PageDown", "ArrowDown", "PageDown", "ArrowRight", "PageDown"]
    for i, key in enumerate(keys[: len(atlas.scenes)]):
        page.keyboard.press(key)  # a clicker sends Page Down (or Right)
        expect_scene(page, atlas, i, "en")
        shown = select(atlas, scene_filters(atlas.scenes[i]))
        if atlas.scenes[i].page == "map":  # every point of the scene on its map (those in view drawn)
            want = len(shown.points)
            points = poll(lambda: settled_map_state(map_frame(page))["points"], lambda p, n=want: len(p) == n)
            assert len(points) == want
    last = len(atlas.scenes) - 1
    page.keyboard.press("PageDown")  # past the last: stays
    expect_scene(page, atlas, last, "en")
    page.keyboard.press("PageUp")
    expect_scene(page, atlas, last - 1, "en")
    page.keyboard.press("ArrowLeft")
    expect_scene(page, atlas, last - 2, "en")
    page.keyboard.press("Home")
    expect_scene(page, atlas, 0, "en")
    page.keyboard.press("End")
    expect_scene(page, atlas, last, "en")
    # presenter notes on N, over the bottom of the screen, and off again
    notes = page.locator(".st-key-presenter-notes")
    assert notes.count() == 0
    page.keyboard.press("n")
    notes.wait_for()
    assert atlas.scenes[last].notes_en.strip().splitlines()[0] in notes.inner_text()
    settle(page)
    page.keyboard.press("n")
    notes.wait_for(state="detached")
    assert b.watch.problems(allow_basemap=True) == []


def test_page_down_steps_even_with_the_map_in_focus_and_a_field_keeps_its_keys(server, new_browsed, atlas):
    i = next(k for k, s in enumerate(atlas.scenes) if s.page == "map")
    scene = atlas.scenes[i]
    b = new_browsed(viewport={"width": 1280, "height": 720})
    page = b.page
    page.goto(f"{server}/map?scene={scene.id}&present=1&lang=ja")
    expect_scene(page, atlas, i, "ja")
    frame = map_frame(page)
    settled_map_state(frame)
    frame.locator(".leaflet-container").focus()  # a click on the map: its arrows pan it
    zoom = frame.evaluate("() => window.atlasMap.state().zoom")
    page.keyboard.press("ArrowRight")  # pans the map, no step
    page.wait_for_timeout(1500)
    assert shown_scene(page)[2] == scene.id
    assert frame.evaluate("() => window.atlasMap.state().zoom") == zoom
    page.keyboard.press("PageDown")  # the clicker still steps
    expect_scene(page, atlas, i + 1, "ja")
    # a key typed into a field stays with the field
    compare = next(k for k, s in enumerate(atlas.scenes) if s.page == "compare")
    page.goto(f"{server}/compare?scene={atlas.scenes[compare].id}&present=1&lang=ja")
    expect_scene(page, atlas, compare, "ja")
    field = page.locator('[data-testid="stMain"] [data-testid="stMultiSelect"] input').first
    field.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowLeft")
    page.wait_for_timeout(1500)
    assert shown_scene(page)[2] == atlas.scenes[compare].id


def test_a_link_opens_a_scene_on_its_page_and_view(server, new_browsed, atlas):
    i = next(k for k, s in enumerate(atlas.scenes) if s.page == "map" and s.center)
    scene = atlas.scenes[i]
    b = new_browsed(viewport={"width": 1920, "height": 1080})
    page = b.page
    page.goto(
        f"{server}/?scene={scene.id}&present=1&lang=ja"
    )  # the overview's address: the scene's page opens
    expect_scene(page, atlas, i, "ja")
    frame = map_frame(page)
    settled_map_state(frame)
    state = frame.evaluate("() => window.atlasMap.state()")
    assert state["zoom"] == scene.zoom
    assert abs(state["center"][0] - scene.center[0]) < 1
    assert abs(state["center"][1] - scene.center[1]) < 1
    assert query(page)["scene"] == scene.id
    assert b.watch.problems(allow_basemap=True) == []


# ---------------------------------------------------------------------------------- the scenes pack
@pytest.fixture(scope="module")
def scenes_pack(tmp_path_factory):
    out = tmp_path_factory.mktemp("scenes") / "scenes.html"
    done = subprocess.run(
        [sys.executable, "-m", "dashboard", "export", "--scenes", "--lang", "en", "--out", str(out)],
        cwd=paths.ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return out


@pytest.mark.parametrize("size", PROJECTOR)
def test_the_scenes_pack_steps_offline_and_fits_the_screen(new_browsed, atlas, scenes_pack, size):
    width, height = SIZES[size]
    b = new_browsed(viewport={"width": width, "height": height}, offline=True)
    page = b.page
    page.goto(scenes_pack.resolve().as_uri())
    n = len(atlas.scenes)
    for i, scene in enumerate(atlas.scenes):
        current = page.locator(".scene.current")
        assert current.get_attribute("id") == f"scene-{scene.id}"
        assert current.locator("h1").inner_text() == scene.title_en
        assert page.locator("#scene-counter").inner_text() == f"{i + 1} / {n}"
        assert urlsplit(page.url).fragment == f"scene-{scene.id}"
        visual = current.locator(".visual").bounding_box()
        assert visual["y"] + visual["height"] <= height
        if scene.page in ("timeline", "membership"):
            current.locator(".scatterlayer .trace").first.wait_for(state="attached")
            chart = current.locator(".main-svg").first.bounding_box()
            assert chart["x"] >= 0
            assert chart["x"] + chart["width"] <= width + 0.5
            assert chart["y"] + chart["height"] <= visual["y"] + visual["height"] + 0.5  # scaled to fit
            assert chart["width"] >= 0.6 * width or chart["height"] >= 0.9 * visual["height"]
        if scene.page == "map":
            frame = current.locator("iframe.map").element_handle().content_frame()
            shown = select(atlas, scene_filters(scene)).points
            assert len(settled_map_state(frame)["points"]) == len(shown)  # (those in the scene's view drawn)
        assert overlapping_text(page) == []
        screenshot(page, size, f"scenes-pack-{i + 1}-{scene.id}")
        page.keyboard.press("PageDown" if i % 2 else "ArrowRight")
    assert page.locator("#scene-counter").inner_text() == f"{n} / {n}"
    page.keyboard.press("n")
    assert page.locator(".scene.current .notes").is_visible()
    page.keyboard.press("Home")
    assert page.locator("#scene-counter").inner_text() == f"1 / {n}"
    assert axe_violations(page) == []
    assert b.watch.problems() == []
    assert re.search(r"scene-", page.url)


# ---------------------------------------------------------------------------------- a bad scene
def test_a_link_to_an_unknown_scene_says_so_and_the_scenes_still_step(server, new_browsed, atlas):
    b = new_browsed(viewport={"width": 1280, "height": 720})
    page = b.page
    page.goto(f"{server}/?scene=atlantis&present=1&lang=en")
    settle(page)
    notice = page.get_by_text(t("notice_scene", "en", values="atlantis"))
    assert notice.is_visible()
    assert counter(page) == f"– / {len(atlas.scenes)}"
    page.keyboard.press("PageDown")
    expect_scene(page, atlas, 0, "en")
    assert b.watch.problems() == []


BAD_SCENE = """
- id: nowhere
  title_ja: ないページ
  title_en: A page that is not there
  page: atlas
"""


@pytest.fixture(scope="module")
def bad_scene_server(tmp_path_factory):
    """The app on a copy of the shipped data whose scenes.yaml has a scene with a page that does not
    exist between its good ones."""
    folder = tmp_path_factory.mktemp("bad-scene") / "data"
    shutil.copytree(paths.SHIPPED_DATA_DIR, folder)
    scenes = (folder / paths.SCENES).read_text(encoding="utf-8")
    second = scenes.index("\n- id:", scenes.index("\n- id:") + 1)  # before the second scene
    (folder / paths.SCENES).write_text(scenes[:second] + "\n" + BAD_SCENE + scenes[second:], encoding="utf-8")
    with serve(tmp_path_factory.mktemp("bad-scene-server"), folder) as srv:
        yield srv.url, folder


def test_a_bad_scene_in_the_file_is_named_and_the_others_step(bad_scene_server, new_browsed, atlas):
    url, folder = bad_scene_server
    good = load_atlas_partial(folder)[0].scenes
    assert [s.id for s in good] == [s.id for s in atlas.scenes]  # the bad one left out, every other kept
    b = new_browsed(viewport={"width": 1280, "height": 720})
    page = b.page
    page.goto(f"{url}/?present=1&lang=en")
    settle(page)
    banner = t("data_error_partial", "en", problems=count("problems", 1, "en"))
    error = page.locator('[data-testid="stAlert"]').filter(has_text=banner)
    assert error.is_visible()
    # in presentation mode one line; where, and what to fix, one click away
    page.locator(".st-key-data-problems [data-testid='stPopover'] button").click()
    where = page.locator("[data-testid='stPopoverBody'] [data-testid='stCode']").inner_text()
    assert "scenes.yaml, entry 2 (id: nowhere), field 'page'" in where
    page.keyboard.press("Escape")
    assert counter(page) == f"– / {len(good)}"
    for i in range(3):
        page.keyboard.press("PageDown")
        expect_scene(page, atlas, i, "en")
    assert error.is_visible()
    screenshot(page, "1280x720", "bad-scene-in-the-file")
    assert b.watch.problems(allow_basemap=True) == []


# ---------------------------------------------------------------------------------- keyboard only
NAV = [f"page_{p}" for p in ("overview", "map", "timeline", "membership", "compare", "sources")]
FILTERS = ["founding_years", "regions", "kinds", "organisations", "reset_filters", "presentation_mode"]
DOWNLOADS = {
    "": ["download_csv", "download_briefing", "download_scenes"],
    "map": ["download_map", "places_table", "several_networks"],
    "timeline": ["events_table"],
    "compare": ["download_markdown", "download_compare_csv"],
    "sources": ["download_csv"],
}
CONTROLS = ("A", "BUTTON", "INPUT", "SUMMARY", "SELECT", "TEXTAREA")
SCENE_CONTROLS = ["scene_previous", "scene_next", "scene_notes", "exit_presentation_short"]


@pytest.mark.parametrize(
    ("path", "present"),
    [("", False), ("map", False), ("timeline", False), ("compare", False), ("sources", False), ("", True)],
    ids=["overview", "map", "timeline", "compare", "sources", "presentation"],
)
def test_every_control_is_reached_by_the_keyboard_and_shows_its_focus(server, new_browsed, path, present):
    lang = "en"
    b = new_browsed(viewport={"width": 1440, "height": 900})
    page = b.page
    page.goto(f"{server}/{path}?lang={lang}" + ("&present=1" if present else ""))
    settle(page)
    wait_for_content(page, path)
    settle(page)
    # the links, buttons and fields the keyboard reaches (not the page's scrolling boxes, which
    # Chromium lets the keyboard scroll)
    stops = [s for s in tab_stops(page, limit=250) if s["tag"] in CONTROLS]
    names = [s["name"] for s in stops]
    wanted = [*NAV, *DOWNLOADS[path]] + (SCENE_CONTROLS if present else [*FILTERS, "language_name"])
    for key in wanted:
        label = t(key, lang)
        reached = [s for s in stops if re.search(rf"(^|\s){re.escape(label)}$", s["name"])]  # after an icon
        assert reached, f"{label!r} never has the focus; the stops: {names}"
        assert all(s["shows"] for s in reached), f"{label!r} has the focus but does not show it: {reached}"
    # every one of them shows where the focus is (the map's frame included)
    assert [f"{s['tag']} {s['name']}" for s in stops if not s["shows"]] == []
