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

FIND_MAP_JS = """() => {
  for (const k of Object.keys(window)) {
    if (k.startsWith('map_') && window.L && window[k] instanceof L.Map) { return k; }
  }
  return null;
}"""

# Pan the map n times (animated, like a drag-release) and time each pan until the cluster layer
# has redrawn (moveend + two animation frames), with the longest frame seen meanwhile.
PAN_JS = """async (n) => {
  let m = null;
  for (const k of Object.keys(window)) {
    if (k.startsWith('map_') && window[k] instanceof L.Map) { m = window[k]; }
  }
  const out = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    let last = t0, longest = 0, running = true;
    const loop = (ts) => {
      longest = Math.max(longest, ts - last); last = ts;
      if (running) { requestAnimationFrame(loop); }
    };
    requestAnimationFrame(loop);
    await new Promise((res) => {
      m.once('moveend', res);
      const s = i % 2 ? -1 : 1;
      m.panBy([300 * s, 150 * s], {animate: true, duration: 0.25});
    });
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    running = false;
    out.push({ms: performance.now() - t0, longest_frame_ms: longest});
  }
  return out;
}"""


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
