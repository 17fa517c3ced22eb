"""The atlas in a real browser: what a person sees on each page, with no network.

Expected values come from the Streamlit-free core (``select(load_atlas(), filters)``), never
from the page itself, so a page that drops or duplicates points fails.
"""

from __future__ import annotations

import re

import pytest

from dashboard.core import paths
from dashboard.core.compare import comparison
from dashboard.core.data import load_atlas
from dashboard.core.figures import membership_figure, timeline_figure
from dashboard.core.filters import Filters, select
from dashboard.core.schema import PAGES as SCHEMA_PAGES
from dashboard.core.text import t
from tests.browser.layout import settle
from tests.browser.pageutil import (
    FILTERS_FALLBACK_S,
    PAGES,
    chips,
    choose,
    current_url,
    goto,
    heading,
    map_frame,
    map_state,
    multiselect_chips,
    plotly_state,
    poll,
    query,
    rounded,
    settled_map_state,
    sidebar,
    slider_values,
    wait_idle,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def atlas():
    return load_atlas(paths.SHIPPED_DATA_DIR)


def expected_points(atlas, **filters):
    return select(atlas, Filters(**filters)).points


# ---------------------------------------------------------------------------------- every page
@pytest.mark.parametrize("path", list(PAGES), ids=[p or "overview" for p in PAGES])
def test_every_page_opens_offline_without_errors(server, browsed, path):
    page, watch = browsed.page, browsed.watch
    goto(page, server, f"/{path}")
    assert heading(page) == t(PAGES[path], "ja")  # Japanese first, as the users read
    if path == "map":
        frame = map_frame(page)
        assert settled_map_state(frame)["drawn"] > 0
    elif path in ("timeline", "membership"):
        page.locator(".js-plotly-plot .scatterlayer .trace").first.wait_for(state="attached")
    elif path in ("", "sources"):
        page.locator('[data-testid="stDataFrame"]').first.wait_for()
    elif path == "compare":
        page.locator(".st-key-cmp-mission").wait_for()
    page.wait_for_timeout(500)  # late requests (fonts, tiles, component assets) show up here
    assert watch.problems(allow_basemap=(path == "map")) == []
    if path != "map":
        assert watch.basemap == []


# ---------------------------------------------------------------------------------- the map
def test_map_shows_one_marker_or_cluster_count_per_point(server, browsed, atlas):
    expected = expected_points(atlas)
    page = browsed.page
    goto(page, server, "/map")
    frame = map_frame(page)
    state = settled_map_state(frame, expected=len(expected))
    assert state["drawn"] == len(expected), state  # cluster numbers + lone markers, as seen
    assert rounded(state["points"]) == rounded(zip(expected["lat"], expected["lon"], strict=True))
    outlines = poll(lambda: map_state(frame)["outlines"], lambda n: n > 100)
    assert outlines > 100  # the country outlines are drawn (no basemap offline)
    caption = page.locator('[data-testid="stMain"] [data-testid="stCaptionContainer"]').first.inner_text()
    assert str(len(expected)) in caption
    assert browsed.watch.problems(allow_basemap=True) == []


# In the map's frame: the first moment every marker is on the map, and how many basemap tiles were
# on the page then (the frame's own document; the top page runs nothing of this).
TILES_AT_MARKERS_JS = """(expected) => {
  if (window === window.top) { return; }
  window.__tilesAtMarkers = null;
  window.__tilesWatch = new MutationObserver(() => {  // held by the window, so it is not collected
    if (window.__tilesAtMarkers !== null || !window.atlasMap || !window.atlasMap.state) { return; }
    if (window.atlasMap.state().drawn !== expected) { return; }
    window.__tilesAtMarkers = document.querySelectorAll('.leaflet-tile').length;
    window.__tilesWatch.disconnect();
  });
  const watch = () => window.__tilesWatch.observe(document, {childList: true, subtree: true});
  watch();
  window.addEventListener("DOMContentLoaded", watch);  // the frame's page replaces its about:blank
}"""


def test_the_online_basemap_is_asked_for_after_the_markers_are_drawn(server, browsed, atlas):
    expected = expected_points(atlas)
    page = browsed.page
    page.add_init_script(f"({TILES_AT_MARKERS_JS})({len(expected)})")
    goto(page, server, "/map?lang=en")
    frame = map_frame(page)
    settled_map_state(frame, expected=len(expected))
    assert frame.evaluate("window.__tilesAtMarkers") == 0  # the markers came first
    # ... and the basemap is still asked for (the tests abort it: no tile ever reaches the page)
    assert len(poll(lambda: browsed.watch.basemap, lambda v: len(v) > 0)) > 0
    assert frame.locator(".leaflet-control-attribution").inner_text().count("OpenStreetMap") == 1


def test_the_table_of_places_is_built_when_opened_with_a_row_per_point(server, browsed, atlas):
    expected = expected_points(atlas)
    page = browsed.page
    goto(page, server, "/map?lang=en")
    settled_map_state(map_frame(page), expected=len(expected))
    table = page.locator('[data-testid="stMain"] [data-testid="stDataFrame"]')
    assert table.count() == 0  # closed: neither built nor drawn, so the map comes first
    page.get_by_text(t("places_table", "en")).click()
    grid = table.locator('[role="grid"]').first
    grid.wait_for(state="attached")  # the grid draws on a canvas; this table is its accessible twin
    assert int(grid.get_attribute("aria-rowcount")) == len(expected) + 1  # the header row too
    csv = page.get_by_role("button", name=t("download_csv", "en"))
    assert csv.is_visible()
    assert browsed.watch.problems(allow_basemap=True) == []


# When the sidebar's year slider first appears: how many points the map frame's clusters held then.
FILTERS_SEEN_JS = """() => {
  window.__atlasFiltersSeenWith = null;
  const drawn = () => {
    const f = document.querySelector('iframe[title="streamlit_folium.st_folium"]');
    const w = f && f.contentWindow;
    if (!w || !w.atlasMap || !w.atlasMap.state) { return 0; }
    return w.atlasMap.state().shown;  // the points in the map's clustering index
  };
  window.__atlasMapReported = false;  // the map frame's own "drawn" message (not the fallback)
  window.addEventListener("message", e => {
    if (e.data && e.data.isStreamlitMessage && e.data.value && e.data.value.drawn === true) {
      window.__atlasMapReported = true;
    }
  });
  new MutationObserver((_, obs) => {
    if (document.querySelector('[data-testid="stSidebar"] [data-testid="stSlider"]')) {
      window.__atlasFiltersSeenWith = drawn();
      obs.disconnect();
    }
  }).observe(document, {childList: true, subtree: true});
}"""


# How many times a map frame was put on the page (a frame remade by a later run would count twice).
MAP_FRAMES_ADDED_JS = """() => {
  if (window !== window.top) { return; }
  window.__mapFramesAdded = 0;
  new MutationObserver(records => {
    for (const r of records) {
      for (const n of r.addedNodes) {
        if (n.nodeType !== 1) { continue; }
        const frames = n.matches('iframe') ? [n] : [...n.querySelectorAll('iframe')];
        window.__mapFramesAdded += frames.filter(f => f.title === 'streamlit_folium.st_folium').length;
      }
    }
  }).observe(document, {childList: true, subtree: true});
}"""


def _page_links(page) -> list[str]:
    """The sidebar's page links as read (each link's last line: its icon's ligature comes first)."""
    links = page.locator('[data-testid="stSidebarNav"] a').all_inner_texts()
    return [s.strip().splitlines()[-1] for s in links]


def test_a_link_to_the_map_draws_the_map_first_then_the_filters_with_the_links_values(server, browsed, atlas):
    europe = expected_points(atlas, regions=("europe",))
    page = browsed.page
    page.add_init_script(f"({FILTERS_SEEN_JS})()")
    page.add_init_script(f"({MAP_FRAMES_ADDED_JS})()")
    page.goto(f"{server}/map?region=europe&lang=en")
    page.locator('[data-testid="stSidebar"] [data-testid="stSlider"]').wait_for()
    # the filters came once the link's whole selection was on the map, not before, and because
    # the map said so (the fallback waits FILTERS_FALLBACK_S, longer than this wait allows)
    assert page.evaluate("window.__atlasFiltersSeenWith") == len(europe)
    assert page.evaluate("window.__atlasMapReported") is True
    assert poll(lambda: multiselect_chips(page, "Regions"), lambda v: v == ["Europe"]) == ["Europe"]
    assert slider_values(page) == ["1987", "2025"]
    assert page.get_by_text(t("filters_after_map", "en")).count() == 0  # the placeholder is gone
    assert query(page) == {"region": "europe", "lang": "en"}
    # the page links, the map's captions, its details column and its download came with the filters,
    # and the map's frame stayed the one first drawn
    wait_idle(page)
    assert _page_links(page) == [t(f"page_{name}", "en") for name in SCHEMA_PAGES]
    assert page.get_by_text(t("map_offline_note", "en")).is_visible()
    assert page.get_by_role("heading", name=t("details", "en")).is_visible()
    assert page.get_by_role("button", name=t("download_map", "en")).is_visible()
    assert page.evaluate("window.__mapFramesAdded") == 1
    assert browsed.watch.problems(allow_basemap=True) == []


def _script_runs_sent(page) -> list[str]:
    """The script runs the page asks the server for (Streamlit's BackMsg ``rerun_script``, fragments
    left out), as they are sent: a list that grows while the page is open."""
    from streamlit.proto.BackMsg_pb2 import BackMsg

    sent: list[str] = []

    def frame(payload) -> None:
        if isinstance(payload, str):
            return
        msg = BackMsg()
        msg.ParseFromString(payload)
        if msg.WhichOneof("type") == "rerun_script" and not msg.rerun_script.fragment_id:
            sent.append(", ".join(w.json_value for w in msg.rerun_script.widget_states.widgets))

    page.on("websocket", lambda ws: ws.on("framesent", frame))
    return sent


def test_a_link_to_the_map_costs_two_script_runs_the_map_then_the_filters(server, browsed):
    """What each attendee of a shared link costs the server: the first run (the map) and the one the
    map's "drawn" report asks for (the filters). streamlit-folium's frame also reports its click fields
    when the map starts; while the map's default differed from that report, every session cost a third
    run (dashboard/shell/folium_private.first_report)."""
    page = browsed.page
    runs = _script_runs_sent(page)
    page.goto(f"{server}/map?lang=en")
    page.locator('[data-testid="stSidebar"] [data-testid="stSlider"]').wait_for()
    wait_idle(page)
    page.wait_for_timeout(1500)  # the frame reports 250 ms after a change at most: a third run is sent by now
    assert len(runs) == 2, runs
    assert runs[0] == ""  # the page's first run: no widget has a value yet
    assert '"drawn": true' in runs[1] or '"drawn":true' in runs[1]


def test_the_filters_come_even_if_the_map_cannot_draw(server, browsed):
    page = browsed.page
    page.route("**/app/static/atlas-map.bundle.js", lambda route: route.abort())  # the map's frame breaks
    page.goto(f"{server}/map?region=europe&lang=en")
    page.get_by_text(t("filters_after_map", "en")).wait_for()
    page.locator('[data-testid="stSidebar"] [data-testid="stSlider"]').wait_for(
        timeout=(FILTERS_FALLBACK_S + 20) * 1000
    )
    assert poll(lambda: multiselect_chips(page, "Regions"), lambda v: v == ["Europe"]) == ["Europe"]
    assert len(poll(lambda: _page_links(page), lambda v: len(v) == len(SCHEMA_PAGES))) == len(SCHEMA_PAGES)


def test_one_region_in_the_url_leaves_only_its_points(server, browsed, atlas):
    everything = expected_points(atlas)
    europe = expected_points(atlas, regions=("europe",))
    assert 0 < len(europe) < len(everything)
    assert set(europe["region"]) == {"europe"}
    page = browsed.page
    goto(page, server, "/map?region=europe&lang=en")
    state = settled_map_state(map_frame(page), expected=len(europe))
    assert state["drawn"] == len(europe), state
    assert rounded(state["points"]) == rounded(zip(europe["lat"], europe["lon"], strict=True))
    assert poll(lambda: multiselect_chips(page, "Regions"), lambda v: v == ["Europe"]) == ["Europe"]


def test_choosing_a_region_in_the_sidebar_redraws_the_map_and_the_link(server, browsed, atlas):
    asia = expected_points(atlas, regions=("southeast-asia",))
    page = browsed.page
    goto(page, server, "/map?lang=en")
    settled_map_state(map_frame(page), expected=len(expected_points(atlas)))
    choose(page, sidebar(page), "Regions", "Southeast Asia")
    poll(lambda: query(page).get("region"), lambda v: v == "southeast-asia")
    assert query(page).get("region") == "southeast-asia"  # the URL follows the sidebar
    wait_idle(page)
    state = settled_map_state(map_frame(page), expected=len(asia))
    assert state["drawn"] == len(asia), state
    assert rounded(state["points"]) == rounded(zip(asia["lat"], asia["lon"], strict=True))


def test_the_year_range_hides_organisations_founded_outside_it(server, browsed, atlas):
    sel = select(atlas, Filters(years=(2004, 2010)))
    inside = set(sel.points["organisation"])
    assert "c40" in inside  # founded 2005
    assert "iclei" not in inside  # founded 1990
    page = browsed.page
    goto(page, server, "/map?years=2004,2010&lang=en")
    assert poll(lambda: slider_values(page), lambda v: v == ["2004", "2010"]) == ["2004", "2010"]
    state = settled_map_state(map_frame(page), expected=len(sel.points))
    assert state["drawn"] == len(sel.points), state
    assert rounded(state["points"]) == rounded(zip(sel.points["lat"], sel.points["lon"], strict=True))
    legend = [re.sub(r"\s*\(\d+\)$", "", line.strip()) for line in state["legend"].splitlines()]
    assert atlas.org("c40").name.short_en in legend
    assert atlas.org("iclei").name.short_en not in legend


# ---------------------------------------------------------------------------------- the charts
def build(chart: str, atlas):
    sel = select(atlas, Filters(lang="en"))
    if chart == "timeline":
        return timeline_figure(sel, atlas, "en")
    return membership_figure(sel.membership, atlas, "en")


def _hover_a_point(page) -> str:
    """Hover the first drawn marker of the first chart with the mouse; the hover label's text."""
    settle(page)  # the chart redrawn for the measured screen (a redraw would drop the hover label)
    point = page.locator(".js-plotly-plot .scatterlayer .trace .points path").first
    point.scroll_into_view_if_needed()
    box = point.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    label = page.locator(".js-plotly-plot .hoverlayer .hovertext").first
    label.wait_for(timeout=5_000)
    return label.text_content()


@pytest.mark.parametrize("chart", ["timeline", "membership"])
def test_charts_draw_their_traces_and_hover_names_a_source(server, browsed, atlas, chart):
    page = browsed.page
    goto(page, server, f"/{chart}?lang=en")
    page.locator(".js-plotly-plot .scatterlayer .trace .points path").first.wait_for(state="attached")
    charts = poll(lambda: plotly_state(page), lambda c: bool(c) and c[0]["drawn"] > 0)
    assert len(charts) == 1
    data_traces = [tr for tr in charts[0]["traces"] if tr["n"] > 0 and tr["hoverinfo"] != "skip"]
    with_hover = [tr for tr in data_traces if tr["hovertext"]]
    assert with_hover, charts[0]["traces"]
    assert charts[0]["drawn"] >= len(with_hover)  # every data trace is drawn
    source = t("source", "en")  # "Source"
    missing = [h for tr in with_hover for h in tr["hovertext"] if f"{source}:" not in h]
    assert missing == []  # every point's hover text names its source
    figure = build(chart, atlas)  # the core's figure for the same filters: the page draws all of it
    assert sum(tr["n"] for tr in with_hover) == sum(
        len([x for x in tr.x if x is not None]) for tr in figure.data if tr.hovertext is not None
    )
    assert f"{source}:" in _hover_a_point(page)  # and a person hovering sees it
    assert browsed.watch.problems() == []


# ---------------------------------------------------------------------------------- compare
def test_compare_page_shows_the_chosen_organisations_in_columns_with_missions(server, wide_browsed, atlas):
    """The organisations head aligned columns; the Mission row holds each one's mission as the
    core's comparison gives it, wrapped, in the same column order."""
    ids = ["iclei", "c40", "can"]
    expected = comparison(atlas, ids, "en")
    page = wide_browsed.page
    goto(page, server, f"/compare?lang=en&compare={','.join(ids)}")

    def cells(key: str) -> list[str]:
        texts = page.locator(f'.st-key-cmp-{key} [data-testid="stColumn"]').all_inner_texts()
        return [" ".join(x.split()) for x in texts]

    headers = poll(lambda: cells("header"), lambda h: len(h) == len(ids) + 1)
    assert headers == ["", *expected.columns]
    mission = expected.row("mission")
    assert cells("mission") == [mission.label, *[" ".join(m.split()) for m in mission.values]]
    assert any(m not in ("", "—") for m in mission.values)  # at least one real mission is shown
    chosen = poll(lambda: multiselect_in_main(page), lambda c: c == expected.columns)
    assert chosen == expected.columns
    assert wide_browsed.watch.problems() == []


def multiselect_in_main(page) -> list[str]:
    return chips(page.locator('[data-testid="stMain"] [data-testid="stMultiSelect"]').first)


# ---------------------------------------------------------------------------------- language, links
def test_the_language_switch_changes_the_interface_language(server, browsed):
    page = browsed.page
    goto(page, server, "/timeline")
    assert heading(page) == t("page_timeline", "ja")
    nav = page.locator('[data-testid="stSidebarNav"]')
    assert t("page_map", "ja") in nav.inner_text()
    sidebar(page).get_by_text("English", exact=True).click()
    poll(lambda: heading(page), lambda h: h == t("page_timeline", "en"))
    wait_idle(page)
    assert heading(page) == t("page_timeline", "en")
    assert t("page_map", "en") in nav.inner_text()
    assert t("filters", "en") in sidebar(page).inner_text()
    assert query(page).get("lang") == "en"
    page.locator(".js-plotly-plot .scatterlayer .trace").first.wait_for(state="attached")
    names = [tr["name"] for tr in plotly_state(page)[0]["traces"] if tr["name"]]
    assert t("page_timeline", "ja") not in " ".join(names)
    assert browsed.watch.problems() == []


def test_a_copied_link_reopens_the_same_filters(server, browsed, new_browsed, atlas):
    path = (
        "/timeline?years=1990,2010&region=east-asia,europe&kind=city-network&org=citynet,anmc21,c40&lang=en"
    )
    page = browsed.page
    goto(page, server, path)

    def shown(p) -> dict:
        return {
            "heading": heading(p),
            "years": slider_values(p),
            "regions": multiselect_chips(p, "Regions"),
            "kinds": multiselect_chips(p, "Kinds of organisation"),
            "orgs": multiselect_chips(p, "Organisations"),
            "english": sidebar(p).get_by_role("radio", name="English").is_checked(),
        }

    first = poll(lambda: shown(page), lambda s: all(s.values()))
    short = {o: atlas.org(o).name.short_en for o in ("citynet", "anmc21", "c40")}
    assert first == {
        "heading": t("page_timeline", "en"),
        "years": ["1990", "2010"],
        "regions": [atlas.label("regions", "east-asia", "en"), atlas.label("regions", "europe", "en")],
        "kinds": [atlas.label("organisation_kinds", "city-network", "en")],
        "orgs": [short["citynet"], short["anmc21"], short["c40"]],
        "english": True,
    }
    copied = current_url(page)  # what a person copies from the address bar after the app rewrote it
    assert query(page) == {
        "years": "1990,2010",
        "region": "east-asia,europe",
        "kind": "city-network",
        "org": "citynet,anmc21,c40",
        "lang": "en",
    }
    other = new_browsed()  # someone else opens the link: a new session
    other.page.goto(copied)
    other.page.locator('[data-testid="stMain"] h1').first.wait_for()
    wait_idle(other.page)
    assert poll(lambda: shown(other.page), lambda s: s == first) == first
    assert other.watch.problems() == []
