"""The one place that reaches into Streamlit's private internals (as ``folium_private`` does for
streamlit-folium): the guard on links Streamlit drops, the page's HTML telling Streamlit's frontend
where the app's root is (``install_page_head``, below), and the expiry of closed sessions
(``expire_closed_sessions``, at the end).

Streamlit reads a link's query string only when it has at most 1,000 parameters and 512 Ki
characters (``streamlit.runtime.state.query_params.sanitize_query_string``, called by
``AppSession.request_rerun`` on every run the browser asks for). Past either limit it logs a warning
on the server and hands the script an empty query string: the page opens with no filters, and nothing
tells the user their link was not read. The guard wraps that function as ``app_session`` calls it: a
dropped query string becomes one parameter, ``dashboard.core.filters.LINK_DROPPED``, saying which limit
it passed and by how much, and ``from_query_params`` turns it into the same visible notice as any
other malformed link. Streamlit's own limits and behaviour are unchanged.

The guard has to be in place before the first session's first run (that run's query string is read
before any of the app's code runs), so every launcher of the atlas starts Streamlit through
``python -m dashboard.shell.server`` (see that module); app.py installs it too, so a plain
``streamlit run dashboard/app.py`` is guarded from its second session on. Streamlit is pinned
(locks/), and tests/test_url_limits.py opens a real server with a link of 1,001 parameters, so an
upgrade that moves this function fails there first.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from pathlib import Path
from typing import Any

from dashboard.core.filters import LINK_DROPPED
from dashboard.core.safety import escape_html, script_code, script_json, style_code

_lock = threading.Lock()


def install_link_guard() -> bool:
    """Wrap Streamlit's query-string sanitiser (once per process); True when the guard is in place."""
    try:
        from streamlit.runtime import app_session
        from streamlit.runtime.state import query_params
    except ImportError:  # pragma: no cover (a Streamlit without these modules: tests fail first)
        return False
    max_fields = getattr(query_params, "CLIENT_STATE_QUERY_STRING_MAX_FIELDS", 1000)
    max_length = getattr(query_params, "CLIENT_STATE_QUERY_STRING_MAX_LENGTH", 512 * 1024)
    return _wrap_once(
        app_session,
        "sanitize_query_string",
        "atlas_link_guard",
        lambda original: _guarded(original, max_fields, max_length),
    )


def _wrap_once(module: Any, name: str, marker: str, wrap: Callable[[Any], Any]) -> bool:
    """Put ``wrap(module.name)`` in place of ``module.name``, once per process (the wrapper carries
    ``marker``). False when Streamlit has no such name (its test fails first)."""
    with _lock:
        original = getattr(module, name, None)
        if original is None:  # pragma: no cover
            return False
        if getattr(original, marker, False):
            return True
        wrapped = wrap(original)
        setattr(wrapped, marker, True)
        setattr(module, name, wrapped)
        return True


def _guarded(original: Callable[[str], str], max_fields: int, max_length: int) -> Callable[[str], str]:
    def sanitize_query_string(query_string: str) -> str:
        kept = original(query_string)
        if not query_string or kept:
            return kept
        if len(query_string) > max_length:
            return f"{LINK_DROPPED}=length.{len(query_string)}.{max_length}"
        return f"{LINK_DROPPED}=fields.{query_string.count('&') + 1}.{max_fields}"

    return sanitize_query_string


# ------------------------------------------------------------------ the app's root, told up front
# Streamlit's frontend does not know where the app's root is: on a page's address (/map) it asks
# /map/_stcore/health first, gets a 404, waits 100 ms (its first back-off) and only then asks
# /_stcore/health. That detour is about 0.1 s on every shared link to a page, before the first script
# run can even be asked for (bench figure 1). The frontend reads ``window.__streamlit.BACKEND_BASE_URL``
# when a host sets it (Streamlit's embedding configuration); page_base/page_base.js sets it from the
# page's own address and the app's page names, and this middleware puts that script into the page's
# HTML before Streamlit's own. The only private name is the function that lists Streamlit's
# middleware (``starlette_app.create_streamlit_middleware``); tests/test_page_base.py opens a real
# server and fails if an upgrade moves it or the frontend probes again.
PAGE_BASE_JS = Path(__file__).resolve().parent / "page_base" / "page_base.js"
_STREAMLIT_SCRIPT = b'<script type="module"'  # Streamlit's own script in its index.html
_NOT_PAGES = ("/_stcore/", "/static/", "/component/", "/media/")  # never Streamlit's page
_Message = MutableMapping[str, Any]
_Send = Callable[[_Message], Awaitable[None]]


