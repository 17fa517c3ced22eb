"""Figure: the map at 2,500, 25,000 and 100,000 synthetic points. On the server: building the
selection's data (builder.selection_data) and writing it as the script the map runs (show_call, JSON),
its size, and the standalone page (the download, the briefing pack). In the browser: the standalone
page opened from file:// in headless Chromium until every point is on the map, from the page's start
and from the map's show() call, and every pan and zoom of a presenter's sequence at each size.

The design sends each column once, repeated values as a dictionary and one code per point
(builder._encoded); the comparison beside it is the same information as one JSON object per point
(what a GeoJSON FeatureCollection with properties, or a list of records, would send).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from bench._browser import COUNT_JS, FIRST_SHOW_JS, SHOW_HOOK_JS, MainThread, moves
from bench._stats import summary, timed
from bench.synthetic import synthetic_points
from dashboard.atlasmap.builder import selection_data, show_call, standalone_html
from dashboard.core.safety import script_json

SIZES = (2_500, 25_000, 100_000)
VIEWPORT = {"width": 1280, "height": 800}


def _records(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The selection's columns as one object per point (the same fields and values, decoded)."""
    cols = {}
    for name, col in data["columns"].items():
        cols[name] = [col["dict"][c] for c in col["codes"]] if isinstance(col, dict) else col
    names = list(cols)
    return [dict(zip(names, row, strict=True)) for row in zip(*cols.values(), strict=True)]


