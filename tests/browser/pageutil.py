"""Reading a Streamlit page the way a person sees it (helpers for the browser tests)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

FOLIUM_IFRAME = 'iframe[title="streamlit_folium\\.st_folium"]'
# The browser tests' server waits this long before drawing the filters without the map's report.
FILTERS_FALLBACK_S = 12
APP_IDLE = '.stApp[data-test-script-state="notRunning"][data-test-connection-state="CONNECTED"]'
PAGES = {  # url path -> interface key of the page's heading
    "": "app_title",
    "map": "page_map",
    "timeline": "page_timeline",
    "membership": "page_membership",
    "compare": "page_compare",
    "sources": "page_sources",
}

# In a Leaflet page: what is drawn (cluster icons and lone circle markers) and where the points are.
MAP_STATE_JS = """() => {
  const clusters = [...document.querySelectorAll('.leaflet-marker-pane .marker-cluster')]
    .map(e => parseInt(e.textContent.trim(), 10));
  const lone = document.querySelectorAll('.leaflet-overlay-pane path.leaflet-interactive').length;
  const outlines = document.querySelectorAll('.leaflet-atlas-land-pane path').length;
  const legend = (document.querySelector('.atlas-legend') || {}).innerText || '';
  const state = window.atlasMap && window.atlasMap.state ? window.atlasMap.state() : {};
  const points = state.points || [];
  return {clusters, lone, outlines, legend, points, drawn: clusters.reduce((a, b) => a + b, 0) + lone};
}"""
# Above: what the map shows (cluster numbers and lone markers, read off the page) and where its points are
# (window.atlasMap.state(): every point in the clustering index).


def wait_idle(page, timeout: float = 30_000) -> None:
    """Until the script run has finished and the page is connected."""
    page.locator(APP_IDLE).wait_for(state="attached", timeout=timeout)


def goto(page, base: str, path: str) -> None:
    page.goto(base + path)
    page.locator('[data-testid="stMain"] h1').first.wait_for()
    wait_idle(page)


def current_url(page) -> str:
    """The address bar as it is now. ``page.url`` is only refreshed while Playwright handles events
    (not during ``poll``'s sleeps), so a URL the app rewrote a moment later could stay unseen."""
    return page.evaluate("() => location.href")


def heading(page) -> str:
    """The page's title as shown."""
    return page.locator('[data-testid="stMain"] h1').first.inner_text().strip()


def query(page) -> dict[str, str]:
    """The address bar's parameters as they are now."""
    return {k: v[0] for k, v in parse_qs(urlsplit(current_url(page)).query).items()}


def poll(
    fn: Callable[[], Any], until: Callable[[Any], bool], timeout: float = 30.0, every: float = 0.25
) -> Any:
    """Call ``fn`` until ``until(value)`` holds or time runs out; return the last value either way
    (the test then asserts on it, so a failure shows what the page last showed)."""
    deadline = time.monotonic() + timeout
    value = fn()
    while not until(value) and time.monotonic() < deadline:
        time.sleep(every)
        value = fn()
    return value


def map_frame(page):
    """The Leaflet page inside streamlit-folium's component iframe, once the map is drawn."""
    page.frame_locator(FOLIUM_IFRAME).locator(".leaflet-container").wait_for()
    handle = page.locator(FOLIUM_IFRAME).element_handle()
    return handle.content_frame()


def map_state(frame) -> dict:
    return frame.evaluate(MAP_STATE_JS)


def settled_map_state(frame, expected: int | None = None, timeout: float = 30.0) -> dict:
    """The map state once clustering has settled: two equal reads in a row (or the expected count)."""
    last: dict = {}

    def read() -> dict:
        nonlocal last
        previous, last = last, map_state(frame)
        last["_stable"] = previous.get("drawn") == last["drawn"] and previous.get("points") == last["points"]
        return last

    return poll(
        read,
        lambda s: s["drawn"] > 0 and (s["drawn"] == expected if expected is not None else s["_stable"]),
        timeout=timeout,
    )


def rounded(points, ndigits: int = 4) -> list[tuple[float, float]]:
    return sorted((round(float(a), ndigits), round(float(b), ndigits)) for a, b in points)


def sidebar(page):
    return page.locator('[data-testid="stSidebar"]')


def multiselect(scope, label: str):
    """The multiselect whose input is labelled ``label`` (its label as the page shows it)."""
    inner = scope.page.locator(f'input[aria-label="{label}"]')  # `has` is matched inside each box
    return scope.locator('[data-testid="stMultiSelect"]').filter(has=inner)


def chips(box) -> list[str]:
    """The values a multiselect shows as chips, in order."""
    return box.locator("[data-tag]").evaluate_all("es => es.map(e => e.getAttribute('aria-label'))")


def multiselect_chips(page, label: str) -> list[str]:
    return chips(multiselect(sidebar(page), label))


def choose(page, scope, label: str, option: str) -> None:
    """Open a multiselect and pick one option, as a person does with the mouse."""
    box = multiselect(scope, label)
    field = box.locator(f'input[aria-label="{label}"]')
    chip = box.locator(f'[data-tag][aria-label="{option}"]')
    for _ in range(3):  # a click while the list is still opening can miss on a busy machine
        field.click()
        field.fill(option)  # typing narrows the list to the one option
        page.get_by_role("option", name=option, exact=True).click()
        try:
            chip.wait_for(timeout=5_000)
            break
        except Exception:
            page.keyboard.press("Escape")
    chip.wait_for(timeout=5_000)
    page.keyboard.press("Escape")


def slider_values(page) -> list[str]:
    return sidebar(page).locator('[data-testid="stSliderThumbValue"]').all_inner_texts()


def plotly_state(page) -> list[dict]:
    """Per chart on the page: how many data traces plotly drew and the figure's data."""
    return page.evaluate(
        """() => [...document.querySelectorAll('.js-plotly-plot')].map(g => ({
          drawn: [...g.querySelectorAll('.scatterlayer .trace')]
            .filter(t => t.querySelectorAll('.points path').length > 0).length,
          traces: (g.data || []).map(t => ({
            name: t.name, n: (t.x || []).filter(x => x !== null).length,
            hovertext: Array.isArray(t.hovertext) ? t.hovertext : (t.hovertext ? [t.hovertext] : []),
            hoverinfo: t.hoverinfo,
          })),
        }))"""
    )


def check_pack(b, points, n_charts: int = 2) -> None:
    """A briefing pack (or a page of the static site) as a reader sees it: every marker of ``points``
    on the map at its place, the country outlines, the timeline and membership charts drawn, and
    nothing fetched from outside or failing."""
    page, watch = b.page, b.watch
    page.frame_locator("iframe#atlas-map").locator(".leaflet-container").wait_for()
    frame = page.locator("iframe#atlas-map").element_handle().content_frame()
    state = settled_map_state(frame, expected=len(points))
    assert state["drawn"] == len(points), state  # one marker or cluster count per point
    assert rounded(state["points"]) == rounded(zip(points["lat"], points["lon"], strict=True))
    assert poll(lambda: map_state(frame)["outlines"], lambda n: n > 100) > 100  # outlines, inlined
    page.locator("#atlas-timeline .scatterlayer .trace .points path").first.wait_for(state="attached")
    page.locator("#atlas-membership .scatterlayer .trace .points path").first.wait_for(state="attached")
    charts = page.evaluate(
        """() => [...document.querySelectorAll('.js-plotly-plot')].map(g => [g.id,
             [...g.querySelectorAll('.scatterlayer .trace')]
               .filter(t => t.querySelector('.points path')).length])"""
    )
    assert [c[0] for c in charts] == ["atlas-timeline", "atlas-membership"][:n_charts]
    assert all(n > 0 for _, n in charts), charts
    assert watch.basemap == []
    assert watch.problems() == []
