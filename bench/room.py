"""The briefing room under load: attendees open one shared link at once, through nginx and replicas.

A presenter puts a link to the atlas's map on the screen and the room opens it within seconds. This
module plays that room on loopback against ``make serve`` (``deploy/serve.py``: Streamlit replicas
behind nginx) and then kills a replica in the middle of it:

1. **Recording.** The presenter's Chromium opens the link first (:func:`record_visit`): every file it
   fetched, and the messages its map sent back once drawn (the app then draws the sidebar's filters).
2. **The room.** ``attendees`` protocol-level clients (:mod:`bench.wsclient`) each open the link at a
   random moment within ``window`` seconds, doing what the recorded browser did: the page, its files,
   the websocket and the script run, the map frame's files, the map's report and the run it causes.
   Beside them, ``browsers`` real Chromium pages open it too (one browser cannot draw 50 pages on 2
   cores). Each attendee must get every marker: the points in the map component's arguments
   (:func:`dashboard.atlasmap.builder.shown_points` on its ``feature_group`` code) equal the points
   the link selects; for Chromium, the markers the page draws. Errors must be 0.
3. **The kill.** With every session still open, a second wave of attendees starts and halfway through
   it one replica is killed (SIGKILL; the supervisor's restart delay is set longer than the test).
   Then: the sessions on the other replica carry on (their websocket stays open and a rerun on it
   draws every marker, also after ``observe`` seconds); the attendees of the dead one reconnect with
   their cookie, as Streamlit's page does, and get every marker from the live replica; every new
   session goes to the live replica; a Chromium page on the dead replica shows Streamlit's
   reconnection (its connection state leaves CONNECTED and comes back), never a blank page, and
   draws every marker again; a Chromium page on the live replica stays connected with its markers.

Times are seconds from an attendee's first request: ``ready`` is when a browser would have everything
to draw every marker (the run's messages and the frame's files), ``finished`` the script run's end.
Memory is each replica's resident memory (its Streamlit process), sampled every half second.

``python -m bench.load`` runs it (``make loadtest``) with the figures; ``tests/test_room.py`` runs a
short version in ``make test``. Loopback only; every loop is bounded in count and time.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import statistics
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench._serve import Served, serving
from bench._server import CHROMIUM_ARGS
from bench.wsclient import ROUTE_COOKIE, Session, SessionError, close, open_session, rerun
from dashboard.atlasmap.builder import shown_points
from dashboard.core import paths
from dashboard.core.data import load_atlas
from dashboard.core.filters import from_query_params, select
from dashboard.core.text import t as t_

SHARED_LINK = ("map", "lang=ja")  # the default view of the map, in Japanese, as a room would open it
MAP_COMPONENT = "st_folium"
COUNT_JS = """() => {
  let n = document.querySelectorAll('.leaflet-overlay-pane path.leaflet-interactive').length;
  document.querySelectorAll('.leaflet-marker-pane .marker-cluster').forEach(el => {
    n += parseInt(el.textContent.trim(), 10) || 0;
  });
  return n;
}"""
# What a person sees of the page: Streamlit's connection state, a title, the map's frame.
PAGE_JS = """() => {
  const app = document.querySelector('.stApp');
  const main = document.querySelector('[data-testid="stMain"]');
  return {
    connection: app ? app.getAttribute('data-test-connection-state') : null,
    title: !!(main && main.querySelector('h1') && main.querySelector('h1').innerText.trim()),
    frame: !!document.querySelector('iframe[title="streamlit_folium\\\\.st_folium"]'),
    status: !!document.querySelector('[data-testid="stConnectionStatus"]'),
    text: main ? main.innerText.trim().length : 0,
  };
}"""


@dataclass
class Room:
    """The parameters of one run (full: ``make loadtest``; short: ``make test``)."""

    attendees: int = 50
    window: float = 10.0  # they open the link within this many seconds
    browsers: int = 5  # the Chromium sample
    replicas: int = 2
    second_wave: int = 20  # attendees opening the link while a replica is killed ...
    second_window: float = 10.0  # ... within this many seconds, the kill halfway
    observe: float = 75.0  # after the kill, the survivors are checked again after this long
    seed: int = 16
    timeout: float = 120.0  # one attendee's whole visit
    link: tuple[str, str] = SHARED_LINK


@dataclass
class Visit:
    """What a fresh browser did for one link (recorded with Chromium, replayed by the attendees)."""

    page: str
    query: str
    assets: list[str] = field(default_factory=list)  # fetched before the websocket's run
    frame_assets: list[str] = field(default_factory=list)  # the map frame's files, after the run
    follow_ups: list[bytes] = field(default_factory=list)  # what the page sent once the map was drawn
    bytes: int = 0
    drawn_s: float = 0.0


def expected_points(page: str, query: str) -> int:
    """How many points the link's view selects (the atlas's own filters, as the app applies them)."""
    atlas = load_atlas(paths.SHIPPED_DATA_DIR)
    params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
    return len(select(atlas, from_query_params(params, atlas).filters).points) if page == "map" else 0


def percentile(values: list[float], q: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def spread(values: list[float]) -> dict[str, Any]:
    """n, p50, p95 and max of some seconds."""
    r = lambda x: None if x is None else round(x, 3)  # noqa: E731
    return {"n": len(values), "p50": r(percentile(values, 50)), "p95": r(percentile(values, 95)),
            "max": r(max(values) if values else None)}  # fmt: skip


# ---------------------------------------------------------------------------------- the browser side
def _is_static(path: str) -> bool:
    return path.startswith(("/static/", "/favicon", "/component/", "/app/static/"))


def _is_frame(path: str) -> bool:
    return path.startswith(("/component/", "/app/static/"))


def loopback_only(route) -> None:
    """Playwright route: anything not on this machine (the optional online basemap) is aborted."""
    host = urlsplit(route.request.url).hostname or ""
    if route.request.url.startswith(("data:", "blob:", "about:")) or host in ("127.0.0.1", "localhost"):
        route.continue_()
    else:
        route.abort()


def _map_frame(page):
    for frame in page.frames:
        if "streamlit_folium" in (frame.url or ""):
            return frame
    return None


def drawn_markers(page) -> int:
    """Markers the page's map shows now (cluster counts plus lone markers); -1 before the map."""
    frame = _map_frame(page)
    if frame is None:
        return -1
    try:
        return int(frame.evaluate(f"() => window.L ? ({COUNT_JS})() : -1"))
    except Exception:  # the frame is being replaced
        return -1


