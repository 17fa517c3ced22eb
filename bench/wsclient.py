"""A Streamlit session opened the way a browser opens one, without a browser: for load tests.

    from bench.wsclient import open_session
    s = open_session("http://127.0.0.1:8501", page="map", query="lang=en&region=europe")
    s.finished_s, s.script_s, len(s.deltas), s.components("st_folium")[0]["feature_group"]

What a browser does, in order, and so what this does:

1. ``GET /<page>?<query>``: the HTML (and the cookies: Streamlit's ``_streamlit_xsrf``, and behind
   ``make serve`` nginx's ``atlas_route``, which pins the session to one replica);
2. ``GET /_stcore/health`` and ``/_stcore/host-config``, as the page's script does before it connects;
3. the websocket ``/_stcore/stream`` with the cookies, the page's Origin and the subprotocols
   ``streamlit, <xsrf token>``, then a ``BackMsg`` ``rerun_script`` whose ``ClientState`` carries
   the query string and the page name (``map``; empty for the default page), as the browser sends
   it once connected;
4. every ``ForwardMsg`` until ``script_finished`` (a run ended early for a rerun is followed to the
   next one).

A fresh browser also fetches Streamlit's own JavaScript, CSS and fonts (about 110 files, 3.6 MB for the
map page) and, once the run has put the map on the page, the map frame's files. For the server these
cost more CPU than the script run itself, so a load test must fetch them too: ``assets`` (fetched after
the page, six at a time as a browser does) and ``frame_assets`` (fetched after the run) take the paths
a real browser requested (:func:`bench.room.record_visit` records them with Chromium). Once a browser
has drawn the map, the map's frame tells the app so and the app runs again to draw the sidebar's
filters ("map first"): ``follow_ups`` replays the messages a browser sent then (recorded with it), so the
server does all the work a browser's visit causes.

The messages are Streamlit's own (``streamlit.proto``), the websocket client is ``websockets``'
synchronous one; one session per thread scales to the few hundred sessions a load test opens.
Fragments that rerun on a timer (``auto_rerun``) are not followed: the first complete run of the
page is what is measured. :func:`rerun` then sends a later run of the same session the way the browser
does (the page's hash, the URL's query string as the app left it, the widgets' values and the hashes
of the messages the browser keeps), e.g. the map's "drawn" report that draws the filters of a session
opened on the map page. Loopback or the project's own hosts only.
"""

from __future__ import annotations

import contextlib
import http.client
import http.cookiejar
import json
import time
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect
from websockets.typing import Origin, Subprotocol

XSRF_COOKIE = "_streamlit_xsrf"
ROUTE_COOKIE = "atlas_route"  # set by deploy/nginx.conf.template
REPLICA_HEADER = "X-Atlas-Replica"
USER_AGENT = "atlas-wsclient/1 (bench/wsclient.py)"
BROWSER_CONNECTIONS = 6  # parallel requests a browser makes to one host (HTTP/1.1)
FINISHED = {
    ForwardMsg.FINISHED_SUCCESSFULLY: "finished",
    ForwardMsg.FINISHED_WITH_COMPILE_ERROR: "compile_error",
    ForwardMsg.FINISHED_EARLY_FOR_RERUN: "rerun",
    ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY: "fragment",
}


class SessionError(RuntimeError):
    """The page or the websocket failed, or the run did not finish in time."""


