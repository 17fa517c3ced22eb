"""What every page's HTML carries before Streamlit's own script (dashboard/shell/streamlit_private.py,
``install_page_head``): the stylesheet, and where the app's root is.

Streamlit's frontend does not know the app's root: opened at a page's address (a shared link to /map)
it first asks /map/_stcore/health, gets a 404, waits 100 ms and only then asks the root. The page's
HTML now says where the root is (page_base.js), so the detour is gone; the stylesheet comes with the
HTML instead of with every script run. The middleware is checked on its own (fake ASGI apps) and on a
real server started the way every launcher starts the atlas; tests/browser/test_browser_page_head.py opens
pages in Chromium.
"""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from bench._server import streamlit_server
from dashboard.core.schema import PAGES
from dashboard.shell import streamlit_private as sp
from dashboard.shell.server import BASE_CSS

INDEX = (
    b'<html><head><title>x</title>\n<script type="module" src="./static/js/index.js"></script></head></html>'
)


def _serve(status: int, headers: dict[str, str], chunks: list[bytes]):
    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": status,
                    "headers": [(k.encode(), v.encode()) for k, v in headers.items()]})  # fmt: skip
        for i, chunk in enumerate(chunks):
            await send({"type": "http.response.body", "body": chunk, "more_body": i < len(chunks) - 1})

    return app


def _call(app, path: str = "/map", method: str = "GET") -> tuple[int, dict[bytes, bytes], bytes]:
    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    async def receive():  # pragma: no cover (never asked: the fake apps read no body)
        return {"type": "http.request", "body": b""}

    scope = {"type": "http", "method": method, "path": path, "headers": []}
    call = sp.PageHeadMiddleware(app, tag=b"<!--HEAD-->")(scope, receive, send)
    with ThreadPoolExecutor(1) as pool:  # its own event loop (a browser test may have left one running here)
        pool.submit(asyncio.run, call).result()
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], dict(start["headers"]), body


HTML = {"content-type": "text/html; charset=utf-8", "content-length": str(len(INDEX)), "etag": '"abc"',
        "last-modified": "Sun, 29 Nov 2026 10:00:00 GMT", "cache-control": "no-cache"}  # fmt: skip


def test_the_page_gets_the_head_before_streamlits_script_with_its_length_fixed():
    status, headers, body = _call(_serve(200, HTML, [INDEX[:30], INDEX[30:]]))  # in two pieces
    assert status == 200
    assert body == INDEX.replace(b'<script type="module"', b'<!--HEAD--><script type="module"')
    assert headers[b"content-length"] == str(len(body)).encode()
    assert b"etag" not in headers
    assert b"last-modified" not in headers
    assert headers[b"cache-control"] == b"no-cache"


@pytest.mark.parametrize(
    ("status", "headers", "path", "method"),
    [
        (200, {"content-type": "application/json"}, "/map", "GET"),  # not a page
        (200, {**HTML, "content-encoding": "gzip"}, "/map", "GET"),  # compressed: left alone
        (304, HTML, "/map", "GET"),  # nothing to change
        (200, HTML, "/map", "HEAD"),
        (200, HTML, "/static/js/index.js", "GET"),
        (200, HTML, "/_stcore/health", "GET"),
        (200, HTML, "/component/x/index.html", "GET"),  # a component's own page (the map's frame)
    ],
)
def test_everything_else_passes_through_untouched(status, headers, path, method):
    got = _call(_serve(status, headers, [INDEX]), path=path, method=method)
    assert got == (status, {k.encode(): v.encode() for k, v in headers.items()}, INDEX)


def test_a_page_without_streamlits_script_is_left_as_it_is():
    page = b"<html><body>Not Streamlit's page</body></html>"
    _, headers, body = _call(_serve(200, {**HTML, "content-length": str(len(page))}, [page]))
    assert body == page
    assert headers[b"content-length"] == str(len(page)).encode()


def test_the_head_holds_the_stylesheet_and_the_page_names_escaped():
    head = sp.page_head(["map", 'a"b</script><x>'], stylesheet=BASE_CSS).decode()
    assert head.startswith("<style>\n")
    assert "focus-visible" in head
    _style, script = head.split("</style>", 1)
    assert "</script" not in script[: script.rindex("</script>")].lower()  # one script element
    assert 'data-pages="[&#34;map&#34;,&#34;a\\&#34;b\\u003c/script\\u003e\\u003cx\\u003e&#34;]"' in script
    assert "BACKEND_BASE_URL" in script


def test_installing_is_once_per_process_and_seen_by_the_app():
    from streamlit.web.server.starlette import starlette_app

    before = starlette_app.create_streamlit_middleware
    try:
        assert sp.install_page_head(PAGES, stylesheet=BASE_CSS)
        assert sp.install_page_head(PAGES, stylesheet=BASE_CSS)
        assert sp.page_head_installed()
        added = starlette_app.create_streamlit_middleware()
        assert [m.cls for m in added].count(sp.PageHeadMiddleware) == 1  # once, last (inside gzip)
        assert added[-1].cls is sp.PageHeadMiddleware
    finally:
        starlette_app.create_streamlit_middleware = before
    assert not sp.page_head_installed()


def test_the_page_names_the_head_knows_are_the_apps_pages():
    """page_base.js tells a page's address from another by core.schema.PAGES: the app's own list."""
    import ast

    from dashboard.core import paths

    tree = ast.parse((paths.ROOT / "dashboard" / "app.py").read_text(encoding="utf-8"))
    (listed,) = [
        node.value for node in tree.body
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "PAGES" for t in node.targets)
    ]  # fmt: skip
    assert tuple(ast.literal_eval(entry)[0] for entry in listed.elts) == PAGES


# ------------------------------------------------------------------ a real server
@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with streamlit_server(log_dir=tmp_path_factory.mktemp("page-head")) as srv:
        yield srv.url


@pytest.mark.parametrize("path", ["/", "/map", "/timeline?lang=en"])
def test_every_page_address_is_served_with_the_head(server, path):
    with urllib.request.urlopen(server + path, timeout=30) as r:
        body = r.read()
        length = r.headers["Content-Length"]
    assert int(length) == len(body)
    at_style, at_base, at_streamlit = (
        body.find(s) for s in (b"<style>", b"data-pages=", b'<script type="module"')
    )
    assert 0 < at_style < at_base < at_streamlit, body[:2000]
    assert b'"map"' in body.replace(b"&#34;", b'"')


def test_streamlits_own_files_are_unchanged(server):
    with urllib.request.urlopen(server + "/_stcore/health", timeout=30) as r:
        assert r.read() == b"ok"
    with urllib.request.urlopen(server + "/favicon.png", timeout=30) as r:
        assert r.read()[:8] == b"\x89PNG\r\n\x1a\n"