def record_visit(browser, base: str, page: str, query: str, expected: int, timeout: float = 90) -> Visit:
    """Open the link in a fresh Chromium context and record what it fetched and sent, until every
    marker is drawn and the app has finished the run the map's report caused."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    visit = Visit(page=page, query=query)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.route("**/*", loopback_only)
    tab = context.new_page()
    seen: list[str] = []
    finished = {"runs": 0}
    sent_after_first: list[bytes] = []

    def on_response(response) -> None:
        parts = urlsplit(response.url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if parts.hostname == "127.0.0.1" and _is_static(parts.path) and response.status < 400:
            if path not in seen:
                seen.append(path)
            with contextlib.suppress(Exception):
                visit.bytes += len(response.body())

    def on_websocket(ws) -> None:
        def received(payload) -> None:
            if isinstance(payload, bytes):
                msg = ForwardMsg()
                msg.ParseFromString(payload)
                if msg.WhichOneof("type") == "script_finished":
                    finished["runs"] += 1

        def sent(payload) -> None:
            if isinstance(payload, bytes) and finished["runs"] >= 1:
                msg = BackMsg()
                msg.ParseFromString(payload)
                if msg.WhichOneof("type") == "rerun_script":
                    sent_after_first.append(payload)

        ws.on("framereceived", received)
        ws.on("framesent", sent)

    tab.on("response", on_response)
    tab.on("websocket", on_websocket)
    start = time.monotonic()
    try:
        tab.goto(f"{base}/{page}?{query}", wait_until="commit")
        deadline = start + timeout
        while drawn_markers(tab) != expected:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the recording browser drew {drawn_markers(tab)} of {expected} markers")
            tab.wait_for_timeout(50)
        visit.drawn_s = time.monotonic() - start
        # the map's report and the run it causes (the sidebar's filters)
        idle = '.stApp[data-test-script-state="notRunning"][data-test-connection-state="CONNECTED"]'
        while time.monotonic() < deadline and not (sent_after_first and tab.locator(idle).count()):
            tab.wait_for_timeout(50)
        # and the files the filters' widgets load: until nothing new came for 1.5 s
        quiet_since, count = time.monotonic(), len(seen)
        while time.monotonic() < deadline and time.monotonic() - quiet_since < 1.5:
            tab.wait_for_timeout(100)
            if len(seen) != count:
                quiet_since, count = time.monotonic(), len(seen)
    finally:
        context.close()
    visit.assets = [p for p in seen if not _is_frame(p)]
    visit.frame_assets = [p for p in seen if _is_frame(p)]
    visit.follow_ups = sent_after_first
    return visit


# ---------------------------------------------------------------------------------- attendees
@dataclass
class Attendee:
    index: int
    wave: int
    offset: float  # when it opened the link, seconds from the wave's start
    session: Session | None = None
    error: str | None = None
    points: int | None = None
    later_points: int | None = None
    replica: int | None = None
    opened_at: float = 0.0  # time.monotonic()
    reconnected: Session | None = None  # after its replica was killed

    def result(self) -> dict[str, Any]:
        s = self.session
        return {
            "index": self.index,
            "wave": self.wave,
            "offset_s": round(self.offset, 3),
            "replica": self.replica,
            "error": self.error,
            "points": self.points,
            "ready_s": None if s is None or s.ready_s is None else round(s.ready_s, 3),
            "finished_s": None if s is None else round(s.finished_s, 3),
        }


def _attend(served: Served, visit: Visit, a: Attendee, expected: int, timeout: float) -> None:
    a.opened_at = time.monotonic()
    try:
        s = open_session(
            served.url, visit.page, visit.query, timeout=timeout, keep_open=True, assets=visit.assets,
            frame_assets=visit.frame_assets, follow_ups=visit.follow_ups,
        )  # fmt: skip
    except SessionError as exc:
        a.error = str(exc)
        return
    a.session = s
    a.replica = served.replica_of(s.stream_replica)
    maps = s.components(MAP_COMPONENT)
    a.points = shown_points(maps[0]["feature_group"]) if maps else 0
    later = s.later_components(MAP_COMPONENT)
    a.later_points = shown_points(later[-1]["feature_group"]) if later else None
    problems = []
    if s.status != "finished":
        problems.append(f"the run ended {s.status or 'never'}")
    if s.exceptions():
        problems.append(f"exceptions: {s.exceptions()}")
    if a.points != expected:
        problems.append(f"{a.points} of {expected} markers")
    if visit.follow_ups and a.later_points not in (None, expected):
        problems.append(f"{a.later_points} of {expected} markers after the map's report")
    if problems:
        a.error = "; ".join(problems)


def wave(served: Served, visit: Visit, n: int, window: float, seed: int, expected: int, *,
         wave_no: int = 1, timeout: float = 120.0, during=None) -> list[Attendee]:  # fmt: skip
    """``n`` attendees opening the link at random moments within ``window`` seconds (one thread
    each). ``during(start)`` runs in this thread meanwhile (the kill)."""
    rng = random.Random(seed)
    attendees = [
        Attendee(i, wave_no, off) for i, off in enumerate(sorted(rng.uniform(0, window) for _ in range(n)))
    ]
    start = time.monotonic() + 0.2

    def run(a: Attendee) -> None:
        time.sleep(max(0.0, start + a.offset - time.monotonic()))
        try:
            _attend(served, visit, a, expected, timeout)
        except Exception as exc:  # recorded, never lost in a thread
            a.error = f"{type(exc).__name__}: {exc}"

    threads = [threading.Thread(target=run, args=(a,), daemon=True) for a in attendees]
    for t in threads:
        t.start()
    if during is not None:
        during(start)
    for t in threads:
        t.join(timeout + window + 30)
    for a in attendees:
        if a.session is None and a.error is None:
            a.error = "did not finish in time"
    return attendees


# ---------------------------------------------------------------------------------- Chromium sample
@dataclass
class Tab:
    index: int
    route: str
    replica: int
    offset: float
    context: Any = None
    page: Any = None
    opened_at: float = 0.0
    drawn_s: float | None = None
    error: str | None = None
    after_kill: list[dict] = field(default_factory=list)  # what the page showed, sampled

    def result(self) -> dict[str, Any]:
        drawn = None if self.drawn_s is None else round(self.drawn_s, 3)
        return {"index": self.index, "replica": self.replica, "offset_s": round(self.offset, 3),
                "drawn_s": drawn, "error": self.error}  # fmt: skip


def routes_for(served: Served, wanted: dict[int, int], tries: int = 200) -> dict[int, list[str]]:
    """``wanted[replica]`` route cookies that nginx sends to each replica (asked on its health URL)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    found: dict[int, list[str]] = {r: [] for r in wanted}
    for _ in range(tries):
        if all(len(found[r]) >= k for r, k in wanted.items()):
            break
        with opener.open(served.url + "/_stcore/health", timeout=10) as resp:
            replica = served.replica_of(resp.headers["X-Atlas-Replica"])
            cookie = next(c for c in resp.headers.get_all("Set-Cookie") if c.startswith(ROUTE_COOKIE + "="))
        route = cookie.split(";")[0].split("=", 1)[1]
        if replica in found and len(found[replica]) < wanted[replica]:
            found[replica].append(route)
    return found


