"""Map: every office, former office and member place, coloured by organisation, clustered, with a legend
that switches organisations on and off. In presentation mode the map fills the screen under the title."""

import streamlit as st

from dashboard.core.describe import map_summary
from dashboard.core.filters import scene_view
from dashboard.core.safety import escape_markdown
from dashboard.core.tables import map_caption
from dashboard.core.text import t
from dashboard.shell import map_component, sidebar, stage, state, widgets

ctx = state.context()
atlas, sel, lang = ctx.atlas, ctx.selection, ctx.lang
points = sel.points
present = ctx.filters.present

stage.title_bar(ctx, t("page_map", lang))
if not state.shows_map(ctx):
    st.info(t("map_no_points", lang) if not sel.empty else t("nothing_selected", lang))
    st.stop()

if not present:
    st.caption(map_caption(points, lang))

scene = stage.current_scene(ctx.filters.scene)
view = scene_view(scene) if scene is not None else None
left, right = (st.container(), st.container()) if present else st.columns([3, 1])
with left:
    with stage.main_visual():
        # the base map once per frame, the selection swapped in as data (dashboard.shell.map_component)
        shown = map_component.atlas_map(
            ctx, key=f"atlas_map_{lang}", height=stage.map_height(ctx), view=view, scene=ctx.filters.scene
        )
    if sidebar.map_first("map", ctx):
        # A session's first run on this page (a shared link): the map alone, as the filters wait for it.
        # The rest follows in the run the map's "drawn" report starts; drawn now, it would hold the map's
        # frame back in the browser (bench figure 1).
        st.stop()
    # the map in words, and its places one click away (the table below)
    st.caption(escape_markdown(map_summary(sel, atlas, lang)))
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
    icon=":material/download:",
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
