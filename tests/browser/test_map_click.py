"""Clicking a place on the map shows its details beside the map (the map reports the point's id)."""

from __future__ import annotations

import pytest

from dashboard.core.data import load_atlas
from dashboard.core.filters import Filters, select
from dashboard.core.text import t
from tests.browser.pageutil import goto, map_frame, poll, settled_map_state, wait_idle

pytestmark = pytest.mark.browser


def test_clicking_a_marker_shows_its_details(server, browsed):
    sel = select(load_atlas(), Filters(regions=("north-america",), organisations=("can",)))
    assert len(sel.points) == 1  # CAN International's former secretariat in Washington DC
    office = sel.points.iloc[0]
    page = browsed.page
    goto(page, server, "/map?region=north-america&org=can&lang=en")
    frame = map_frame(page)
    settled_map_state(frame, expected=1)
    # the map reported it is drawn and the app drew its filters (map first): the page is still now
    page.locator('[data-testid="stSidebar"] [data-testid="stSlider"]').wait_for()
    wait_idle(page)
    details = page.locator('[data-testid="stMain"] [data-testid="stColumn"]').nth(1)
    assert t("map_click_hint", "en") in details.inner_text()
    frame.locator(".leaflet-overlay-pane path.leaflet-interactive").first.click(force=True)
    atlas = load_atlas()
    wanted = [office["name_en"], office["address"].split(",")[0], atlas.source_title(office["source"])]
    text = poll(details.inner_text, lambda s: all(w in s for w in wanted), timeout=20)  # drawn in steps
    assert office["name_en"] in text
    assert office["address"].split(",")[0] in text  # the address as written in the source
    assert atlas.source_title(office["source"]) in text