def open_tabs(browser, served: Served, tabs: list[Tab], visit: Visit, expected: int, start: float,
              timeout: float) -> None:  # fmt: skip
    """Open each tab at its offset from ``start`` and wait until every one has drawn every marker
    (in this thread: Playwright's sync API; polled every 50 ms)."""
    pending = sorted(tabs, key=lambda t: t.offset)
    opened: list[Tab] = []
    deadline = start + max((t.offset for t in tabs), default=0) + timeout
    while (
        pending or any(t.drawn_s is None and t.error is None for t in opened)
    ) and time.monotonic() < deadline:
        while pending and time.monotonic() >= start + pending[0].offset:
            tab = pending.pop(0)
            tab.context = browser.new_context(viewport={"width": 1280, "height": 800})
            tab.context.route("**/*", loopback_only)
            tab.context.add_cookies([{"name": ROUTE_COOKIE, "value": tab.route, "url": served.url}])
            tab.page = tab.context.new_page()
            tab.opened_at = time.monotonic()
            try:
                tab.page.goto(f"{served.url}/{visit.page}?{visit.query}", wait_until="commit")
            except Exception as exc:
                tab.error = f"the page did not open: {exc}"
            opened.append(tab)
        for tab in opened:
            if tab.drawn_s is None and tab.error is None and drawn_markers(tab.page) == expected:
                tab.drawn_s = time.monotonic() - tab.opened_at
        if opened:
            opened[0].page.wait_for_timeout(50)
        else:
            time.sleep(0.05)
    for tab in tabs:
        if tab.drawn_s is None and tab.error is None:
            shown = drawn_markers(tab.page) if tab.page else None
            tab.error = f"drew {shown} of {expected} markers within {timeout:.0f} s"


