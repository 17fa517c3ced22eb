"""The map component's Streamlit side (dashboard.shell): the one module of streamlit-folium's private
names sends exactly what st_folium would, and the map page keeps one frame across selections.

The map page calls streamlit-folium's component with the base map rendered once per language and
each selection as data in the component's ``feature_group`` code, instead of st_folium re-rendering
the whole map on every rerun; this pins that shortcut to the installed streamlit-folium, so an
upgrade that changes st_folium fails here, not in a browser.
"""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path

import pytest
import streamlit_folium

from dashboard.atlasmap.builder import SHOW_MARK, base_map, selection_data, show_call, shown_data
from dashboard.core import paths
from dashboard.core.data import load_atlas_partial
from dashboard.core.filters import Filters, select
from dashboard.shell import folium_private, map_component


@pytest.fixture(scope="module")
def atlas():
    return load_atlas_partial()[0]


def _st_folium_args(monkeypatch, m, key):
    sent = {}
    monkeypatch.setattr(streamlit_folium, "_component_func", lambda **kw: sent.update(kw))
    streamlit_folium.st_folium(
        m, key=key, height=640, use_container_width=True, returned_objects=["last_object_clicked"]
    )
    return sent


def test_the_tested_streamlit_folium_is_installed_and_pinned():
    assert version("streamlit-folium") in folium_private.TESTED_VERSIONS
    pyproject = (paths.ROOT / "pyproject.toml").read_text(encoding="utf-8")
    pins = re.findall(r'"streamlit-folium==([0-9.]+)"', pyproject)
    assert pins == [version("streamlit-folium")]


def test_component_args_equal_st_folium(monkeypatch):
    ours = folium_private.component_args(
        base_map("ja", report=True), "atlas_map_ja", ("last_object_clicked",)
    )
    theirs = _st_folium_args(monkeypatch, base_map("ja", report=True), "atlas_map_ja")
    assert theirs.pop("height") == 640
    assert theirs.pop("width") is None
    theirs.pop("on_change")
    assert set(ours) == set(theirs)
    for name, value in theirs.items():
        assert ours[name] == value, name
    assert ours["js_links"] == ["/app/static/atlas-map.bundle.js"]  # Leaflet, supercluster, the map code
    assert ours["css_links"] == ["/app/static/atlas-map.bundle.css"]


def _frontend_bundle() -> str:
    build = Path(streamlit_folium.__file__).parent / "frontend" / "build" / "static" / "js"
    (bundle,) = build.glob("main.*.js")
    return bundle.read_text(encoding="utf-8")


def test_the_map_s_default_is_what_streamlit_folium_s_frame_reports_first():
    """The frame reports its click fields when the map starts, and reruns the app if they differ from
    the component's default: the atlas's default is that report, so opening the map costs no extra run
    (checked in a browser by tests/browser/test_browser_app.py, which counts the runs)."""
    js = _frontend_bundle()
    # the fields the frame reports, in its order, and the values it starts from
    reported = re.search(r"last_clicked:[^,]*,(last_object_clicked:.*?selected_tags:[^}]*)\}", js).group(1)
    assert [f.split(":")[0] for f in reported.split(",") if ":" in f][:7] == list(
        folium_private.FRONTEND_FIELDS
    )[1:8]
    start = re.search(r"lat_lng_clicked:null,(last_object_clicked:null,last_object_clicked_count:0,)", js)
    assert start, "streamlit-folium's frame no longer starts from last_object_clicked_count 0"
    assert folium_private.first_report(map_component.RETURNED) == {
        "last_object_clicked": None,
        "last_object_clicked_count": 0,
    }
    assert list(folium_private.first_report(map_component.RETURNED)) == [
        k for k in folium_private.FRONTEND_FIELDS if k in map_component.RETURNED
    ]


def test_the_base_map_holds_no_selection_and_the_selection_no_code(atlas):
    """Each selection travels as data (JSON) in one call; the base map (the frame's script) is the same
    for every selection, so the browser keeps the frame and swaps the data."""
    base = folium_private.component_args(base_map("en", report=True), None, None)
    every = select(atlas, Filters(lang="en"))
    europe = select(atlas, Filters(lang="en", regions=("europe",)))
    calls = {
        name: show_call(name, selection_data(sel.points, "en", atlas=atlas))
        for name, sel in (("all", every), ("europe", europe))
    }
    assert SHOW_MARK not in base["script"]
    assert "window.atlasMap.init(" in base["script"]
    for name, sel in (("all", every), ("europe", europe)):
        code = calls[name]
        assert code.startswith(f'window.atlasMap.show("{name}", {SHOW_MARK}JSON.parse(`{{')
        (data,) = shown_data(code)
        assert data["columns"]["id"] == list(sel.points["id"])
        assert "function" not in code  # data, not code
