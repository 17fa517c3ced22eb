"""JavaScript probes run inside a Leaflet page (the st_folium iframe or a standalone map file)."""

from __future__ import annotations

import time

# How many point markers the page shows: lone circle markers plus the counts on cluster icons.
# The world outline is not interactive, so it has no .leaflet-interactive paths.
COUNT_JS = """() => {
  if (!window.L) { return -1; }
  let n = document.querySelectorAll('.leaflet-overlay-pane path.leaflet-interactive').length;
  document.querySelectorAll('.leaflet-marker-pane .marker-cluster').forEach(el => {
    n += parseInt(el.textContent.trim(), 10) || 0;
  });
  return n;
}"""

WAIT_COUNT_JS = f"(expected) => ({COUNT_JS})() === expected"


def markers_seen_js(expected: int) -> str:
    """An init script (every frame) that notes when the frame first shows ``expected`` markers
    (COUNT_JS), as an absolute time (timeOrigin + now) in ``window.__markersSeenAt``: checked at every
    change of the page (a MutationObserver), so the browser's own clock says when, with no polling lag."""
    return f"""(() => {{
  const count = {COUNT_JS};
  window.__markersSeenAt = null;
  // held by the window: an observer nothing refers to may be collected (and stop observing)
  window.__markersSeen = new MutationObserver(() => {{
    if (window.__markersSeenAt === null && count() === {int(expected)}) {{
      window.__markersSeenAt = performance.timeOrigin + performance.now();
      window.__markersSeen.disconnect();
    }}
  }});
  const options = {{childList: true, subtree: true, characterData: true}};
  const watch = () => window.__markersSeen.observe(document, options);
  watch();
  // an iframe's first document (about:blank) keeps its window when the frame loads its page: watch that too
  window.addEventListener("DOMContentLoaded", watch);
}})()"""


# An init script (page.add_init_script: every frame, before its own scripts) that times each
# window.atlasMap.show(): when it was called, when it returned and when the next frame was painted
# (requestAnimationFrame, then a task: the frame with the markers is on screen), in the frame's
# performance.now() (ms from its navigation start) and as absolute times (timeOrigin + now), so that
# times in the map's iframe can be set against the page around it. atlas-map.js assigns
# ``window.atlasMap = Object.assign(window.atlasMap || {}, api)``: the accessor below sees that
# assignment and wraps ``show`` on the object the page then calls.
SHOW_HOOK_JS = """(() => {
  const bench = window.__atlasBench = {shows: []};
  let api = {};
  const wrap = (v) => {
    if (!v || typeof v.show !== 'function' || v.show.__bench) { return; }
    const orig = v.show;
    const timed = function () {
      const rec = {start: performance.now(), origin: performance.timeOrigin};
      bench.shows.push(rec);
      const out = orig.apply(this, arguments);
      rec.end = performance.now();
      requestAnimationFrame(() => setTimeout(() => { rec.painted = performance.now(); }, 0));
      return out;
    };
    timed.__bench = true;
    v.show = timed;
  };
  Object.defineProperty(window, 'atlasMap', {
    configurable: true, enumerable: true,
    get() { return api; },
    set(v) { api = v; wrap(v); }
  });
})()"""

# The first show() of a frame once it is painted (or null): see SHOW_HOOK_JS; with the map's own
# timing of show()'s steps (window.atlasMap.state().timing, read afterwards).
FIRST_SHOW_JS = """() => {
  const s = window.__atlasBench && window.__atlasBench.shows[0];
  if (!s || s.painted === undefined) { return null; }
  const st = window.atlasMap.state();
  return Object.assign({}, s, {timing: st.timing, shown: st.shown});
}"""

FIND_MAP_JS = """() => {
  for (const k of Object.keys(window)) {
    if (k.startsWith('map_') && window.L && window[k] instanceof L.Map) { return k; }
  }
  return null;
}"""