def next_page_opens(tab: Tab, url_path: str, title: str, timeout_ms: float = 30_000) -> bool:
    """Click the sidebar's link to another page: does that page's title come up?"""
    try:
        tab.page.locator(f'[data-testid="stSidebarNav"] a[href$="/{url_path}"]').first.click(
            timeout=timeout_ms
        )
        tab.page.locator('[data-testid="stMain"] h1', has_text=title).first.wait_for(timeout=timeout_ms)
    except Exception:
        return False
    return True


def page_state(tab: Tab) -> dict[str, Any]:
    try:
        state = tab.page.evaluate(PAGE_JS)
    except Exception as exc:  # the page itself is gone: that would be what a person sees too
        return {"connection": None, "title": False, "frame": False, "status": False, "text": 0,
                "error": str(exc)[:200]}  # fmt: skip
    state["markers"] = drawn_markers(tab.page)
    return state


# ---------------------------------------------------------------------------------- CPU
def cpu_snapshot(served: Served) -> dict[str, float]:
    """CPU-seconds used so far by the replicas, nginx, this process and the rest of its children (the
    load: client threads, Playwright, Chromium), and the whole machine (busy time of every core)."""
    import psutil

    def used(p) -> float:
        with contextlib.suppress(psutil.Error):
            t = p.cpu_times()
            return t.user + t.system
        return 0.0

    me = psutil.Process()
    status = served.status()
    replica_pids = {r["pid"] for r in status.get("replicas", []) if r["pid"]}
    nginx_pid = status.get("nginx_pid")
    supervisor = served.proc.pid
    groups = {"replicas": 0.0, "nginx": 0.0, "load": used(me), "supervisor": 0.0}
    for child in me.children(recursive=True):
        if child.pid in replica_pids:
            groups["replicas"] += used(child)
        elif child.pid == nginx_pid or (nginx_pid and _parent(child) == nginx_pid):
            groups["nginx"] += used(child)
        elif child.pid == supervisor:
            groups["supervisor"] += used(child)
        elif _parent(child) not in replica_pids:
            groups["load"] += used(child)
    total = psutil.cpu_times()
    groups["machine"] = sum(total) - total.idle - getattr(total, "iowait", 0.0)
    return groups


