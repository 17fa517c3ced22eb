"""The app on hostile data in a real browser: no script from the data runs, the text shows as written.

The server runs with ``ATLAS_DATA_DIR=tests/fixtures/hostile`` (names, addresses, missions and
sources holding ``<script>alert(1)</script>``, ``<img src=x onerror=alert(2)>``, ``javascript:``
links, template literals...). Any alert() that ran would open a dialog: the page records dialogs
and the test asserts there were none, and that no injected element exists, in the app's page or
inside the map's iframe, while the hostile text is visible literally (popup, tooltip, chart labels,
the compare page).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.conftest import open_watched, save_failure
from tests.browser.pageutil import goto, map_frame, poll
from tests.test_load import serve

pytestmark = pytest.mark.browser

HOSTILE = Path(__file__).resolve().parent.parent / "fixtures" / "hostile"
INJECTED = "img[src='x'], svg[onload], [onerror], [onclick], a[href^='javascript' i], iframe[srcdoc*='alert']"
# as a click on its marker and a hover over it do
OPEN_BONN = """(method) => method === 'openPopup'
  ? window.atlasMap.openPoint('net-bonn') : window.atlasMap.openTooltip('net-bonn')"""
# a <script> element made from the data would hold exactly the data's "alert(1)"
SCRIPT_WITH_ALERT = (
    "() => [...document.scripts].filter(s => /^\\s*alert\\(\\d+\\)\\s*$/.test(s.textContent)).length"
)


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory) -> Iterator[str]:
    with serve(tmp_path_factory.mktemp("hostile-server"), HOSTILE) as server:
        yield server.url


@pytest.fixture
def watched(browser, request):
    b = open_watched(browser)
    dialogs: list[str] = []
    b.page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    b.dialogs = dialogs
    try:
        yield b
    finally:
        save_failure(request, b)
        b.context.close()


def _no_injection(frame, where: str) -> None:
    assert frame.locator(INJECTED).count() == 0, f"{where}: an injected element"
    assert frame.evaluate(SCRIPT_WITH_ALERT) == 0, f"{where}: a <script> holding the data's alert()"


@pytest.mark.parametrize("path", ["/", "/timeline", "/membership", "/sources", "/compare?compare=net,node"])
def test_pages_run_no_script_from_the_data(hostile_server, watched, path):
    page = watched.page
    sep = "&" if "?" in path else "?"
    goto(page, hostile_server, f"{path}{sep}lang=en")
    page.wait_for_timeout(1000)  # let charts and tables finish drawing
    _no_injection(page, path)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert watched.dialogs == []


def test_map_popup_and_tooltip_show_the_hostile_text_as_written(hostile_server, watched):
    page = watched.page
    goto(page, hostile_server, "/map?lang=en")
    frame = map_frame(page)
    poll(lambda: frame.evaluate("document.querySelectorAll('.leaflet-interactive').length"), lambda n: n > 0)
    # open the Bonn office's popup and tooltip, as a click and a hover on its marker do
    opened = frame.evaluate(OPEN_BONN, "openPopup")
    assert opened, "the marker of net-bonn is not on the map"
    popup = frame.locator(".leaflet-popup-content")
    popup.wait_for(timeout=15_000)
    text = popup.inner_text()
    assert "<script>alert(1)</script> Secretariat" in text
    assert "<img src=x onerror=alert(2)>本部" in text
    assert "javascript:alert(3) `${alert(4)}` \"double\" 'single' {{ 7 * 191 }}" in text
    frame.evaluate(OPEN_BONN, "openTooltip")
    tooltip = frame.locator(".leaflet-tooltip")
    tooltip.first.wait_for(timeout=15_000)
    assert "<script>alert(1)</script> Secretariat" in tooltip.first.inner_text()
    assert popup.locator("img, script, svg, a[href^='javascript' i]").count() == 0
    _no_injection(frame, "map iframe")
    _no_injection(page, "map page")
    assert watched.dialogs == []


def test_chart_labels_and_shared_themes_are_literal_text(hostile_server, watched):
    page = watched.page
    goto(page, hostile_server, "/timeline?lang=en")
    ticks = poll(
        lambda: page.evaluate("[...document.querySelectorAll('.ytick text')].map(t => t.textContent)"),
        lambda t: len(t) >= 2,
    )
    assert "TN<b>!</b>" in ticks  # the escaped short name shows its brackets; nothing is bold
    assert page.locator(".ytick text b, .ytick text tspan[style*='bold']").count() == 0
    goto(page, hostile_server, "/compare?lang=en&compare=net,node")
    shared = page.locator('[data-testid="stAlertContentSuccess"]').inner_text()
    assert "Climate <script>alert(1)</script>" in shared
    _no_injection(page, "compare")
    assert watched.dialogs == []