def page_head(pages: Iterable[str], stylesheet: Path | None = None) -> bytes:
    """What goes into the page's HTML: ``stylesheet`` (a constant file) as a ``<style>`` element, and
    page_base.js inline, with the page names in ``data-pages``."""
    css = f"<style>\n{style_code(stylesheet.read_text(encoding='utf-8'))}</style>\n" if stylesheet else ""
    code = script_code(PAGE_BASE_JS.read_text(encoding="utf-8"))
    return f'{css}<script data-pages="{escape_html(script_json(list(pages)))}">{code}</script>\n'.encode()


def with_page_head(html: bytes, tag: bytes) -> bytes:
    """The page's HTML with ``tag`` just before Streamlit's own script; unchanged when that is missing."""
    at = html.find(_STREAMLIT_SCRIPT)
    return html if at < 0 else html[:at] + tag + html[at:]


class PageHeadMiddleware:
    """ASGI middleware: a GET answered with Streamlit's page (HTML, 200, not compressed) gets the tag.

    Streamlit's page is the same file for the root and for every page's address; its length is fixed
    to the new body, and its validators (ETag, Last-Modified) are dropped, as they describe the file
    on disk, not this page. Everything else passes through untouched."""

    def __init__(self, app: Callable[..., Awaitable[None]], tag: bytes) -> None:
        self.app, self.tag = app, tag

    async def __call__(self, scope: _Message, receive: Callable[..., Any], send: _Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or scope.get("method") != "GET" or any(p in path for p in _NOT_PAGES):
            await self.app(scope, receive, send)
            return
        held: _Message | None = None
        chunks: list[bytes] = []

        async def send_page(message: _Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start" and _is_plain_html(message):
                held = message
                return
            if held is None or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = with_page_head(b"".join(chunks), self.tag)
            dropped = {b"content-length", b"etag", b"last-modified"}
            headers = [(k, v) for k, v in held.get("headers", []) if k.lower() not in dropped]
            await send({**held, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, send_page)


def _is_plain_html(start: _Message) -> bool:
    headers = {k.lower(): v for k, v in start.get("headers", [])}
    return (
        start.get("status") == 200
        and headers.get(b"content-type", b"").startswith(b"text/html")
        and b"content-encoding" not in headers
    )


def install_page_head(pages: Iterable[str], stylesheet: Path | None = None) -> bool:
    """Add :class:`PageHeadMiddleware` to the server Streamlit is about to build (once per process;
    before the server starts, as ``python -m dashboard.shell.server`` does), with :func:`page_head`'s
    ``<style>`` and ``<script>``. True when it is in place."""
    try:
        from starlette.middleware import Middleware
        from streamlit.web.server.starlette import starlette_app
    except ImportError:  # pragma: no cover (another Streamlit: tests/test_page_head.py fails first)
        return False
    tag = page_head(pages, stylesheet)

    def wrap(original: Callable[[], list[Middleware]]) -> Callable[[], list[Middleware]]:
        def create_streamlit_middleware() -> list[Middleware]:
            return [*original(), Middleware(PageHeadMiddleware, tag=tag)]

        return create_streamlit_middleware

    return _wrap_once(starlette_app, "create_streamlit_middleware", "atlas_page_head", wrap)


def page_head_installed() -> bool:
    """Whether this process's server puts :func:`page_head` into its page (its stylesheet is then
    there before the first script run; a plain ``streamlit run`` has to send it with every run)."""
    try:
        from streamlit.web.server.starlette import starlette_app
    except ImportError:  # pragma: no cover
        return False
    return bool(getattr(starlette_app.create_streamlit_middleware, "atlas_page_head", False))


def expire_closed_sessions() -> bool:
    """Have Streamlit drop now the sessions closed longer than ``server.disconnectedSessionTTL`` ago.

    Its session storage (a TTL cache) drops an expired session only when it is next written to, that
    is when some later session closes: until then the closed session keeps its last messages (a large
    map among them) in memory. ``state.load`` calls this before handing memory back after a data
    change (tests/test_memory.py). True when it could."""
    try:
        from streamlit.runtime import Runtime

        storage = Runtime.instance()._session_mgr._session_storage
        storage._cache.expire()
    except Exception:  # no runtime (e.g. under AppTest) or another Streamlit: nothing to do
        return False
    return True
