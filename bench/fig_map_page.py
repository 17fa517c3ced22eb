"""Figure 1: from opening the map page to every marker visible, the atlas against a minimal
Streamlit app with one st_folium map of the same points (bench/minimal_app.py)."""

from __future__ import annotations

import time
from typing import Any

from bench._browser import COUNT_JS, map_frame
from bench._stats import ratio, summary
from dashboard.core import paths
from dashboard.core.data import load_atlas_partial
from dashboard.core.filters import Filters, select

SETTLE_S = 1.0  # "settled": the count stayed at the total this long

# Milliseconds from the browser's navigation start (a few ms after the start of "first") until
# the sidebar's year slider is on the page (the atlas draws its filters once the map is drawn, on a
# session's first page; see dashboard/shell/sidebar.draw_filters).
FILTERS_AT_JS = """() => {
  if (window !== window.top) { return; }  // not inside the map's frame
  window.__filtersAt = null;
  new MutationObserver((_, obs) => {
    if (document.querySelector('[data-testid="stSidebar"] [data-testid="stSlider"]')) {
      window.__filtersAt = performance.now();
      obs.disconnect();
    }
  }).observe(document, {childList: true, subtree: true});
}"""


def expected_points() -> int:
    atlas, _ = load_atlas_partial()
    return len(select(atlas, Filters()).points)


def open_until_markers(
    browser, url: str, expected: int, timeout: float = 60.0, filters: bool = False
) -> dict[str, float]:
    """Open ``url`` in a fresh context (a new session); seconds until the map frame shows
    ``expected`` markers for the first time, and until that count has held for SETTLE_S; with
    ``filters``, also until the sidebar's filters are shown."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    if filters:
        page.add_init_script(f"({FILTERS_AT_JS})()")
    try:
        t0 = time.perf_counter()
        page.goto(url, wait_until="commit")
        frame = map_frame(page, timeout)
        first = settled_at = None
        deadline = t0 + timeout
        while time.perf_counter() < deadline:
            try:
                n = frame.evaluate(COUNT_JS)
            except Exception:
                frame = map_frame(page, timeout)
                continue
            now = time.perf_counter()
            if n == expected:
                if first is None:
                    first = now - t0
                if settled_at is None:
                    settled_at = now - t0
                elif now - t0 - settled_at >= SETTLE_S:
                    out = {"first": first, "settled": settled_at}
                    if filters:
                        page.wait_for_function("window.__filtersAt !== null", timeout=timeout * 1000)
                        out["filters"] = page.evaluate("window.__filtersAt") / 1000
                    return out
            else:
                settled_at = None
            page.wait_for_timeout(15)
        raise TimeoutError(f"{url}: never showed {expected} markers")
    finally:
        context.close()


def run(ctx: dict[str, Any]) -> dict[str, Any]:
    from pathlib import Path

    from dashboard.atlasmap.assets import ensure_static_assets

    expected = expected_points()
    ensure_static_assets(Path(__file__).resolve().parent / "static")  # must exist before the server starts
    runs = 3 if ctx["quick"] else 7
    res: dict[str, list[float]] = {"atlas_first": [], "atlas_settled": [], "atlas_filters": [],
                                   "minimal_first": [], "minimal_settled": []}  # fmt: skip
    app = paths.DASHBOARD_DIR / "app.py"
    minimal = Path(__file__).resolve().parent / "minimal_app.py"
    with (
        ctx["server"](app) as atlas_srv,
        ctx["server"](minimal) as min_srv,
        ctx["chromium"]() as browser,
    ):
        urls = {"atlas": f"{atlas_srv.url}/map", "minimal": f"{min_srv.url}/"}
        for url in urls.values():  # warm-up: first script run, caches, component assets
            open_until_markers(browser, url, expected)
        for _ in range(runs):  # interleaved, so drift on the shared machine hits both alike
            for name, url in urls.items():
                r = open_until_markers(browser, url, expected, filters=name == "atlas")
                for what, value in r.items():
                    res[f"{name}_{what}"].append(value)
    out: dict[str, Any] = {
        "about": (
            f"fresh browser context (new session) opens the page; time until the st_folium iframe shows all "
            f"{expected} markers (lone markers + cluster counts). 'settled' = the last time the count "
            f"reached the total before holding {SETTLE_S:g} s (after st_folium's own re-render). Atlas: "
            "/map with default filters; its 'filters' = from navigation start until the sidebar's filters "
            "are shown (they follow the map on a session's first page). Minimal: bench/minimal_app.py, "
            "one st_folium map of the same points."
        ),
        "points": expected,
    }
    for key, values in res.items():
        out[key] = summary(values, "s")
    out["ratio_first"] = ratio(out["atlas_first"], out["minimal_first"])
    out["ratio_settled"] = ratio(out["atlas_settled"], out["minimal_settled"])
    ctx["log"](
        f"  map page: atlas {out['atlas_first']['median']} s, minimal {out['minimal_first']['median']} s, "
        f"ratio {out['ratio_first']}"
    )
    return out