@dataclass
class Session:
    """One page run as a browser session sees it. Times are seconds from the start of the GET."""

    url: str
    page: str
    query: str
    status: str = ""  # "finished", "compile_error", or "" when it never finished
    page_s: float = 0.0  # the HTML received
    connected_s: float = 0.0  # the websocket open
    first_delta_s: float | None = None  # the first element or block of the run
    finished_s: float = 0.0  # script_finished received
    session_id: str = ""
    page_script_hash: str = ""  # the page the server ran (a later run names it, as the browser does)
    current_query: str = ""  # the URL's query string as the app last set it
    replica: str | None = None  # which replica answered the page (behind make serve) ...
    stream_replica: str | None = None  # ... and which one holds the session's websocket
    cookies: dict[str, str] = field(default_factory=dict)
    messages: list[ForwardMsg] = field(default_factory=list)
    bytes_received: int = 0
    assets_s: float | None = None  # the page's assets fetched (with ``assets``)
    ready_s: float | None = None  # the run finished and the frame's assets fetched: a browser can draw
    asset_requests: int = 0
    asset_bytes: int = 0
    connection: Any = None  # the open websocket, with open_session(keep_open=True)
    base_url: str = ""
    later: list[ForwardMsg] = field(default_factory=list)  # the runs ``follow_ups`` caused
    settled_s: float | None = None  # those runs finished

    @property
    def script_s(self) -> float:
        """From the rerun request to script_finished: the server's part of the page."""
        return self.finished_s - self.connected_s

    @property
    def cached_hashes(self) -> list[str]:
        """Hashes of the messages the browser would keep (``metadata.cacheable``) and name in a later
        run, so that the server sends a reference instead of the message again."""
        return list(dict.fromkeys(m.hash for m in self.messages if m.metadata.cacheable and m.hash))

    @property
    def deltas(self) -> list[ForwardMsg]:
        return [m for m in self.messages if m.WhichOneof("type") == "delta"]

    def elements(self) -> list[tuple[str, Any]]:
        """``(kind, element)`` of every new element, in the order they came (``"markdown"``, ...)."""
        out = []
        for m in self.deltas:
            if m.delta.WhichOneof("type") == "new_element":
                kind = m.delta.new_element.WhichOneof("type")
                out.append((kind, getattr(m.delta.new_element, kind)))
        return out

    def components(self, name: str | None = None) -> list[dict[str, Any]]:
        """The JSON arguments of every custom component (``component_name`` ends with ``name``)."""
        out = []
        for kind, el in self.elements():
            if kind == "component_instance" and (name is None or el.component_name.endswith(name)):
                out.append(json.loads(el.json_args) if el.json_args else {})
        return out

    def exceptions(self) -> list[str]:
        return [f"{el.type}: {el.message}" for kind, el in self.elements() if kind == "exception"]

    def later_components(self, name: str | None = None) -> list[dict[str, Any]]:
        """:meth:`components` of the runs the ``follow_ups`` caused."""
        return Session(url=self.url, page=self.page, query=self.query, messages=self.later).components(name)

    def summary(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "status": self.status,
            "replica": self.replica,
            "stream_replica": self.stream_replica,
            "page_s": round(self.page_s, 3),
            "connected_s": round(self.connected_s, 3),
            "first_delta_s": None if self.first_delta_s is None else round(self.first_delta_s, 3),
            "finished_s": round(self.finished_s, 3),
            "script_s": round(self.script_s, 3),
            "ready_s": None if self.ready_s is None else round(self.ready_s, 3),
            "messages": len(self.messages),
            "deltas": len(self.deltas),
            "bytes": self.bytes_received,
            "asset_requests": self.asset_requests,
            "asset_bytes": self.asset_bytes,
        }


def rerun_message(query: str, page: str, url: str) -> BackMsg:
    """The BackMsg a browser sends once connected: run the page with the URL's query string."""
    msg = BackMsg()
    state = msg.rerun_script
    state.query_string = query
    state.page_name = page
    state.page_script_hash = ""  # the server finds the page by name on a first run
    state.context_info.url = url
    state.context_info.timezone = "Asia/Tokyo"
    state.context_info.timezone_offset = -540
    state.context_info.locale = "ja-JP"
    state.context_info.is_embedded = False
    state.context_info.color_scheme = "light"
    return msg


def widget_rerun_message(session: Session, widgets: dict[str, Any]) -> BackMsg:
    """The BackMsg a browser sends when a widget (or a component) of ``session``'s page reports a value:
    ``widgets`` maps a widget's id to its value (sent as JSON, as a component's value is)."""
    msg = rerun_message(session.current_query, "", session.url)
    state = msg.rerun_script
    state.page_script_hash = session.page_script_hash
    for widget_id, value in widgets.items():
        w = state.widget_states.widgets.add()
        w.id = widget_id
        w.json_value = json.dumps(value)
    state.cached_message_hashes.extend(session.cached_hashes)
    return msg


