"""Real-browser tests: one Streamlit server and one headless Chromium for the whole session.

* The server is ``sys.executable -m streamlit run dashboard/app.py`` on a free port, bound to
  127.0.0.1, started from the repository root (so ``.streamlit/config.toml`` applies: static
  serving on) on the shipped data (``ATLAS_DATA_DIR`` removed from its environment), polled on
  ``/_stcore/health`` until it answers, stopped at the end (datasette's tests/test_playwright.py).
* The browser is Debian's Chromium (``/usr/bin/chromium``; never a downloaded one), headless, with
  background networking off. Every page gets a fresh context whose requests all pass through a
  route: anything not on localhost, ``data:``, ``blob:`` or ``about:`` is aborted and recorded.
  Page errors, console errors and responses >= 400 are recorded too (see :class:`Watch`).
* On failure, a full-page screenshot and the recorded log go to ``test-artifacts/`` (gitignored).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest

from bench._server import streamlit_server
from dashboard.atlasmap import builder as mapping
from dashboard.core import paths
from dashboard.core.schema import PAGES as SCHEMA_PAGES
from tests.browser.pageutil import FILTERS_FALLBACK_S
from tests.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: F401 (re-exported for other test files)

ROOT = paths.ROOT
ARTIFACTS = ROOT / "test-artifacts"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}
LOCAL_SCHEMES = ("data:", "blob:", "about:", "file:")
# The map's optional online basemap (mapping.BASEMAP_URL): the only outside request the app makes
# on purpose. Offline it fails quietly and the country outlines remain; tests abort it like any
# other outside request and report it apart (Watch.basemap) so it cannot hide anything else.
BASEMAP_HOST = urlsplit(mapping.BASEMAP_URL.replace("{s}", "a")).hostname.split(".", 1)[1]
# Streamlit probes /<path>/_stcore/health and /host-config before the root ones when it is opened at an
# address it does not know as the root (streamlit/streamlit#7074); those 404s are Streamlit's, not the
# app's. The atlas's own pages tell it their root (dashboard/shell/page_base), so under a page's name
# such a probe is a failure like any other 404.
STREAMLIT_PROBE_404 = re.compile(
    rf"^https?://[^/]+/(?!(?:{'|'.join(SCHEMA_PAGES)})/)[^/]+/_stcore/(health|host-config|allowed-message-origins)$"
)
VIEWPORT = {"width": 1400, "height": 1000}


# ---------------------------------------------------------------------------------- the server
@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a real Streamlit server running the atlas on the shipped data."""
    # The filters' fallback (when a map never reports it is drawn) waits longer than any map here
    # takes, so a test can tell the map's own report from the fallback.
    env = {"ATLAS_FILTERS_FALLBACK_S": str(FILTERS_FALLBACK_S)}
    with streamlit_server(log_dir=tmp_path_factory.mktemp("streamlit"), env=env) as srv:
        yield srv.url


# ---------------------------------------------------------------------------------- the browser


def _is_local(url: str) -> bool:
    if url.startswith(LOCAL_SCHEMES):
        return True
    parts = urlsplit(url)
    return parts.scheme in ("http", "https", "ws", "wss") and (parts.hostname or "") in LOCAL_HOSTS | {"::1"}


