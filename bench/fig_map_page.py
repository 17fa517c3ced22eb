"""Figure 1: from opening the map page to every marker visible, the atlas against a minimal
Streamlit app with one st_folium map of the same points (bench/minimal_app.py), with a trace of where
the time goes: Streamlit's own page and websocket, the script run, the map's frame, its scripts, the
map's show() and the map-first sequence."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bench._browser import COUNT_JS, FIRST_SHOW_JS, SHOW_HOOK_JS, map_frame, markers_seen_js
from bench._stats import ratio, summary
from dashboard.core import paths
from dashboard.core.data import load_atlas_partial
from dashboard.core.filters import Filters, select

SETTLE_S = 1.0  # "settled": the count stayed at the total this long
MINIMAL_APP = Path(__file__).resolve().parent / "minimal_app.py"

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

# In the map's frame: when the frame started (its timeOrigin) and when each of its scripts and styles
# arrived (resource timing), as ms from the top page's navigation start.
FRAME_TIMES_JS = """(topOrigin) => {
  const shift = performance.timeOrigin - topOrigin;
  const out = {frame_start: shift};
  for (const e of performance.getEntriesByType('resource')) {
    const name = e.name.split('/').pop().split('?')[0];
    out[name] = shift + e.responseEnd;
  }
  return out;
}"""

# The page's websocket frames by the page's own clock (ms from its navigation start), in order: each
# frame the page sends and each one it receives. Playwright reports the same frames, in the same order,
# with their content but with its own delay; the two lists are put side by side by position.
WS_CLOCK_JS = """() => {
  if (window !== window.top) { return; }
  const times = window.__wsTimes = {sent: [], received: []};
  const Native = window.WebSocket;
  const send = Native.prototype.send;
  Native.prototype.send = function (data) {
    times.sent.push(performance.now());
    return send.call(this, data);
  };
  function Timed(...args) {
    const ws = new Native(...args);
    ws.addEventListener('message', () => times.received.push(performance.now()));
    return ws;
  }
  Timed.prototype = Native.prototype;
  for (const k of ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED']) { Timed[k] = Native[k]; }
  window.WebSocket = Timed;
}"""

TOP_TIMES_JS = "() => [performance.timeOrigin, performance.getEntriesByType('navigation')[0].responseEnd]"

# Trace milestones: (key, what it is) in the order they happen.
MILESTONES = (
    ("html", "the page's HTML received (navigation timing)"),
    ("first_run_sent", "the browser asks for the first script run (websocket)"),
    ("map_element", "the map's element arrives (its component_instance)"),
    ("script_finished", "the first run ends"),
    ("frame_start", "the map's iframe starts"),
    ("frame_code", "streamlit-folium's code in the frame arrived"),
    ("leaflet", "leaflet.js arrived"),
    ("map_code", "the last of the map's scripts arrived"),
    ("show_start", "atlasMap.show() called"),
    ("drawn", "frame painted after show() (every marker on the map)"),
    ("all_markers", "every marker on the map (the page's own clock: what the ratio compares)"),
    ("polled", "every marker seen by the bench's 15 ms poll (the poll's own lag included)"),
    ("second_run_sent", "the next script run asked for (the map's 'drawn' report)"),
    ("filters", "the sidebar's filters shown"),
)


def expected_points(data_dir: Path | None = None) -> int:
    atlas, _ = load_atlas_partial(data_dir)
    return len(select(atlas, Filters()).points)


class _Trace:
    """What the page's websocket carried (Playwright: the frames' content, in order) put beside the
    page's own clock for the same frames (WS_CLOCK_JS): when the page asked for each script run, when
    the map's element arrived, when each run ended."""

    def __init__(self, page):
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        self.sent: list[str] = []  # per frame sent: "run" (a script run asked for) or ""
        self.received: list[str] = []  # per frame received: "map_element", "script_finished" or ""

        def sent(payload) -> None:
            kind = ""
            if not isinstance(payload, str):
                msg = BackMsg()
                msg.ParseFromString(payload)
                if msg.WhichOneof("type") == "rerun_script" and not msg.rerun_script.fragment_id:
                    kind = "run"
            self.sent.append(kind)

        def received(payload) -> None:
            kind = ""
            if not isinstance(payload, str):
                msg = ForwardMsg()
                msg.ParseFromString(payload)
                which = msg.WhichOneof("type")
                if which == "delta" and msg.delta.WhichOneof("type") == "new_element":
                    element = msg.delta.new_element
                    # the map's, not the stage's hidden frame (also a component)
                    if element.WhichOneof("type") == "component_instance" and (
                        "st_folium" in element.component_instance.component_name
                    ):
                        kind = "map_element"
                elif which == "script_finished":
                    kind = "script_finished"
            self.received.append(kind)

        page.on("websocket", lambda ws: (ws.on("framesent", sent), ws.on("framereceived", received)))

    def times(self, page) -> dict[str, Any]:
        """Seconds from the navigation start: every run asked for, the map's element, the first run's end."""
        clock = page.evaluate("() => window.__wsTimes")
        runs = [t / 1000 for kind, t in zip(self.sent, clock["sent"], strict=False) if kind == "run"]
        got: dict[str, float] = {}
        for kind, t in zip(self.received, clock["received"], strict=False):
            if kind:
                got.setdefault(kind, t / 1000)
        return {"runs": runs, **got}