def _time_left(deadline: float, message: str) -> Callable[[], float]:
    """A function giving the seconds left until ``deadline`` (time.monotonic), raising SessionError
    with ``message`` once none are left."""

    def remaining() -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise SessionError(message)
        return left

    return remaining


def _opener(jar: http.cookiejar.CookieJar) -> urllib.request.OpenerDirector:
    # no proxy: the servers measured are on this machine
    return urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor(jar)
    )


def open_session(
    base_url: str,
    page: str = "",
    query: str | dict[str, str] = "",
    *,
    timeout: float = 90.0,
    cookies: dict[str, str] | None = None,
    keep_open: bool = False,
    assets: Sequence[str] = (),
    frame_assets: Sequence[str] = (),
    follow_ups: Sequence[bytes] = (),
) -> Session:
    """Open ``base_url/page?query`` as a browser would and return once its script run finished.

    ``cookies`` start the cookie jar (e.g. an ``atlas_route`` to stay on one replica). With
    ``keep_open`` the websocket stays open and is returned as ``session.connection`` (the caller
    closes it), to hold a session while others are measured. ``assets`` (paths with their query
    strings) are fetched after the page and ``frame_assets`` after the run, six at a time, with the
    session's cookies; one that fails is a SessionError. ``ready_s`` is then when a browser would
    have everything it needs to draw. ``follow_ups`` (serialised BackMsgs) are sent after that, and the
    run they cause is followed to its end (``later``, ``settled_s``).
    """
    query = urlencode(query) if isinstance(query, dict) else query.lstrip("?")
    base = base_url.rstrip("/")
    url = f"{base}/{page}" + (f"?{query}" if query else "")
    parts = urlsplit(base)
    jar = http.cookiejar.CookieJar()
    opener = _opener(jar)
    for name, value in (cookies or {}).items():
        jar.set_cookie(_cookie(name, value, parts.hostname or "127.0.0.1"))
    session = Session(url=url, page=page, query=query, base_url=base)
    start = time.monotonic()
    remaining = _time_left(start + timeout, f"{url}: no script_finished within {timeout:.0f} s")

    headers = {"User-Agent": USER_AGENT, "Accept": "text/html"}
    try:
        with opener.open(urllib.request.Request(url, headers=headers), timeout=remaining()) as r:
            body = r.read()
            session.replica = r.headers.get(REPLICA_HEADER)
        if b"<html" not in body[:4000].lower() and b"<!doctype" not in body[:4000].lower():
            raise SessionError(f"{url}: the page is not HTML")
        session.page_s = time.monotonic() - start
        if assets:
            _fetch_all(jar, base, assets, session, remaining)
            session.assets_s = time.monotonic() - start
        for path in ("/_stcore/health", "/_stcore/host-config"):
            with opener.open(urllib.request.Request(base + path, headers=headers), timeout=remaining()) as r:
                r.read()
    except OSError as exc:
        raise SessionError(f"{url}: {exc}") from exc

    session.cookies = {c.name: c.value for c in jar}
    ws_url = ("wss" if parts.scheme == "https" else "ws") + f"://{parts.netloc}{parts.path}/_stcore/stream"
    protocols = [Subprotocol("streamlit")]
    if session.cookies.get(XSRF_COOKIE):
        protocols.append(Subprotocol(session.cookies[XSRF_COOKIE]))
    cookie_header = "; ".join(f"{k}={v}" for k, v in session.cookies.items())
    with contextlib.ExitStack() as stack:
        try:
            ws = stack.enter_context(
                connect(
                    ws_url,
                    origin=Origin(f"{parts.scheme}://{parts.netloc}"),
                    subprotocols=protocols,
                    additional_headers={"Cookie": cookie_header} if cookie_header else None,
                    user_agent_header=USER_AGENT,
                    proxy=None,
                    open_timeout=remaining(),
                    max_size=None,  # a map's arguments run to megabytes
                    max_queue=None,  # never stop reading (a close must not wait behind unread messages)
                    close_timeout=2,
                )
            )
        except Exception as exc:
            raise SessionError(f"{ws_url}: websocket did not open: {type(exc).__name__}: {exc}") from exc
        session.connected_s = time.monotonic() - start
        session.stream_replica = ws.response.headers.get(REPLICA_HEADER) if ws.response else None
        session.current_query = query
        try:
            ws.send(rerun_message(query, page, url).SerializeToString())
            _receive_run(ws, session, start, remaining)
            if frame_assets:
                _fetch_all(jar, base, frame_assets, session, remaining)
            session.ready_s = time.monotonic() - start
            if follow_ups:
                for raw in follow_ups:
                    ws.send(raw)
                later = Session(url=url, page=page, query=query)
                _receive_run(ws, later, start, remaining)
                session.later = later.messages
                session.settled_s = time.monotonic() - start
        except ConnectionClosed as exc:
            raise SessionError(f"{url}: the server closed the websocket ({exc})") from exc
        if keep_open:
            session.connection = ws
            stack.pop_all()  # the caller closes it
    return session