# One pan or zoom of the map (no animation, so the move and the redraw are one task), timed from
# Leaflet's movestart to the end of atlas-map.js's redraw (its 'atlas:drawn' event: the view's
# clusters and points are on the map) and to the next painted frame; with the number of markers drawn.
MOVE_JS = """async (op) => {
  let map = null;
  for (const k of Object.keys(window)) {
    if (k.startsWith('map_') && window[k] instanceof L.Map) { map = window[k]; }
  }
  if (op.view) { map.setView(op.view.center, op.view.zoom, {animate: false}); }
  await new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)));
  let t0 = null, tDraw = null, drawn = null;
  map.once('movestart', () => { t0 = performance.now(); });
  map.once('atlas:drawn', (e) => { tDraw = performance.now(); drawn = e; });
  if (op.pan) { map.panBy(op.pan, {animate: false}); }
  if (op.zoom !== undefined) { map.setZoom(op.zoom, {animate: false}); }
  const tEnd = performance.now();
  await new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)));
  return {redraw_ms: (tDraw || tEnd) - t0, painted_ms: performance.now() - t0,
          draw_ms: drawn ? drawn.ms : null, markers: drawn ? drawn.items : null, zoom: map.getZoom()};
}"""

# The moves of the pan/zoom figure: from a view over Europe at zoom 2, five zooms in and out, then ten
# pans of 250 to 670 px (the view is 1280 x 800): the moves a presenter makes, as the prototype did
# (research/mapjs/measure.py).
MOVES: list[dict] = [
    {"view": {"center": [46, 8], "zoom": 2}, "zoom": 3},
    {"zoom": 4},
    {"zoom": 5},
    {"zoom": 6},
    {"zoom": 5},
    *[
        {"pan": p}
        for p in (
            [400, 0], [0, 250], [-400, 0], [0, -250], [600, 300],
            [-600, -300], [300, -200], [-300, 200], [500, 0], [-500, 0],
        )
    ],
]  # fmt: skip


class MainThread:
    """CPU time of the page's main thread (Chromium's Performance.getMetrics ThreadTime, through CDP):
    what the page's own work costs, whatever else the machine runs meanwhile. Open it before the page
    navigates to include the page's load. Iframes of the same origin (the map's) share the thread."""

    def __init__(self, page):
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("Performance.enable")

    def seconds(self) -> float:
        metrics = self.cdp.send("Performance.getMetrics")["metrics"]
        return next(m["value"] for m in metrics if m["name"] == "ThreadTime")


def moves(frame, thread: MainThread | None = None) -> list[dict]:
    """Every move of :data:`MOVES` in the map of ``frame`` (a page or an iframe), timed; with
    ``thread``, also the main thread's CPU time of each move (``cpu_ms``)."""
    out = []
    for op in MOVES:
        if "view" in op:  # set the starting view apart, so that only the move is timed
            frame.evaluate(MOVE_JS, {"view": op["view"], "zoom": op["view"]["zoom"]})
            op = {k: v for k, v in op.items() if k != "view"}
        before = thread.seconds() if thread else 0.0
        res = frame.evaluate(MOVE_JS, op)
        if thread:
            res["cpu_ms"] = (thread.seconds() - before) * 1000
        res["move"] = "pan" if "pan" in op else "zoom"
        out.append(res)
    return out


def map_frame(page, timeout: float = 60.0):
    """The frame holding a Leaflet map (the st_folium iframe), polling until it exists."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for frame in page.frames:
            if frame is page.main_frame:
                continue
            try:
                if frame.evaluate("() => !!(window.L && document.querySelector('.leaflet-container'))"):
                    return frame
            except Exception:
                continue
        page.wait_for_timeout(20)  # lets Playwright process events (time.sleep would not)
    raise TimeoutError("no Leaflet map frame appeared")


def count_markers(frame) -> int:
    return int(frame.evaluate(COUNT_JS))
