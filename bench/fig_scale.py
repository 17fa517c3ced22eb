"""Figure 3: map build time and page weight from 15 to 100,000 synthetic points, against folium's
one-object-per-marker baseline, and the browser's time until the points are drawn (and panning at
100,000)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from bench._stats import ratio, summary, timed
from bench.synthetic import synthetic_points
from dashboard.atlasmap.builder import DATA_LAYER_THRESHOLD, build_map, map_html, standalone_html

SIZES = (15, 2_500, 25_000, 100_000)
BASELINE_CAP = 25_000  # one folium object per marker takes ~1 ms each: not measured above this


def _builds(pts, layer: str, runs: int) -> tuple[list[float], list[int]]:
    """Build times (s) and page weights (bytes) of ``runs`` builds."""
    measured = [_build(pts, layer) for _ in range(runs)]
    return [m[0] for m in measured], [m[1] for m in measured]


def _build(points, layer: str) -> tuple[float, int]:
    seconds, page = timed(lambda: map_html(build_map(points, lang="en", assets="served", layer=layer)))
    return seconds, len(page.encode("utf-8"))


def _runs(size: int, quick: bool, baseline: bool) -> int:
    if quick:
        return 1 if (baseline and size >= 2_500) else 2
    if baseline:
        return {15: 5, 2_500: 3}.get(size, 1)
    return {15: 7, 2_500: 5, 25_000: 5}.get(size, 3)


def _draw(browser, path: Path, expected: int, pan: bool) -> dict[str, Any]:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        t0 = time.perf_counter()
        page.goto(path.as_uri(), wait_until="commit", timeout=120_000)
        page.wait_for_function(
            f"() => {{ const f = {_count_js()}; return f() === {expected}; }}", timeout=120_000, polling=50
        )
        out: dict[str, Any] = {"draw_s": time.perf_counter() - t0}
        if pan:
            out["pans"] = page.evaluate(_pan_js(), 6)
        return out
    finally:
        page.close()


def _count_js() -> str:
    from bench._browser import COUNT_JS

    return COUNT_JS


def _pan_js() -> str:
    from bench._browser import PAN_JS

    return PAN_JS


def run(ctx: dict[str, Any]) -> dict[str, Any]:
    quick = ctx["quick"]
    sizes = [s for s in SIZES if s <= ctx.get("max_points", SIZES[-1])]
    out: dict[str, Any] = {
        "about": (
            "build = build_map(...) + render to HTML on the server (served assets, as in the app); weight = "
            "bytes of that HTML. Baseline = build_map(layer='objects'): one folium CircleMarker with Popup "
            f"and Tooltip per point, measured up to {BASELINE_CAP:,} points only. 'auto' switches to the "
            f"data-driven layer above {DATA_LAYER_THRESHOLD} points. Draw = standalone file (assets inline) "
            "opened from file:// in headless Chromium until every point is on the map (cluster counts + "
            "lone markers = n). Points are synthetic (real GeoNames city coordinates + jitter)."
        ),
        "sizes": {},
    }
    tmp = Path(tempfile.mkdtemp(prefix="atlas-bench-scale-"))
    browser_cm = ctx["chromium"]() if ctx.get("browser", True) else None
    browser = browser_cm.__enter__() if browser_cm else None
    try:
        for n in sizes:
            pts = synthetic_points(n)
            row: dict[str, Any] = {"points": n, "synthetic": True}
            builds, weights = _builds(pts, "auto", _runs(n, quick, False))
            row["atlas_build"] = summary(builds, "s")
            row["atlas_html_bytes"] = weights[0]
            row["atlas_layer"] = "data" if n > DATA_LAYER_THRESHOLD else "objects"
            if n <= BASELINE_CAP and not (quick and n >= BASELINE_CAP):
                base, bweights = _builds(pts, "objects", _runs(n, quick, True))
                row["baseline_build"] = summary(base, "s")
                row["baseline_html_bytes"] = bweights[0]
                row["build_speedup"] = ratio(row["baseline_build"], row["atlas_build"], 1)
                row["weight_ratio"] = round(bweights[0] / weights[0], 2)
            else:
                row["baseline_build"] = None
                row["baseline_note"] = f"not measured (baseline capped at {BASELINE_CAP:,} points)"
            if browser is not None and not (quick and n > 25_000):
                path = tmp / f"map-{n}.html"
                page_html = standalone_html(pts, lang="en")
                path.write_text(page_html, encoding="utf-8")
                row["standalone_bytes"] = len(page_html.encode("utf-8"))
                draws, pans = [], []
                for i in range(2 if quick else (3 if n >= 25_000 else 5)):
                    res = _draw(browser, path, n, pan=(n >= 25_000 and i == 0))
                    draws.append(res["draw_s"])
                    pans.extend(res.get("pans", []))
                row["browser_draw"] = summary(draws, "s")
                if pans:
                    row["pan"] = {
                        "per_pan": summary([p["ms"] for p in pans], "ms", 1),
                        "longest_frame": summary([p["longest_frame_ms"] for p in pans], "ms", 1),
                        "pans": len(pans),
                        "about": "animated panBy(300,150) x6 (0.25 s animation): time to moveend + 2 frames",
                    }
            out["sizes"][str(n)] = row
            ctx["log"](
                f"  scale {n:>7,}: build {row['atlas_build']['median']} s"
                + (f", baseline {row['baseline_build']['median']} s" if row.get("baseline_build") else "")
                + (f", draw {row['browser_draw']['median']} s" if row.get("browser_draw") else "")
            )
    finally:
        if browser_cm:
            browser_cm.__exit__(None, None, None)
    return out
