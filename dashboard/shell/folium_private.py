"""The one place that names streamlit-folium's private helpers.

``streamlit_folium.st_folium`` renders the whole folium map to strings on every call and keys its
component by a hash of that script, so a new selection would mean a new frame that loads Leaflet and
the outline again. The atlas instead renders its base map once (per language) and sends each
selection as data through the component's ``feature_group`` argument, which the frame evaluates in the
map it already has. Doing that needs the pieces st_folium assembles from private helpers; they are
all here. The versions this was tested with are pinned in pyproject.toml, and
tests/test_ui_map.py compares :func:`component_args` with what ``st_folium`` itself sends, so an
upgrade that changes them fails there first.
"""

from __future__ import annotations

from typing import Any

import folium
import folium.elements
from streamlit_folium import (  # the private helpers
    _component_func,
    _get_header,
    _get_html,
    _get_map_string,
    generate_js_hash,
    get_full_id,
)

__all__ = ["TESTED_VERSIONS", "component_args", "component_func", "first_report", "generate_js_hash"]

# streamlit-folium versions this module was written against (pinned in pyproject.toml).
TESTED_VERSIONS = ("0.27.4",)
component_func = _component_func

_CLICK_FIELDS = (
    "last_clicked",
    "last_object_clicked",
    "last_object_clicked_count",
    "last_object_clicked_tooltip",
    "last_object_clicked_popup",
    "all_drawings",
    "last_active_drawing",
)
_OTHER_FIELDS = (
    "last_circle_radius",
    "last_circle_polygon",
    "selected_layers",
    "selected_tags",
    "last_geocoder_result",
)

# The fields streamlit-folium's frame reports, in the order it reports them, with their values before
# any click (frontend/src/index.tsx: updateComponentValue's ``_data`` and the ``__GLOBAL_DATA__`` it
# starts from). Its frame reports them when the map starts and whenever they change from what it last
# reported; it starts from the component's ``default``.
FRONTEND_FIELDS: dict[str, Any] = {
    "last_clicked": None,
    "last_object_clicked": None,
    "last_object_clicked_count": 0,
    "last_object_clicked_tooltip": None,
    "last_object_clicked_popup": None,
    "all_drawings": None,
    "last_active_drawing": None,
    "last_geocoder_result": None,
}


def first_report(returned_objects: tuple[str, ...]) -> dict[str, Any]:
    """What streamlit-folium's frame reports when the map starts, for these ``returned_objects`` (only the
    click fields; the view's bounds and zoom change as the map fits its points). As the component's
    ``default`` it makes that first report no change: no script run. (``st_folium``'s own defaults differ
    from it (``last_object_clicked_count`` None, not 0), so every st_folium map reruns its app once.)"""
    return {k: v for k, v in FRONTEND_FIELDS.items() if k in returned_objects}


def component_args(
    m: folium.Map, key: str | None, returned_objects: tuple[str, ...] | None
) -> dict[str, Any]:
    """The arguments ``st_folium(m, key=key, returned_objects=...)`` sends to its component (no feature
    groups, no layer control, no hover), without ``height``, ``width`` and ``on_change``."""
    m.get_root().render()
    m.render()
    html = _get_html(m)  # before _get_map_string, which alters the folium structure
    header = _get_header(m)
    leaflet = _get_map_string(m)
    m_id = get_full_id(m)
    try:
        (s, w), (n, e) = m.get_bounds()
        bounds = {"_southWest": {"lat": s, "lng": w}, "_northEast": {"lat": n, "lng": e}}
    except AttributeError:
        bounds = {"_southWest": {"lat": None, "lng": None}, "_northEast": {"lat": None, "lng": None}}
    defaults: dict[str, Any] = dict.fromkeys(_CLICK_FIELDS)
    defaults.update(bounds=bounds, zoom=m.options.get("zoom"))
    defaults.update(dict.fromkeys(_OTHER_FIELDS))
    if returned_objects is not None:
        defaults = {k: v for k, v in defaults.items() if k in returned_objects}

    # (st_folium also adds d3 from the web for a branca ColorMap; the atlas draws none.)
    def walk(el):
        if isinstance(el, folium.elements.JSCSSMixin):
            yield el
        for child in getattr(el, "_children", {}).values():
            yield from walk(child)

    css_links: list[str] = []
    js_links: list[str] = []
    for el in walk(m):
        css_links.extend(href for _, href in getattr(el, "default_css", []))
        js_links.extend(src for _, src in getattr(el, "default_js", []))
    return {
        "script": leaflet,
        "header": header,
        "html": html,
        "id": m_id,
        "key": generate_js_hash(leaflet, key, False),
        "returned_objects": list(returned_objects) if returned_objects is not None else None,
        "default": defaults,
        "zoom": None,
        "center": None,
        "feature_group": None,
        "return_on_hover": False,
        "layer_control": None,
        "pixelated": False,
        "css_links": list(dict.fromkeys(css_links)),
        "js_links": list(dict.fromkeys(js_links)),
        "wrap_longitude": False,
    }
