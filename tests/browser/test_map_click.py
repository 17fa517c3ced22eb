"""Clicking a place on the map shows its details beside the map (st_folium's last_object_clicked)."""

from __future__ import annotations

import pytest

from dashboard.core.data import load_atlas
from dashboard.core.filters import Filters, select
from dashboard.core.i18n import t
from tests.browser.pageutil import goto, map_frame, poll, settled_map_state

pytestmark = pytest.mark.browser


def test_clicking_a_marker_shows_its_details(server, browsed):
    sel = select(load_atlas(), Filters(regions=("oceania",), organisations=("iclei",)))
    assert len(sel.points) == 1  # ICLEI's Oceania Secretariat in Melbourne
    office = sel.points.iloc[0]
    page = browsed.page
    goto(page, server, "/map?region=oceania&org=iclei&lang=en")
    frame = map_frame(page)
    settled_map_state(frame, expected=1)
    details = page.locator('[data-testid="stMain"] [data-testid="stColumn"]').nth(1)
    assert t("map_click_hint", "en") in details.inner_text()
    frame.locator(".leaflet-overlay-pane path.leaflet-interactive").first.click(force=True)
    wanted = [office["name_en"], office["address"].split(",")[0], office["source_title"]]
    text = poll(details.inner_text, lambda s: all(w in s for w in wanted), timeout=20)  # drawn in steps
    assert office["name_en"] in text
    assert office["address"].split(",")[0] in text  # the address as written in the source
    assert office["source_title"] in text
