"""dashboard.ui.folium_component_args sends the map component exactly what st_folium would.

The map page calls streamlit-folium's component with arguments computed once per selection
(ui.atlas_map) instead of st_folium re-rendering the map on every rerun; this pins that shortcut to
the installed streamlit-folium, so an upgrade that changes st_folium fails here, not in a browser.
"""

from __future__ import annotations

import pytest
import streamlit_folium

from dashboard import ui
from dashboard.data import load_atlas_partial
from dashboard.filters import Filters, select
from dashboard.mapping import build_map


@pytest.fixture(scope="module")
def points():
    atlas, _ = load_atlas_partial()
    return select(atlas, Filters()).points


def _st_folium_args(monkeypatch, m, key):
    sent = {}
    monkeypatch.setattr(streamlit_folium, "_component_func", lambda **kw: sent.update(kw))
    streamlit_folium.st_folium(
        m, key=key, height=640, use_container_width=True, returned_objects=["last_object_clicked"]
    )
    return sent


def test_component_args_equal_st_folium(monkeypatch, points):
    ours = ui.folium_component_args(build_map(points, lang="ja", layer="data"), "atlas_map_ja")
    theirs = _st_folium_args(monkeypatch, build_map(points, lang="ja", layer="data"), "atlas_map_ja")
    assert theirs.pop("height") == 640
    assert theirs.pop("width") is None
    theirs.pop("on_change")
    assert set(ours) == set(theirs)
    for name, value in theirs.items():
        assert ours[name] == value, name
    assert ours["default"] == {"last_object_clicked": None}
    assert ours["js_links"]
    assert all(link.startswith("/app/static/") for link in ours["js_links"])


def test_component_key_follows_the_points(points):
    """Another selection is another map (a new key); the same selection keeps the key."""
    a = ui.folium_component_args(build_map(points, lang="en", layer="data"), "atlas_map_en")
    b = ui.folium_component_args(build_map(points, lang="en", layer="data"), "atlas_map_en")
    fewer = ui.folium_component_args(build_map(points.iloc[:5], lang="en", layer="data"), "atlas_map_en")
    assert a["key"] == b["key"] != fewer["key"]
    assert len(points) > 5
    assert str(points.iloc[0]["id"]) in a["script"]