def _fetch_all(
    jar: http.cookiejar.CookieJar, base: str, paths: Sequence[str], session: Session, remaining
) -> None:
    """GET every path as a browser does: over ``BROWSER_CONNECTIONS`` kept-alive connections at once,
    with the session's cookies and gzip accepted; count requests and bytes. A status of 400 or more,
    or a connection that fails twice, is a SessionError."""
    parts = urlsplit(base)
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip", **({"Cookie": cookie} if cookie else {})}
    lanes = [list(paths[i::BROWSER_CONNECTIONS]) for i in range(BROWSER_CONNECTIONS)]

    def lane(todo: list[str]) -> list[int]:
        sizes: list[int] = []
        conn = None
        try:
            for path in todo:
                for attempt in (1, 2):  # a kept-alive connection the server closed meanwhile: once more
                    if conn is None:
                        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=remaining())
                    try:
                        conn.request("GET", parts.path + path, headers=headers)
                        response = conn.getresponse()
                        body = response.read()
                    except (OSError, http.client.HTTPException) as exc:
                        conn.close()
                        conn = None
                        if attempt == 2:
                            raise SessionError(f"{session.url}: {path}: {exc}") from exc
                        continue
                    if response.status >= 400:
                        raise SessionError(f"{session.url}: {path}: HTTP {response.status}")
                    sizes.append(len(body))
                    break
        finally:
            if conn is not None:
                conn.close()
        return sizes

    with ThreadPoolExecutor(max_workers=BROWSER_CONNECTIONS) as pool:
        sizes = [n for lane_sizes in pool.map(lane, [t for t in lanes if t]) for n in lane_sizes]
    session.asset_requests += len(sizes)
    session.asset_bytes += sum(sizes)


def rerun(session: Session, *, timeout: float = 60.0, quiet: float = 0.5) -> Session:
    """Run the page again on a session opened with ``keep_open`` (as a widget change does) and
    return that run as a new Session on the same connection (``finished_s`` counted from the request).

    Messages the server sent meanwhile (the page's own later runs) are read first, until it has been
    quiet for ``quiet`` seconds. Raises SessionError if the websocket was closed or the run does not
    finish within ``timeout``.
    """
    ws, start, remaining = _rerun_clock(session, timeout)
    try:
        while True:  # what the server sent since: not part of this run
            ws.recv(timeout=min(quiet, remaining()))
    except TimeoutError:
        pass
    except ConnectionClosed as exc:
        raise SessionError(f"{session.url}: the websocket was closed ({exc})") from exc
    again = Session(url=session.url, page=session.page, query=session.query, base_url=session.base_url,
                    replica=session.replica, stream_replica=session.stream_replica, cookies=session.cookies,
                    session_id=session.session_id, connection=ws)  # fmt: skip
    try:
        ws.send(rerun_message(session.query, session.page, session.url).SerializeToString())
    except ConnectionClosed as exc:
        raise SessionError(f"{session.url}: the websocket was closed ({exc})") from exc
    _receive_run(ws, again, start, remaining)
    again.ready_s = again.finished_s
    return again


