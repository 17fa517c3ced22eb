"""Map: every office, former office and member place, coloured by organisation, clustered, with a legend
that switches organisations on and off."""

import streamlit as st

from dashboard.core.tables import map_caption
from dashboard.core.text import t
from dashboard.shell import map_component, state, widgets

ctx = state.context()
atlas, sel, lang = ctx.atlas, ctx.selection, ctx.lang
points = sel.points

st.title(t("page_map", lang))
if not state.shows_map(ctx):
    st.info(t("map_no_points", lang) if not sel.empty else t("nothing_selected", lang))
    st.stop()

st.caption(map_caption(points, lang))

left, right = st.columns([3, 1])
with left:
    # the base map once per frame, the selection swapped in as data (dashboard.shell.map_component)
    shown = map_component.atlas_map(
        ctx, key=f"atlas_map_{lang}", height=640 if not ctx.filters.present else 760
    )
    st.caption(t("map_offline_note", lang))

with right:
    st.subheader(t("details", lang))
    here = points[points["id"].isin(shown["point_ids"])]
    if here.empty:
        st.caption(t("map_click_hint", lang))
    for i, (_, row) in enumerate(here.iterrows()):
        if i:
            st.divider()
        widgets.point_details(row, atlas, lang)

st.download_button(
    t("download_map", lang),
    state.later(
        state.standalone_map_html, ctx
    ),  # about 1 MB with Leaflet inlined: built (and cached) on a click
    file_name="climate-networks-map.html",
    mime="text/html",
    key="dl_map",
    on_click="ignore",
)
widgets.table_expander(t("places_table", lang), state.places_table, ctx, "places.csv", lang, key="places")
widgets.table_expander(
    t("several_networks", lang),
    state.several_networks_table,
    ctx,
    "several-networks.csv",
    lang,
    key="several",
)
