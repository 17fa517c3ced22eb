"""Opening a page by its own address, in Chromium: no detour through ``<page>/_stcore/health``, the
websocket at the app's root, the stylesheet in place without a script run sending it; and the same
behind a path prefix (``server.baseUrlPath``, as a city's proxy may add). See
dashboard/shell/streamlit_private.py (``install_page_head``) and tests/test_page_head.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench._server import streamlit_server
from dashboard.core.text import t
from tests.browser.conftest import open_watched, save_failure
from tests.browser.pageutil import goto, heading

pytestmark = pytest.mark.browser

CAPTION_INK = "rgb(80, 82, 92)"  # base.css: captions dark enough to read (#50525c)


def _requests(page) -> list[str]:
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url))
    return seen


def _sockets(page) -> list[str]:
    seen: list[str] = []
    page.on("websocket", lambda ws: seen.append(ws.url))
    return seen


@pytest.mark.parametrize("page_path", ["map", "timeline", "sources", ""])
def test_a_page_opened_by_its_address_goes_straight_to_the_apps_root(server, browsed, page_path):
    page = browsed.page
    requests, sockets = _requests(page), _sockets(page)
    goto(page, server, f"/{page_path}?lang=en")
    if page_path:
        assert [u for u in requests if f"/{page_path}/_stcore/" in u] == []  # no probe under the page
    assert f"{server}/_stcore/health" in requests
    assert sockets == [server.replace("http://", "ws://") + "/_stcore/stream"]
    # the stylesheet came with the page's HTML, not as an element of the page
    ink = page.locator('[data-testid="stCaptionContainer"]').first.evaluate("e => getComputedStyle(e).color")
    assert ink == CAPTION_INK
    assert page.locator('[data-testid="stHtml"]').count() == 0
    assert browsed.watch.problems(allow_basemap=True) == []


@pytest.fixture(scope="module")
def prefixed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with streamlit_server(log_dir=tmp_path_factory.mktemp("prefixed"), base_path="atlas") as srv:
        yield srv.url


def test_behind_a_path_prefix_a_page_opens_the_same_way(prefixed, browser, request):
    b = open_watched(browser)
    try:
        page = b.page
        requests, sockets = _requests(page), _sockets(page)
        goto(page, prefixed, "/timeline?lang=en")
        assert heading(page) == t("page_timeline", "en")
        assert [u for u in requests if "/atlas/timeline/_stcore/" in u] == []
        assert f"{prefixed}/_stcore/health" in requests
        assert sockets == [prefixed.replace("http://", "ws://") + "/_stcore/stream"]
        assert b.watch.problems() == []
    finally:
        save_failure(request, b)
        b.context.close()
