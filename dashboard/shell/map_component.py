"""The map on the map page: the base map once per frame, each selection swapped into it as data.

What ``st_folium(build_map(...), key=key, returned_objects=["last_object_clicked"])`` would show, but
the browser keeps the map's frame (Leaflet, the outline, the legend's state) when the filters change:
the base map is the component's script, fixed per language and setting (``dashboard.atlasmap.builder
.base_map``); the selection is ``window.atlasMap.show(token, data)``, sent as the component's
``feature_group`` code, which the frame runs whenever it changes. Both are built once and cached
(the base per language, the selection per filters and language). A click comes back as the clicked
point's id (``atlas-map.js`` reports it), counted only under the selection it was made in.
"""

from __future__ import annotations

import streamlit as st

from dashboard.atlasmap.builder import base_map, points_at, selection_data, show_call, with_view
from dashboard.shell.folium_private import component_args, component_func, first_report, generate_js_hash
from dashboard.shell.sidebar import FILTERS_WAIT_SELECTOR
from dashboard.shell.state import Context

RETURNED = ("last_object_clicked", "last_object_clicked_count", "point_id")


@st.cache_resource(show_spinner=False, max_entries=8)
def _base_args(lang: str, present: bool) -> dict:
    """The base map's component arguments, one per language and mode (for every session). In
    presentation mode the legend starts collapsed and the controls are large enough to hit."""
    m = base_map(
        lang,
        assets="served",
        report=True,
        wait_selector=FILTERS_WAIT_SELECTOR,
        legend_collapsed=present,
        large_controls=present,
    )
    args = component_args(m, None, RETURNED)
    # What streamlit-folium's frame reports once the map is up: the same value, so that report is no
    # change and costs no script run (a value that differed reran the app once more per session).
    args["default"] = first_report(RETURNED)
    return args


@st.cache_data(show_spinner=False, max_entries=64)
def _selection_code(_ctx: Context, token: str, lang: str, view: dict | None) -> str:
    data = selection_data(_ctx.selection.points, lang, atlas=_ctx.atlas)
    return show_call(token, with_view(data, view))  # a scene's own view instead of the points' bounds


def atlas_map(
    ctx: Context, key: str, height: int, view: dict | None = None, scene: str | None = None
) -> dict:
    """Draw the map of the context's selection; return ``{"point_ids": [...]}``: the point clicked in this
    selection (its id, as the map reports it), or every point at the clicked position when only that
    came back; empty before a click. ``view``: {"center", "zoom"} to show instead of every point (a
    scene's, named ``scene``)."""
    token = ctx.cache_key + (f"|scene={scene}" if view is not None else "")
    present = ctx.filters.present
    args = dict(_base_args(ctx.lang, present))
    args["feature_group"] = _selection_code(ctx, token, ctx.lang, view)
    args["key"] = generate_js_hash("atlas-map", f"{key}-{int(present)}", False)
    hash_key = args["key"]

    def _on_change() -> None:  # as st_folium: the value is also kept under the caller's key
        st.session_state[key] = st.session_state.get(hash_key, {})

    state = component_func(**args, height=height, width=None, on_change=_on_change) or {}
    count = state.get("last_object_clicked_count") or 0
    seen = st.session_state.get(f"_{key}_click")
    if seen is None or seen[0] != count:
        seen = (count, token)
        st.session_state[f"_{key}_click"] = seen
    if seen[1] != token:
        return {"point_ids": []}
    if state.get("point_id"):
        return {"point_ids": [state["point_id"]]}
    where = state.get("last_object_clicked") or {}  # the click without its id: every point there
    here = points_at(ctx.selection.points, where.get("lat"), where.get("lng"))
    return {"point_ids": list(here["id"])}