def _parent(proc) -> int | None:
    with contextlib.suppress(Exception):
        return proc.ppid()
    return None


def cpu_between(a: dict[str, float], b: dict[str, float], seconds: float) -> dict[str, Any]:
    """CPU-seconds each group used between two snapshots, and what everything else on the machine used
    (other people's work on a shared machine), with the cores' capacity over the span."""
    import psutil

    used = {k: round(b[k] - a[k], 1) for k in a}
    ours = sum(v for k, v in used.items() if k != "machine")
    used["others"] = round(max(0.0, used["machine"] - ours), 1)
    used["capacity"] = round(seconds * (psutil.cpu_count() or 1), 1)
    return used


# ---------------------------------------------------------------------------------- memory
class MemorySampler:
    """Each replica's resident memory every ``every`` seconds, in a thread, until stopped."""

    def __init__(self, served: Served, every: float = 0.5):
        self.served, self.every = served, every
        self.samples: list[tuple[float, dict[int, float]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.t0 = time.monotonic()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.monotonic() - self.t0, self.served.rss_mb()))
            self._stop.wait(self.every)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def between(self, t_from: float, t_to: float) -> dict[str, dict[str, float]]:
        """Per replica: MB at the start and end of the span and the peak within it."""
        inside = [(t, m) for t, m in self.samples if t_from <= t <= t_to]
        out: dict[str, dict[str, float]] = {}
        for idx in sorted({i for _, m in inside for i in m}):
            values = [m[idx] for _, m in inside if m.get(idx)]
            if values:
                out[str(idx)] = {"start": values[0], "peak": max(values), "end": values[-1]}
        return out


# ---------------------------------------------------------------------------------- the whole run
def run_room(room: Room, tmp: Path, log=print) -> dict[str, Any]:
    """The room and the kill; returns the figures and ``failures`` (empty when every check held)."""
    from playwright.sync_api import sync_playwright

    from bench._server import CHROMIUM

    page, query = room.link
    expected = expected_points(page, query)
    failures: list[str] = []
    out: dict[str, Any] = {"link": f"/{page}?{query}", "expected_markers": expected,
                           "parameters": {k: v for k, v in vars(room).items() if k != "link"}}  # fmt: skip
    # the supervisor must not bring the killed replica back during the test: that is test_serve's part
    extra = ("--restart-delay", str(int(room.observe + room.second_window + 600)))
    with serving(tmp, room.replicas, *extra, fast_checks=False) as served, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            with MemorySampler(served) as mem:
                out["memory_idle_mb"] = served.rss_mb()
                visit = record_visit(browser, served.url, page, query, expected)
                log(f"  recorded a browser's visit: {len(visit.assets)} files, then "
                    f"{len(visit.frame_assets)} for the map's frame ({visit.bytes / 1e6:.1f} MB), "
                    f"{len(visit.follow_ups)} messages after the map was drawn; every marker drawn after "
                    f"{visit.drawn_s:.2f} s")  # fmt: skip
                out["visit"] = {"files": len(visit.assets), "frame_files": len(visit.frame_assets),
                                "mb": round(visit.bytes / 1e6, 2), "follow_ups": len(visit.follow_ups),
                                "recording_drawn_s": round(visit.drawn_s, 3)}  # fmt: skip
                # one protocol session per replica so that none starts cold (the presenter's check)
                warm = routes_for(served, dict.fromkeys(range(room.replicas), 1))
                for routes in warm.values():
                    close(open_session(served.url, page, query, cookies={ROUTE_COOKIE: routes[0]},
                                       timeout=room.timeout))  # fmt: skip
                out["memory_before_mb"] = served.rss_mb()
                room_result = _the_room(room, served, browser, visit, expected, mem, failures, log)
                out["room"] = room_result
                out["kill"] = _the_kill(room, served, visit, expected, room_result, mem, failures, log)
        finally:
            with contextlib.suppress(Exception):
                browser.close()
    out["failures"] = failures
    return out