@dataclass
class Watch:
    """Everything a page did that a person offline would notice (or a test should)."""

    outside: list[str] = field(default_factory=list)  # aborted requests that would leave the machine
    basemap: list[str] = field(default_factory=list)  # aborted basemap tiles (the optional online layer)
    page_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    bad_responses: list[str] = field(default_factory=list)  # "404 http://..."
    _aborted: set[str] = field(default_factory=set)
    _probes: set[str] = field(default_factory=set)

    def route(self, route) -> None:
        url = route.request.url
        if _is_local(url):
            route.continue_()
            return
        host = urlsplit(url).hostname or ""
        (self.basemap if host.endswith(BASEMAP_HOST) else self.outside).append(url)
        self._aborted.add(url)
        route.abort()

    def response(self, response) -> None:
        if response.status < 400:
            return
        if response.status == 404 and STREAMLIT_PROBE_404.match(response.url):
            self._probes.add(response.url)
            return
        self.bad_responses.append(f"{response.status} {response.url}")

    def console(self, msg) -> None:
        if msg.type != "error":
            return
        where = (msg.location or {}).get("url", "")
        if where in self._aborted or where in self._probes:
            return  # the aborted request or Streamlit's own probe, already accounted for
        self.console_errors.append(f"{msg.text} @ {where}")

    def problems(self, *, allow_basemap: bool = False) -> list[str]:
        out = [f"request left localhost: {u}" for u in self.outside]
        if not allow_basemap:
            out += [f"basemap request on a page without a map: {u}" for u in self.basemap]
        out += [f"page error: {e}" for e in self.page_errors]
        out += [f"console error: {e}" for e in self.console_errors]
        out += [f"HTTP {r}" for r in self.bad_responses]
        return out

    def report(self) -> str:
        return "\n".join(
            [f"outside: {u}" for u in self.outside]
            + [f"basemap (aborted): {u}" for u in self.basemap[:5]]
            + [f"pageerror: {e}" for e in self.page_errors]
            + [f"console: {e}" for e in self.console_errors]
            + [f"response: {r}" for r in self.bad_responses]
        )


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    rep = yield
    setattr(item, f"rep_{rep.when}", rep)  # read by the page fixture to screenshot failures
    return rep


def _artifact_name(item: pytest.Item) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid.split("::", 1)[-1])[:150]


@dataclass
class Browsed:
    page: object
    watch: Watch
    context: object


def open_watched(browser, *, viewport=None, accept_downloads=False, offline=False) -> Browsed:
    context = browser.new_context(
        viewport=viewport or VIEWPORT, locale="ja-JP", accept_downloads=accept_downloads, offline=offline
    )
    watch = Watch()
    context.route("**/*", watch.route)
    page = context.new_page()
    page.on("pageerror", lambda e: watch.page_errors.append(str(e)))
    page.on("console", watch.console)
    page.on("response", watch.response)
    page.set_default_timeout(30_000)
    return Browsed(page, watch, context)


def save_failure(request: pytest.FixtureRequest, b: Browsed) -> None:
    rep = getattr(request.node, "rep_call", None)
    if rep is None or not rep.failed:
        return
    ARTIFACTS.mkdir(exist_ok=True)
    name = _artifact_name(request.node)
    try:
        b.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    except Exception as exc:  # the page may be gone; the log is still worth keeping
        (ARTIFACTS / f"{name}.screenshot-failed.txt").write_text(repr(exc))
    (ARTIFACTS / f"{name}.log.txt").write_text(f"url: {b.page.url}\n{b.watch.report()}\n")


def _watched(browser, request: pytest.FixtureRequest, **kwargs) -> Iterator[Browsed]:
    b = open_watched(browser, **kwargs)
    try:
        yield b
    finally:
        save_failure(request, b)
        b.context.close()


@pytest.fixture
def browsed(browser, request: pytest.FixtureRequest) -> Iterator[Browsed]:
    """A fresh page (own context: own Streamlit session) with every request watched."""
    yield from _watched(browser, request, accept_downloads=True)


@pytest.fixture
def wide_browsed(browser, request: pytest.FixtureRequest) -> Iterator[Browsed]:
    """Like ``browsed`` with a wide window (a projector at 1920 px and more)."""
    yield from _watched(browser, request, viewport={"width": 2400, "height": 1300})


@pytest.fixture
def new_browsed(browser, request: pytest.FixtureRequest) -> Iterator:
    """Open more watched pages in their own contexts (someone else opening a copied link)."""
    opened: list[Browsed] = []

    def open_one(**kwargs) -> Browsed:
        b = open_watched(browser, **kwargs)
        opened.append(b)
        return b

    yield open_one
    for b in opened:
        save_failure(request, b)
        b.context.close()