def open_until_markers(
    browser, url: str, expected: int, timeout: float = 60.0, filters: bool = False, trace: bool = False
) -> dict[str, Any]:
    """Open ``url`` in a fresh context (a new session); seconds until the map frame shows
    ``expected`` markers for the first time, and until that count has held for SETTLE_S; with
    ``filters``, also until the sidebar's filters are shown; with ``trace``, the milestones of
    :data:`MILESTONES` (seconds from the page's navigation start, by the page's own clock)."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.add_init_script(SHOW_HOOK_JS)
    page.add_init_script(markers_seen_js(expected))
    if filters:
        page.add_init_script(f"({FILTERS_AT_JS})()")
    try:
        tr = None
        if trace:
            page.add_init_script(f"({WS_CLOCK_JS})()")
            tr = _Trace(page)
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
                    seen = page.evaluate(TOP_TIMES_JS)[0], frame.evaluate("() => window.__markersSeenAt")
                    out: dict[str, Any] = {"polled": first, "settled": settled_at}
                    out["first"] = (seen[1] - seen[0]) / 1000 if seen[1] else first
                    if filters:
                        page.wait_for_function("window.__filtersAt !== null", timeout=timeout * 1000)
                        out["filters"] = page.evaluate("window.__filtersAt") / 1000
                    if tr is not None:
                        out["trace"] = _milestones(page, frame, tr, out["first"], first, out.get("filters"))
                    return out
            else:
                settled_at = None
            page.wait_for_timeout(15)
        raise TimeoutError(f"{url}: never showed {expected} markers")
    finally:
        context.close()


def _milestones(
    page, frame, tr: _Trace, first: float, polled: float, filters: float | None
) -> dict[str, float]:
    top = page.evaluate(
        "() => [performance.timeOrigin, performance.getEntriesByType('navigation')[0].responseEnd]"
    )
    times = frame.evaluate(FRAME_TIMES_JS, top[0])
    out: dict[str, float] = {"html": top[1] / 1000}
    ws = tr.times(page)
    runs = ws.pop("runs")
    if runs:
        out["first_run_sent"] = runs[0]
    if len(runs) > 1:
        out["second_run_sent"] = runs[1]
    out.update(ws)
    out["frame_start"] = times["frame_start"] / 1000
    code = [v for k, v in times.items() if k.startswith("main.") and k.endswith(".js")]
    if code:
        out["frame_code"] = min(code) / 1000
    if "leaflet.js" in times:
        out["leaflet"] = times["leaflet.js"] / 1000
    scripts = [v for k, v in times.items() if k.endswith(".js") and not k.startswith("main.")]
    if scripts:
        out["map_code"] = max(scripts) / 1000
    show = frame.evaluate(FIRST_SHOW_JS)
    if show:
        shift = show["origin"] - top[0]
        out["show_start"] = (shift + show["start"]) / 1000
        out["drawn"] = (shift + show["painted"]) / 1000
    out["all_markers"] = first
    out["polled"] = polled
    if filters is not None:
        out["filters"] = filters
    out["script_runs"] = len(runs)
    return out


def compare(ctx: dict[str, Any], runs: int, data_dir: Path | None = None) -> dict[str, Any]:
    """The atlas's /map against the minimal app on the same data, interleaved, ``runs`` times each
    after one warm-up each."""
    from dashboard.atlasmap.assets import ensure_static_assets

    expected = expected_points(data_dir)
    ensure_static_assets(MINIMAL_APP.parent / "static")  # must exist before the server starts
    res: dict[str, list] = {f"{app}_{what}": [] for app in ("atlas", "minimal")
                            for what in ("first", "polled", "settled", "filters", "trace")}  # fmt: skip
    app = paths.DASHBOARD_DIR / "app.py"
    with (
        ctx["server"](app, data_dir=data_dir) as atlas_srv,
        ctx["server"](MINIMAL_APP, data_dir=data_dir) as min_srv,
        ctx["chromium"]() as browser,
    ):
        urls = {"atlas": f"{atlas_srv.url}/map", "minimal": f"{min_srv.url}/"}
        for url in urls.values():  # warm-up: first script run, caches, component assets
            open_until_markers(browser, url, expected, timeout=120)
        for _ in range(runs):  # interleaved, so drift on the shared machine hits both alike
            for name, url in urls.items():
                r = open_until_markers(browser, url, expected, filters=name == "atlas", trace=True)
                for what, value in r.items():
                    res[f"{name}_{what}"].append(value)
    out: dict[str, Any] = {"points": expected, "milestones": dict(MILESTONES)}
    for key, values in res.items():
        if values and not key.endswith("_trace"):
            out[key] = summary(values, "s")
    for name in ("atlas", "minimal"):
        traces = res[f"{name}_trace"]
        keys = [k for k, _ in MILESTONES if all(k in t for t in traces)]
        out[f"{name}_trace"] = {k: summary([t[k] for t in traces], "s")["median"] for k in keys}
        out[f"{name}_script_runs"] = sorted({t["script_runs"] for t in traces})
    shows = [t["drawn"] - t["show_start"] for t in res["atlas_trace"] if "drawn" in t and "show_start" in t]
    if shows:
        out["atlas_show_to_drawn"] = summary(shows, "s")
    out["ratio_first"] = ratio(out["atlas_first"], out["minimal_first"])
    out["ratio_settled"] = ratio(out["atlas_settled"], out["minimal_settled"])
    return out


def run(ctx: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "about": (
            "a fresh browser context (a new session) opens the page; time from the page's navigation "
            "start until the st_folium iframe shows every marker (lone markers + cluster counts), by the "
            "browser's own clock (a MutationObserver in the frame), as the ratio compares them; 'settled' "
            f"= the bench's 15 ms poll saw the total hold {SETTLE_S:g} s from this time. Atlas: /map with "
            "default filters (a shared link); 'filters' = from navigation start until the sidebar's "
            "filters are shown (they follow the map on a session's first page). Minimal: "
            "bench/minimal_app.py, one st_folium map of the same points (a folium GeoJson layer of "
            "circle markers, Leaflet from the same static folder, no clustering). 7 runs each (3 with "
            "--quick), "
            "interleaved, after one warm-up each. Trace: medians of each milestone (seconds from "
            "opening the page)."
        ),
        **compare(ctx, 3 if ctx["quick"] else 7),
    }
    ctx["log"](
        f"  map page: atlas {out['atlas_first']['median']} s, minimal {out['minimal_first']['median']} s, "
        f"ratio {out['ratio_first']}"
    )
    return out