def _the_room(room, served, browser, visit, expected, mem, failures, log) -> dict[str, Any]:
    # The Chromium sample: more on the replica that will be killed, some on the other (set by their
    # route cookie, which a returning browser would carry; the protocol attendees get theirs from nginx).
    victim = room.replicas - 1
    on_victim = (room.browsers + 1) // 2
    per = {victim: on_victim, 0: room.browsers - on_victim} if room.replicas > 1 else {0: room.browsers}
    routes = routes_for(served, per)
    rng = random.Random(room.seed + 1)
    tabs = []
    for i in range(room.browsers):
        replica = [victim, 0][i % 2] if room.replicas > 1 else 0
        tabs.append(Tab(i, routes[replica].pop(0), replica, rng.uniform(0, room.window)))
    t_from = time.monotonic() - mem.t0
    cpu_from = cpu_snapshot(served)
    load_from = os.getloadavg()

    def chromium(start: float) -> None:
        open_tabs(browser, served, tabs, visit, expected, start, room.timeout)

    attendees = wave(served, visit, room.attendees, room.window, room.seed, expected,
                     timeout=room.timeout, during=chromium)  # fmt: skip
    t_to = time.monotonic() - mem.t0
    cpu = cpu_between(cpu_from, cpu_snapshot(served), t_to - t_from)
    errors = [f"attendee {a.index}: {a.error}" for a in attendees if a.error]
    errors += [f"Chromium page {t.index}: {t.error}" for t in tabs if t.error]
    failures.extend(errors)
    ready = [a.session.ready_s for a in attendees if a.session and not a.error]
    finished = [a.session.finished_s for a in attendees if a.session and not a.error]
    drawn = [t.drawn_s for t in tabs if t.drawn_s is not None]
    result = {
        "attendees": room.attendees,
        "window_s": room.window,
        "ready": spread(ready),
        "finished": spread(finished),
        "chromium_drawn": spread(drawn),
        "chromium": [t.result() for t in tabs],
        "errors": len(errors),
        "error_list": errors[:20],
        "every_marker": sum(1 for a in attendees if a.points == expected) + sum(1 for t in tabs if t.drawn_s),
        "per_replica": dict(Counter(str(a.replica) for a in attendees if a.replica is not None)),
        "memory_mb": mem.between(t_from, t_to + 1),
        "duration_s": round(t_to - t_from, 1),
        "cpu_s": cpu,
        "load_average": [round(x, 2) for x in load_from],
        "health_misses": served.output().count("not answering on /_stcore/health"),
        "slowest": sorted((a.result() for a in attendees), key=lambda r: -(r["ready_s"] or 1e9))[:5],
    }
    ready_, drawn_ = result["ready"], result["chromium_drawn"]
    log(f"  room: {room.attendees} attendees within {room.window:.0f} s + {room.browsers} Chromium pages: "
        f"ready p50 {ready_['p50']} s, p95 {ready_['p95']} s, max {ready_['max']} s; "
        f"Chromium drawn p50 {drawn_['p50']} s, max {drawn_['max']} s; errors {len(errors)}; "
        f"per replica {result['per_replica']}; memory {result['memory_mb']}; CPU-s {cpu}")  # fmt: skip
    result["_attendees"] = attendees  # for the kill; dropped before reporting
    result["_tabs"] = tabs
    return result


