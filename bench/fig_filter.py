"""Figure 2: a filter change. Server time of the rerun (AppTest: set the year slider, time
``at.run()``) and, in the browser, from a key press on the year slider to the map and the caption
showing the new selection."""

from __future__ import annotations

import re
import time
from typing import Any

from bench._browser import COUNT_JS, map_frame
from bench._stats import summary
from dashboard.core import paths
from dashboard.core.data import load_atlas_partial
from dashboard.core.filters import Filters, select

A, B = (1987, 2025), (1988, 2025)  # ArrowRight on the lower thumb: CITYNET (1987) drops out


def _counts() -> dict[tuple[int, int], int]:
    atlas, _ = load_atlas_partial()
    return {y: len(select(atlas, Filters(years=y)).points) for y in (A, B)}


def server_times(runs: int, pages: tuple[str, ...] = ("map", "timeline")) -> dict[str, Any]:
    """Each change first to a year range the session has not shown (the map or the charts are
    built), then to the same ranges again (taken from the per-selection cache). The data folder is
    the one ATLAS_DATA_DIR names (the shipped one when unset)."""
    from streamlit.testing.v1 import AppTest

    out = {}
    ranges = [(1988 + i, 2025) for i in range(runs)]
    for page in pages:
        at = AppTest.from_file(str(paths.DASHBOARD_DIR / "app.py"), default_timeout=120)
        at.run()
        at.switch_page(f"app_pages/{page}.py").run()
        assert not at.exception, [e.value for e in at.exception]
        for label in (page, f"{page}_seen_before"):
            times = []
            for years in ranges:
                at.sidebar.slider[0].set_value(years)
                t0 = time.perf_counter()
                at.run()
                times.append(time.perf_counter() - t0)
                assert not at.exception, [e.value for e in at.exception]
            out[label] = summary([t * 1000 for t in times], "ms", 1)
    return out


def _caption_shows(page, n: int) -> bool:
    text = page.inner_text("section.stMain, [data-testid='stMain']", timeout=5000)
    return re.search(rf"(^|\D){n}(地点| places)", text) is not None


def browser_times(ctx: dict[str, Any], runs: int) -> dict[str, Any]:
    counts = _counts()
    times, map_only = [], []
    with ctx["server"](paths.DASHBOARD_DIR / "app.py") as srv, ctx["chromium"]() as browser:
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        page.goto(f"{srv.url}/map")
        frame = map_frame(page)
        lower = page.locator("[data-testid='stSidebar'] [data-testid='stSlider'] input[type=range]").first
        lower.wait_for(state="attached")
        page.wait_for_timeout(2000)  # let the first render and st_folium's re-render settle
        for i in range(runs + 1):
            key, target = ("ArrowRight", B) if i % 2 == 0 else ("ArrowLeft", A)
            lower.focus()
            t0 = time.perf_counter()
            lower.press(key)
            expected = counts[target]
            t_map = None
            deadline = t0 + 30
            while time.perf_counter() < deadline:
                try:
                    n = frame.evaluate(COUNT_JS)
                except Exception:
                    frame = map_frame(page)
                    continue
                if n == expected and t_map is None:
                    t_map = time.perf_counter() - t0
                if t_map is not None and _caption_shows(page, expected):
                    break
                page.wait_for_timeout(10)
            else:
                raise TimeoutError(f"the map never showed {expected} markers after {key}")
            total = time.perf_counter() - t0
            if i:
                times.append(total)
                map_only.append(t_map)
            page.wait_for_timeout(1500)  # the map settles before the next change
        context.close()
    return {
        "map_and_caption": summary(times, "s"),
        "map_markers": summary(map_only, "s"),
        "points": {f"{a}-{b}": n for (a, b), n in counts.items()},
    }


def run(ctx: dict[str, Any]) -> dict[str, Any]:
    runs = 4 if ctx["quick"] else 10
    out: dict[str, Any] = {
        "about": (
            "server: AppTest of dashboard/app.py on the map page (and the timeline page, charts), the year "
            "slider set to a range not shown before in the session (1988–2025, 1989–2025, ...: the map "
            "or charts are built), then to the same ranges again (from the cache); time of at.run() "
            "(includes AppTest's own overhead). "
            "browser: ArrowRight/ArrowLeft on the slider's lower thumb, until the st_folium map shows "
            "the new "
            "number of markers and the caption the new count (includes Streamlit's slider debounce; "
            f"toggles {A[0]}–{A[1]} <-> {B[0]}–{B[1]}, so after the first press both are cached)."
        ),
        "server": server_times(runs),
    }
    if ctx.get("browser", True):
        out["browser"] = browser_times(ctx, max(3, runs // 2))
    s = out["server"]
    ctx["log"](
        f"  filter: server map {s['map']['median']} ms, timeline {s['timeline']['median']} ms"
        + (f", browser {out['browser']['map_and_caption']['median']} s" if "browser" in out else "")
    )
    return out