def _rerun_clock(session: Session, timeout: float) -> tuple[Any, float, Callable[[], float]]:
    """A kept-open session's websocket, the rerun's start and its ``remaining()`` (SessionError when
    the session was not kept open, or once ``timeout`` has passed)."""
    if session.connection is None:
        raise SessionError(f"{session.url}: the session was not kept open (open it with keep_open=True)")
    start = time.monotonic()
    message = f"{session.url}: no script_finished within {timeout:.0f} s of the rerun"
    return session.connection, start, _time_left(start + timeout, message)


def close(session: Session) -> None:
    """Close a kept-open session's websocket (quietly if it is already gone)."""
    if session.connection is not None:
        with contextlib.suppress(Exception):
            session.connection.close()
        session.connection = None


def widget_rerun(session: Session, widgets: dict[str, Any], *, timeout: float = 60.0) -> float:
    """Run ``session``'s page again as the browser does when ``widgets`` report these values (see
    :func:`widget_rerun_message`); the session must have been opened with ``keep_open``. Returns the
    seconds until that run finished; its messages are added to ``session.messages``."""
    ws, start, remaining = _rerun_clock(session, timeout)
    ws.send(widget_rerun_message(session, widgets).SerializeToString())
    finished = session.finished_s
    _receive_run(ws, session, start, remaining)
    seconds = session.finished_s
    session.finished_s = finished  # the first run's figure stays what it was
    return seconds


def _receive_run(ws, session: Session, start: float, remaining) -> None:
    """Collect ForwardMsgs into ``session`` until its script run finishes."""
    while True:
        try:
            data = ws.recv(timeout=remaining())
        except TimeoutError as exc:
            raise SessionError(f"{session.url}: no script_finished in time") from exc
        except ConnectionClosed as exc:
            raise SessionError(f"{session.url}: the server closed the websocket ({exc})") from exc
        if isinstance(data, str):
            raise SessionError(f"{session.url}: a text frame from the server: {data[:200]!r}")
        session.bytes_received += len(data)
        msg = ForwardMsg()
        msg.ParseFromString(data)
        session.messages.append(msg)
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            session.session_id = msg.new_session.initialize.session_id
            session.page_script_hash = msg.new_session.page_script_hash or session.page_script_hash
        elif kind == "navigation":
            session.page_script_hash = msg.navigation.page_script_hash or session.page_script_hash
        elif kind == "page_info_changed":
            session.current_query = msg.page_info_changed.query_string
        elif kind == "delta" and session.first_delta_s is None:
            session.first_delta_s = time.monotonic() - start
        elif kind == "page_not_found":
            raise SessionError(f"{session.url}: Streamlit says the page {session.page!r} does not exist")
        elif kind == "script_finished":
            status = FINISHED.get(msg.script_finished, str(msg.script_finished))
            if status in ("rerun", "fragment"):
                continue  # the page's own rerun (a widget writing the URL, ...): wait for its end
            session.status = status
            session.finished_s = time.monotonic() - start
            return


def _cookie(name: str, value: str, domain: str) -> http.cookiejar.Cookie:
    return http.cookiejar.Cookie(
        version=0, name=name, value=value, port=None, port_specified=False, domain=domain,
        domain_specified=False, domain_initial_dot=False, path="/", path_specified=True, secure=False,
        expires=None, discard=True, comment=None, comment_url=None, rest={}, rfc2109=False,
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.wsclient URL [PAGE] [QUERY]``: one session's timings, as JSON."""
    import argparse

    p = argparse.ArgumentParser(prog="python -m bench.wsclient", description=main.__doc__)
    p.add_argument("url")
    p.add_argument("page", nargs="?", default="")
    p.add_argument("query", nargs="?", default="")
    args = p.parse_args(argv)
    s = open_session(args.url, args.page, args.query)
    print(json.dumps(s.summary(), indent=1))
    return 0 if s.status == "finished" and not s.exceptions() else 1


if __name__ == "__main__":
    raise SystemExit(main())