def server(pts, runs: int) -> dict[str, Any]:
    """Build times and sizes on the server for one table of points."""
    data_s, json_s, page_s = [], [], []
    code = page = ""
    for _ in range(runs):
        t, data = timed(lambda: selection_data(pts, "en"))
        data_s.append(t)
        t, code = timed(lambda d=data: show_call("bench", d))
        json_s.append(t)
    for _ in range(max(1, runs // 2)):
        t, page = timed(lambda: standalone_html(pts, lang="en"))
        page_s.append(t)
    records = _records(selection_data(pts, "en"))
    t_rec, rec_json = timed(lambda: script_json(records))
    n = len(pts)
    return {
        "selection_data": summary(data_s, "s"),
        "json_encode": summary(json_s, "s"),
        "build": summary([a + b for a, b in zip(data_s, json_s, strict=True)], "s"),
        "json_bytes": len(code.encode("utf-8")),
        "bytes_per_point": round(len(code.encode("utf-8")) / n, 1),
        "standalone_build": summary(page_s, "s"),
        "standalone_bytes": len(page.encode("utf-8")),
        "records_json_bytes": len(rec_json.encode("utf-8")),
        "records_json_encode_s": round(t_rec, 3),
    }, page


def draw(browser, path: Path, n: int) -> dict[str, Any]:
    """Open the standalone page in a fresh context; times of its first show() (ms from the page's
    navigation start), checked against the markers it then shows."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    try:
        thread = MainThread(page)
        page.add_init_script(SHOW_HOOK_JS)
        cpu0 = thread.seconds()
        page.goto(path.as_uri(), wait_until="commit", timeout=120_000)
        page.wait_for_function(FIRST_SHOW_JS, timeout=120_000, polling=100)
        cpu = thread.seconds() - cpu0  # a little more than to the painted frame: the poll's interval
        show = page.evaluate(FIRST_SHOW_JS)
        drawn = page.evaluate(COUNT_JS)
        if drawn != n:
            raise RuntimeError(f"{path.name}: {drawn} markers drawn, {n} expected")
        return {**show, "cpu_s": cpu}
    finally:
        context.close()


def pan_zoom(browser, path: Path) -> list[dict[str, Any]]:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    try:
        thread = MainThread(page)
        page.add_init_script(SHOW_HOOK_JS)
        page.goto(path.as_uri(), wait_until="commit", timeout=120_000)
        page.wait_for_function(FIRST_SHOW_JS, timeout=120_000, polling=100)
        page.wait_for_timeout(300)
        return moves(page, thread)
    finally:
        context.close()


def browser_figures(browser, path: Path, n: int, runs: int) -> dict[str, Any]:
    shows = [draw(browser, path, n) for _ in range(runs)]
    moved = pan_zoom(browser, path)
    return browser_summary(shows, moved)


def browser_summary(shows: list[dict[str, Any]], moved: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians of the show() records (SHOW_HOOK_JS: ms from the frame's start) and of the moves."""
    steps = {k: summary([s["timing"][k] for s in shows], "ms", 1) for k in shows[0]["timing"]}
    out: dict[str, Any] = {
        "page_to_drawn": summary([s["painted"] / 1000 for s in shows], "s"),
        "show_to_drawn": summary([(s["painted"] - s["start"]) / 1000 for s in shows], "s"),
        "page_to_show": summary([s["start"] / 1000 for s in shows], "s"),
        "page_to_drawn_cpu": summary([s["cpu_s"] for s in shows if "cpu_s" in s], "CPU s"),
        "show_steps_ms": {k: v["median"] for k, v in steps.items()},
    }
    if moved:
        out["moves"] = moves_summary(moved)
    return out


def moves_summary(moved: list[dict[str, Any]]) -> dict[str, Any]:
    """Per kind of move (pan, zoom): redraw, painted and CPU times, and the markers drawn; the maxima."""
    out: dict[str, Any] = {}
    for kind in ("pan", "zoom"):
        rows = [m for m in moved if m["move"] == kind]
        out[kind] = {
            "redraw": summary([m["redraw_ms"] for m in rows], "ms", 1),
            "painted": summary([m["painted_ms"] for m in rows], "ms", 1),
            "cpu": summary([m["cpu_ms"] for m in rows if "cpu_ms" in m], "CPU ms", 1),
            "markers": [m["markers"] for m in rows],
        }
    for key in ("painted", "redraw", "cpu"):
        values = [m[f"{key}_ms"] for m in moved if f"{key}_ms" in m]
        if values:
            out[f"max_{key}_ms"] = round(max(values), 1)
    return out


def run(ctx: dict[str, Any]) -> dict[str, Any]:
    quick = ctx["quick"]
    sizes = [s for s in SIZES if s <= ctx.get("max_points", SIZES[-1])]
    out: dict[str, Any] = {
        "about": (
            "synthetic points (real GeoNames city coordinates + jitter, three organisations). Server: "
            "selection_data (the columnar data) + show_call (JSON for JSON.parse) = 'build'; the "
            "standalone page = build_map + render with Leaflet, supercluster and the map code inlined. "
            "'one object per point' = the same fields and values as a list of records (JSON), for "
            "comparison. Browser: the standalone page from file:// in a fresh headless Chromium context "
            "(1280x800); 'page start -> drawn' = from the page's navigation start to the frame painted "
            "after show() returned, with every point counted on the map (cluster counts + lone "
            "markers = n); 'show() -> drawn' = from the call. Moves: from a view over Europe at zoom 2, "
            "zooms 3,4,5,6,5 then 10 pans of 250-670 px, no animation; 'redraw' = Leaflet's movestart "
            "to the end of the map's redraw of the view, 'painted' = to the next frame painted; 'CPU' = "
            "the page's main-thread CPU time (Chromium's ThreadTime metric), which a busy machine "
            "does not stretch as it stretches wall-clock time."
        ),
        "sizes": {},
    }
    tmp = Path(tempfile.mkdtemp(prefix="atlas-bench-scale-"))
    browser_cm = ctx["chromium"]() if ctx.get("browser", True) else None
    browser = browser_cm.__enter__() if browser_cm else None
    try:
        for n in sizes:
            pts = synthetic_points(n)
            row, page = server(pts, 2 if quick else (3 if n >= 100_000 else 5))
            row = {"points": n, "synthetic": True, **row}
            if browser is not None:
                path = tmp / f"map-{n}.html"
                path.write_text(page, encoding="utf-8")
                t0 = time.perf_counter()
                row["browser"] = browser_figures(browser, path, n, 2 if quick else 5)
                row["browser"]["wall_s"] = round(time.perf_counter() - t0, 1)
            out["sizes"][str(n)] = row
            ctx["log"](f"  scale {n:>7,}: build {row['build']['median']} s, {row['json_bytes'] / 1e6:.1f} MB")
            if "browser" in row:
                b = row["browser"]
                ctx["log"](
                    f"    drawn {b['page_to_drawn']['median']} s from page start, "
                    f"{b['show_to_drawn']['median']} s from show(); slowest move "
                    f"{b['moves']['max_painted_ms']} ms to painted ({b['moves'].get('max_cpu_ms')} CPU ms)"
                )
    finally:
        if browser_cm:
            browser_cm.__exit__(None, None, None)
    return out
