"""Figure 5: server memory (RSS of the Streamlit process and its children) with 1 and with 20 open
sessions, each a Playwright context that opened the map page and shows every marker."""

from __future__ import annotations

import contextlib
import gc
from typing import Any

from bench._browser import COUNT_JS, map_frame
from bench._stats import summary
from dashboard.core import paths
from dashboard.core.data import load_atlas_partial
from dashboard.core.filters import Filters, select

SESSIONS = 20


def rss_mb(pid: int) -> float:
    import psutil

    proc = psutil.Process(pid)
    total = proc.memory_info().rss
    for child in proc.children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):
            total += child.memory_info().rss
    return total / 2**20


def _open(browser, url: str, expected: int):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(url)
    frame = map_frame(page)
    frame.wait_for_function(f"() => ({COUNT_JS})() === {expected}", timeout=60_000)
    return context, page


def _settle(page, srv_pid: int, seconds: float = 3.0) -> float:
    page.wait_for_timeout(seconds * 1000)
    return rss_mb(srv_pid)


def one_round(ctx: dict[str, Any], expected: int) -> dict[str, float]:
    with ctx["server"](paths.DASHBOARD_DIR / "app.py") as srv, ctx["chromium"]() as browser:
        url = f"{srv.url}/map"
        idle = rss_mb(srv.proc.pid)
        contexts = [_open(browser, url, expected)]
        one = _settle(contexts[0][1], srv.proc.pid)
        for _ in range(SESSIONS - 1):
            contexts.append(_open(browser, url, expected))
        many = _settle(contexts[-1][1], srv.proc.pid)
        for c, _ in contexts:
            c.close()
        gc.collect()
    return {"idle_mb": idle, "one_mb": one, "many_mb": many, "per_session_mb": (many - one) / (SESSIONS - 1)}


def run(ctx: dict[str, Any]) -> dict[str, Any]:
    atlas, _ = load_atlas_partial()
    expected = len(select(atlas, Filters()).points)
    rounds = [one_round(ctx, expected) for _ in range(1 if ctx["quick"] else 2)]
    out = {
        "about": (
            f"fresh server per round; RSS of the streamlit process + children after 1 session, then after "
            f"{SESSIONS} sessions (each a new browser context on /map, all kept open, every marker shown, "
            "3 s settle). Per session = (RSS at 20 - RSS at 1) / 19."
        ),
        "sessions": SESSIONS,
        "idle": summary([r["idle_mb"] for r in rounds], "MB", 1),
        "one_session": summary([r["one_mb"] for r in rounds], "MB", 1),
        "twenty_sessions": summary([r["many_mb"] for r in rounds], "MB", 1),
        "per_session": summary([r["per_session_mb"] for r in rounds], "MB", 2),
    }
    ctx["log"](
        f"  memory: 1 session {out['one_session']['median']} MB, {SESSIONS} sessions "
        f"{out['twenty_sessions']['median']} MB, +{out['per_session']['median']} MB each"
    )
    return out
