"""Figure: a member list of 2,500 rows dropped into a copy of data/member-lists/ (no code changed),
once with coordinates and once without them, placed by ``python -m geocoding --offline`` in that copy;
then the map page with it, measured against the same targets as the shipped data: the page opening to
every marker visible against the minimal st_folium app on the same data, the map's show() to drawn,
every pan and zoom, a new session's server CPU, a filter change's server rerun."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench import fig_filter, fig_map_page, fig_session
from bench._browser import MainThread, map_frame, markers_seen_js, moves
from bench.fig_scale import moves_summary
from bench.synthetic import write_member_list
from dashboard.core import paths
from dashboard.core.data import validate

ROWS = 2_500


@contextlib.contextmanager
def data_dir(env: str) -> Iterator[None]:
    """ATLAS_DATA_DIR set to ``env`` for this process (AppTest reads it) for the block."""
    old = os.environ.get("ATLAS_DATA_DIR")
    os.environ["ATLAS_DATA_DIR"] = env
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("ATLAS_DATA_DIR", None)
        else:
            os.environ["ATLAS_DATA_DIR"] = old


def copy_with_list(tmp: Path, name: str, coordinates: bool) -> tuple[Path, Path]:
    data = tmp / name / "data"
    shutil.copytree(paths.SHIPPED_DATA_DIR, data)
    return data, write_member_list(data, ROWS, coordinates=coordinates)


def geocode(data: Path) -> dict[str, Any]:
    """``python -m geocoding --offline`` in the copy, as a user runs it."""
    env = {**os.environ, "ATLAS_DATA_DIR": str(data)}
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "geocoding", "--offline", "--no-progress"],
        cwd=paths.ROOT, env=env, capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(
            f"geocoding exited {done.returncode}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        )
    summary_line = next((ln for ln in done.stdout.splitlines() if ln.startswith("geocoded ")), "")
    return {"seconds": round(seconds, 1), "summary": summary_line}


def checked(data: Path) -> dict[str, Any]:
    """What ``python -m dashboard validate`` says of the copy, the points the map shows with the default
    filters, and how many of the list's rows are not among them (each row is a city not yet on the map)."""
    problems = validate(data)
    points = fig_map_page.expected_points(data)
    return {
        "problems": [str(p) for p in problems][:5],
        "errors": sum(p.severity == "error" for p in problems),
        "points": points,
        "missing": fig_map_page.expected_points(paths.SHIPPED_DATA_DIR) + ROWS - points,
    }


def app_moves(ctx: dict[str, Any], data: Path, expected: int) -> list[dict[str, Any]]:
    """The pan/zoom sequence in the app's map (its iframe) with the list, once every marker is drawn."""
    with ctx["server"](paths.DASHBOARD_DIR / "app.py", data_dir=data) as srv, ctx["chromium"]() as browser:
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        page.add_init_script(markers_seen_js(expected))
        thread = MainThread(page)
        page.goto(f"{srv.url}/map")
        frame = map_frame(page, 120)
        frame.wait_for_function("() => window.__markersSeenAt !== null", timeout=120_000)
        page.wait_for_timeout(1500)  # the filters come after the map: let that run settle first
        frame = map_frame(page, 60)
        out = moves(frame, thread)
        context.close()
    return out


def run(ctx: dict[str, Any]) -> dict[str, Any]:
    quick = ctx["quick"]
    tmp = Path(tempfile.mkdtemp(prefix="atlas-bench-list-"))
    out: dict[str, Any] = {
        "about": (
            f"bench/synthetic.write_member_list: {ROWS:,} real GeoNames cities (population >= 15,000, "
            "a name unique in their country, in a country the vocabulary knows, not yet on the map) "
            "as members of the atlas's organisations in turn, with the source 'synthetic-benchmark' "
            "added to the copy's sources.yaml, written as one CSV into member-lists/ of a copy of data/. "
            "'with coordinates': latitude, longitude, precision city in the CSV; 'without': empty, "
            "then `python -m geocoding --offline` in the copy. Then as for the shipped data: the map "
            "page against the minimal app on the same copy (interleaved), the pan/zoom sequence in the "
            "app's map, a new session's server CPU (protocol level), a filter change's server rerun "
            "(AppTest, map page)."
        ),
        "rows": ROWS,
    }
    try:
        data, csv_path = copy_with_list(tmp, "with-coordinates", coordinates=True)
        out["csv_bytes"] = csv_path.stat().st_size
        t0 = time.perf_counter()
        out["with_coordinates"] = checked(data)
        out["with_coordinates"]["validate_s"] = round(time.perf_counter() - t0, 2)
        expected = out["with_coordinates"]["points"]
        out["map_page"] = fig_map_page.compare(ctx, 3 if quick else 5, data_dir=data)
        if ctx.get("browser", True):
            out["moves"] = moves_summary(app_moves(ctx, data, expected))
        out["session"] = fig_session.measure(ctx, data, browser=False)
        with data_dir(str(data)):
            out["filter"] = fig_filter.server_times(4 if quick else 8, pages=("map",))
        mp, se = out["map_page"], out["session"]["protocol"]["session"]
        ctx["log"](
            f"  member list: {expected} points; page {mp['atlas_first']['median']} s vs minimal "
            f"{mp['minimal_first']['median']} s ({mp['ratio_first']}x); session {se['median']} CPU s; "
            f"filter {out['filter']['map']['median']} ms"
        )

        bare, _ = copy_with_list(tmp, "without-coordinates", coordinates=False)
        before = checked(bare)
        out["without_coordinates"] = {
            "points_before_geocoding": before["points"],
            "geocoding": geocode(bare),  # as a user runs it, then everything as with coordinates
            **checked(bare),
        }
        w = out["without_coordinates"]
        if ctx.get("browser", True):
            w["map_page"] = fig_map_page.compare(ctx, 2 if quick else 3, data_dir=bare)
        ctx["log"](
            f"  member list without coordinates: {w['points_before_geocoding']} points before geocoding, "
            f"geocoding {w['geocoding']['seconds']} s ({w['geocoding']['summary']}), {w['points']} after"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out
