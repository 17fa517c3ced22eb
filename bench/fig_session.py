"""Figure: what a new session costs the server. An attendee opens a shared link to the map page: the
first run draws the map (the filters wait: "map first"), the map's frame reports it is drawn, and a
second run draws the filters. Measured as server CPU seconds (the Streamlit process, every thread: user
+ system, from /proc through psutil), per new session:

* protocol level (bench/wsclient.py, the messages a browser sends, no browser): the first run, the
  map-first rerun (the map's "drawn" report, sent as the map's frame sends it) and both together, with
  another session held open the whole time (as other attendees are: Streamlit drops its compiled
  scripts when the last session leaves, and a briefing room is never empty);
* a Chromium session beside it, for scale: everything one browser costs the server until the page is
  idle, including serving Streamlit's own JavaScript (about 3 MB in over 100 requests).

CPU times come in clock ticks (10 ms), so sessions are measured in batches and each figure is a batch's
total divided by its sessions; the server's idle CPU over the same time is taken off.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

from bench._stats import summary
from bench.wsclient import open_session, widget_rerun
from dashboard.core import paths

# What the map's frame reports once its markers are drawn (atlas-map.js, announce()).
DRAWN = {"last_object_clicked": None, "last_object_clicked_count": 0, "drawn": True}
TARGET_S = 0.15
FILTERS_SELECTOR = "[data-testid='stSidebar'] [data-testid='stSlider']"


def _cpu(pid: int) -> float:
    import psutil

    proc = psutil.Process(pid)
    total = sum(proc.cpu_times()[:2])
    for child in proc.children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):
            total += sum(child.cpu_times()[:2])
    return total


def _idle_rate(pid: int, seconds: float = 2.0) -> float:
    c0, t0 = _cpu(pid), time.monotonic()
    time.sleep(seconds)
    return (_cpu(pid) - c0) / (time.monotonic() - t0)


def map_first_session(url: str, page: str = "map", query: str = "") -> tuple[Any, float]:
    """A session opened on ``page`` (first run), then the map's "drawn" report (the second run); the
    session's websocket is left open. Returns (session, seconds of the second run)."""
    s = open_session(url, page, query, keep_open=True, timeout=120)
    components = [el for kind, el in s.elements() if kind == "component_instance"]
    if s.status != "finished" or s.exceptions() or not components:
        s.connection.close()
        raise RuntimeError(f"{url}/{page}: {s.status or 'no end'}, {s.exceptions()}, {len(components)} maps")
    seconds = widget_rerun(s, {components[0].id: DRAWN})
    return s, seconds


def protocol_batches(url: str, pid: int, batches: int, size: int, page: str = "map") -> dict[str, Any]:
    """CPU per new session at the protocol level: ``batches`` batches of ``size`` sessions one after
    another (each closed before the next opens)."""
    held = open_session(url, page, keep_open=True, timeout=120)  # another attendee, there all along
    try:
        for _ in range(2):  # warm: the selection, the map's data and arguments are built and cached
            s, _ = map_first_session(url, page)
            s.connection.close()
        time.sleep(0.5)
        idle = _idle_rate(pid)
        first, second, whole, run_s, rerun_s = [], [], [], [], []
        for _ in range(batches):
            f = r = 0.0
            t_batch, c_batch = time.monotonic(), _cpu(pid)
            for _ in range(size):
                c0, t0 = _cpu(pid), time.monotonic()
                s = open_session(url, page, keep_open=True, timeout=120)
                c1, t1 = _cpu(pid), time.monotonic()
                comp = next(el for kind, el in s.elements() if kind == "component_instance")
                rerun_s.append(widget_rerun(s, {comp.id: DRAWN}))
                c2, t2 = _cpu(pid), time.monotonic()
                s.connection.close()
                run_s.append(s.script_s)
                f += c1 - c0 - idle * (t1 - t0)
                r += c2 - c1 - idle * (t2 - t1)
            time.sleep(0.3)  # the server ends the session
            total = _cpu(pid) - c_batch - idle * (time.monotonic() - t_batch)
            first.append(f / size)
            second.append(r / size)
            whole.append(total / size)
    finally:
        held.connection.close()
    return {
        "first_run": summary(first, "CPU s", 4),
        "map_first_rerun": summary(second, "CPU s", 4),
        "session": summary(whole, "CPU s", 4),
        "first_run_wall": summary(run_s, "s"),
        "map_first_rerun_wall": summary(rerun_s, "s"),
        "batches": batches,
        "sessions_per_batch": size,
        "idle_cpu_per_s": round(idle, 4),
    }


def browser_sessions(ctx: dict[str, Any], url: str, pid: int, runs: int) -> dict[str, Any]:
    """Server CPU of whole Chromium sessions on the map page: from opening the page until the filters
    are shown and one more second has passed (every script run, every file served)."""
    out = []
    with ctx["chromium"]() as browser:
        for i in range(runs + 1):
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            page = context.new_page()
            c0, t0 = _cpu(pid), time.monotonic()
            page.goto(url)
            page.wait_for_selector(FILTERS_SELECTOR, timeout=60_000)
            page.wait_for_timeout(1000)
            c1, t1 = _cpu(pid), time.monotonic()
            context.close()
            if i:  # the first one warms the server's caches
                out.append((c1 - c0, t1 - t0))
            time.sleep(0.3)
    idle = _idle_rate(pid, 1.0)
    return {"session": summary([c - idle * t for c, t in out], "CPU s", 3), "idle_cpu_per_s": round(idle, 4)}


def measure(ctx: dict[str, Any], data_dir: Path | None = None, *, browser: bool = True) -> dict[str, Any]:
    quick = ctx["quick"]
    with ctx["server"](paths.DASHBOARD_DIR / "app.py", data_dir=data_dir) as srv:
        pid = srv.proc.pid
        out = {"protocol": protocol_batches(srv.url, pid, 2 if quick else 3, 5 if quick else 10)}
        if browser and ctx.get("browser", True):
            out["browser"] = browser_sessions(ctx, f"{srv.url}/map", pid, 3 if quick else 6)
        errors = srv.errors()
        if errors:
            raise RuntimeError("the server reported errors: " + "; ".join(errors[:3]))
    return out


def run(ctx: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "about": (
            "server CPU (user + system, the Streamlit process) per new session opening /map (a shared "
            "link, default filters): 'first run' = GET, websocket, the page's first script run (the "
            "map; the filters wait); 'map-first rerun' = the run the map's 'drawn' report starts (the "
            "filters); 'session' = everything from the GET to the websocket closed. Protocol level "
            "(bench/wsclient.py), sessions one after another with one other session held open, in "
            "batches (CPU time comes in 10 ms ticks), the server's idle CPU taken off. 'Chromium "
            "session': a browser opening /map until the filters show + 1 s (all runs and every file "
            "Streamlit serves)."
        ),
        "target_s": TARGET_S,
        **measure(ctx),
    }
    p = out["protocol"]
    ctx["log"](
        f"  session: first run {p['first_run']['median']} CPU s, + map-first rerun "
        f"{p['map_first_rerun']['median']}, whole session {p['session']['median']}"
        + (f"; Chromium session {out['browser']['session']['median']}" if "browser" in out else "")
    )
    return out