def _the_kill(room, served, visit, expected, room_result, mem, failures, log) -> dict[str, Any]:
    attendees: list[Attendee] = room_result.pop("_attendees")
    tabs: list[Tab] = room_result.pop("_tabs")
    if room.replicas < 2:
        return {"skipped": "one replica: nothing to fail over to"}
    victim = room.replicas - 1
    live = [i for i in range(room.replicas) if i != victim]
    victim_pid = served.pids()[victim]
    # the room's own later runs (the filters) are over before the kill
    time.sleep(1.0)
    kill_at: dict[str, float] = {}
    samples: dict[int, list[dict]] = {t.index: [] for t in tabs}

    def kill(start: float) -> None:
        time.sleep(max(0.0, start + room.second_window / 2 - time.monotonic()))
        served_pid = served.pids()[victim]
        os.kill(served_pid, signal.SIGKILL)
        kill_at["t"] = time.monotonic()
        log(f"  killed replica {victim} (pid {served_pid}) {room.second_window / 2:.1f} s into the 2nd wave")
        # what each Chromium page shows from the kill until it has reconnected and redrawn (or 30 s)
        until = time.monotonic() + 30
        while time.monotonic() < until:
            for t in tabs:
                state = page_state(t)
                state["t"] = round(time.monotonic() - kill_at["t"], 2)
                samples[t.index].append(state)
            done = all(
                s[-1]["connection"] == "CONNECTED" and s[-1]["markers"] == expected
                and (t.replica != victim or any(x["connection"] != "CONNECTED" for x in s))
                for t, s in ((t, samples[t.index]) for t in tabs)
            )  # fmt: skip
            if done and time.monotonic() - kill_at["t"] > 3:
                break
            tabs[0].page.wait_for_timeout(100)

    second = wave(served, visit, room.second_wave, room.second_window, room.seed + 2, expected, wave_no=2,
                  timeout=room.timeout, during=kill)  # fmt: skip
    t_kill = kill_at.get("t", time.monotonic())
    served.wait_for(f"replica {victim} out", lambda s: not s["replicas"][victim]["in_rotation"], timeout=30)

    # the room's sessions: carry on (the live replica) or reconnect (the dead one's)
    carried, reconnected, problems = [], [], []
    for a in attendees:
        if a.session is None:
            continue
        if a.replica == victim:
            try:
                rerun(a.session, timeout=5, quiet=0.2)
                problems.append(f"attendee {a.index}: its session on the killed replica still answers")
            except SessionError:
                pass  # closed, as expected: reconnect as Streamlit's page does
            close(a.session)
            _reconnect(served, visit, a, expected, live, room.timeout, problems, reconnected)
        else:
            try:
                again = rerun(a.session, timeout=room.timeout)
            except SessionError as exc:
                problems.append(f"attendee {a.index} on live replica {a.replica}: {exc}")
                continue
            maps = again.components(MAP_COMPONENT)
            n = shown_points(maps[-1]["feature_group"]) if maps else 0
            if n != expected or again.exceptions():
                problems.append(f"attendee {a.index} on live replica {a.replica}: {n} of {expected} markers "
                                f"after the kill {again.exceptions() or ''}")  # fmt: skip
            else:
                carried.append(a)
    # the second wave: before the kill anywhere; after it only on the live replicas
    new_after = []
    for a in second:
        started_after = a.opened_at > t_kill + 0.5  # nginx's reload takes effect within half a second
        if a.error:
            if a.opened_at >= t_kill - room.timeout and not started_after:
                # in flight on the killed replica: its page reconnects
                _reconnect(served, visit, a, expected, live, room.timeout, problems, reconnected)
            else:
                problems.append(f"second-wave attendee {a.index}: {a.error}")
            continue
        if started_after:
            new_after.append(a)
            if a.replica not in live:
                problems.append(
                    f"second-wave attendee {a.index} opened after the kill on replica {a.replica}"
                )
    # later still: the survivors are still connected (nginx's reload does not cut them off)
    waited = max(0.0, t_kill + room.observe - time.monotonic())
    log(f"  watching the sessions on the live replica for {room.observe:.0f} s after the kill")
    time.sleep(waited)
    still = 0
    for a in carried:
        try:
            again = rerun(a.session, timeout=room.timeout)
            maps = again.components(MAP_COMPONENT)
            if maps and shown_points(maps[-1]["feature_group"]) == expected:
                still += 1
            else:
                problems.append(f"attendee {a.index}: not every marker {room.observe:.0f} s after the kill")
        except SessionError as exc:
            problems.append(f"attendee {a.index}: {room.observe:.0f} s after the kill: {exc}")
    # the Chromium pages
    tab_results = []
    for t in tabs:
        seen = samples[t.index]
        blank = [s for s in seen if not (s["title"] and s["frame"])]
        states = []
        for s in seen:
            if not states or states[-1] != s["connection"]:
                states.append(s["connection"])
        lost = next((s["t"] for s in seen if s["connection"] != "CONNECTED"), None)
        redrawn = next((s["t"] for s in seen if lost is not None and s["t"] > lost
                        and s["connection"] == "CONNECTED" and s["markers"] == expected), None)  # fmt: skip
        final = page_state(t)
        row = {"index": t.index, "replica": t.replica, "on_killed_replica": t.replica == victim,
               "connection_states": states, "blank_samples": len(blank), "samples": len(seen),
               "status_widget_seen": any(s["status"] for s in seen),
               "reconnected_and_redrawn_s": redrawn, "markers_at_end": final["markers"],
               "connection_at_end": final["connection"]}  # fmt: skip
        tab_results.append(row)
        if blank:
            problems.append(
                f"Chromium page {t.index}: blank (no title or map) in {len(blank)} samples after the kill"
            )
        if final["markers"] != expected or final["connection"] != "CONNECTED":
            problems.append(
                f"Chromium page {t.index}: {final['markers']} markers, {final['connection']} at the end"
            )
        if t.replica == victim and (len(states) < 2 or redrawn is None):
            problems.append(
                f"Chromium page {t.index} on the killed replica: states {states}, redrawn {redrawn}"
            )
        if t.replica != victim and states != ["CONNECTED"]:
            problems.append(f"Chromium page {t.index} on the live replica: connection states {states}")
        # and the page still works: its sidebar's link to another page opens that page
        lang = "en" if "lang=en" in visit.query else "ja"
        row["next_page_opened"] = next_page_opens(t, "timeline", t_("page_timeline", lang))
        if not row["next_page_opened"]:
            problems.append(f"Chromium page {t.index}: the timeline page did not open after the kill")
    for t in tabs:
        with contextlib.suppress(Exception):
            t.context.close()
    for a in attendees + second:
        for s in (a.session, a.reconnected):
            if s is not None:
                close(s)
    failures.extend(problems)
    on_victim = [a for a in attendees if a.replica == victim]
    result = {
        "killed_replica": victim,
        "killed_pid": victim_pid,
        "room_sessions_on_live": sum(1 for a in attendees if a.replica in live),
        "carried_on": len(carried),
        "still_connected_after_s": room.observe,
        "still_carrying_on": still,
        "room_sessions_on_killed": len(on_victim),
        "reconnected": len(reconnected),
        "reconnect_ready": spread([s.ready_s for s in reconnected if s.ready_s is not None]),
        "second_wave": room.second_wave,
        "second_wave_after_kill": len(new_after),
        "second_wave_after_kill_on_live": sum(1 for a in new_after if a.replica in live),
        "second_wave_ready": spread([a.session.ready_s for a in second if a.session and not a.error]),
        "chromium": tab_results,
        "problems": problems[:30],
        "memory_mb": mem.between(t_kill - mem.t0 - room.second_window, time.monotonic() - mem.t0),
    }
    tabs_ = tab_results
    log(f"  kill: {result['carried_on']} of {result['room_sessions_on_live']} sessions on the live replica "
        f"carried on ({still} still after {room.observe:.0f} s); {len(reconnected)} sessions of the killed "
        f"replica reconnected (ready p95 {result['reconnect_ready']['p95']} s); {len(new_after)} new "
        f"sessions after the kill, {result['second_wave_after_kill_on_live']} on the live replica; "
        f"Chromium: {[(r['index'], r['connection_states'], r['reconnected_and_redrawn_s']) for r in tabs_]}"
        f"; problems {len(problems)}")  # fmt: skip
    return result


def _reconnect(served, visit, a: Attendee, expected: int, live: list[int], timeout: float,
               problems: list[str], reconnected: list[Session]) -> None:  # fmt: skip
    """Open the link again with the attendee's cookies, as Streamlit's page does after losing its
    server; it must land on a live replica with every marker."""
    cookies = a.session.cookies if a.session else {}
    try:
        s = open_session(served.url, visit.page, visit.query, timeout=timeout, keep_open=True,
                         cookies=cookies, follow_ups=visit.follow_ups)  # fmt: skip
    except SessionError as exc:
        problems.append(f"attendee {a.index} (wave {a.wave}): reconnecting failed: {exc}")
        return
    a.reconnected = s
    replica = served.replica_of(s.stream_replica)
    maps = s.components(MAP_COMPONENT)
    n = shown_points(maps[0]["feature_group"]) if maps else 0
    if replica not in live or n != expected or s.exceptions():
        problems.append(
            f"attendee {a.index} (wave {a.wave}): reconnected to replica {replica} with {n} markers"
        )
    else:
        reconnected.append(s)
