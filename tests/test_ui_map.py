"""dashboard.shell.ui.folium_component_args sends the map component exactly what st_folium would.

The map page calls streamlit-folium's component with arguments computed once per selection
(ui.atlas_map) instead of st_folium re-rendering the map on every rerun; this pins that shortcut to
the installed streamlit-folium, so an upgrade that changes st_folium fails here, not in a browser.
"""

from __future__ import annotations

import pytest
import streamlit_folium

from dashboard.atlasmap.builder import build_map
from dashboard.core.data import load_atlas_partial
from dashboard.core.filters import Filters, select
from dashboard.shell import ui


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


def test_atlas_map_keeps_its_frame_across_selections(points):
    """The map page's component key depends only on the page's key (language), so the browser keeps
    the frame and swaps the selection's layers; each selection's points are in its swap code."""
    a = ui.atlas_map_args(build_map(points, lang="en", layer="data"), "atlas_map_en", "all")
    few = ui.atlas_map_args(build_map(points.iloc[:5], lang="en", layer="data"), "atlas_map_en", "five")
    ja = ui.atlas_map_args(build_map(points, lang="ja", layer="data"), "atlas_map_ja", "all")
    assert a["key"] == few["key"] != ja["key"]
    for args, n, token in ((a, len(points), "all"), (few, 5, "five")):
        assert args["feature_group"].startswith(f'window.atlasMap.swap("{token}", function () {{')
        assert args["feature_group"].count("L.markerClusterGroup(") == args["script"].count(
            "L.markerClusterGroup("
        ) + len({*points.iloc[:n]["organisation"]})
        assert str(points.iloc[n - 1]["id"]) in args["feature_group"]
        assert str(points.iloc[n - 1]["id"]) not in args["script"]
        assert "window.atlasMap.swap = function" in args["script"]
        assert "atlas-fullscreen" in args["script"]
        assert "atlas-legend" in args["feature_group"]
    assert a["default"] == {"last_object_clicked": None, "last_object_clicked_count": 0}
