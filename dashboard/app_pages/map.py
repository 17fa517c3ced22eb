"""Map: every geocoded office and member city, coloured by organisation, clustered, one layer each."""

import streamlit as st

from dashboard.atlasmap.builder import points_at
from dashboard.core.i18n import t
from dashboard.shell import ui

ctx = ui.context()
atlas, sel, lang = ctx.atlas, ctx.selection, ctx.lang
points = sel.points

st.title(t("page_map", lang))
if not ui.shows_map(ctx):
    st.info(t("map_no_points", lang) if not sel.empty else t("nothing_selected", lang))
    st.stop()

n_offices = int((points["point_type"] == "office").sum())
st.caption(t("map_caption", lang, n=len(points), offices=n_offices, members=len(points) - n_offices))

left, right = st.columns([3, 1])
with left:
    # st_folium(build_map(points, layer="data"), ...), built and rendered once per selection (ui.py).
    state = ui.atlas_map(ctx, key=f"atlas_map_{lang}", height=640 if not ctx.filters.present else 760)
    st.caption(t("map_offline_note", lang))

with right:
    st.subheader(t("details", lang))
    clicked = (state or {}).get("last_object_clicked")
    here = points_at(points, clicked["lat"], clicked["lng"]) if clicked else points.iloc[0:0]
    if here.empty:
        st.caption(t("map_click_hint", lang))
    for i, (_, row) in enumerate(here.iterrows()):  # several places can share a city's coordinates
        if i:
            st.divider()
        ui.point_details(row, lang)

st.download_button(
    t("download_map", lang),
    lambda: ui.standalone_map_html(ctx),  # about 1 MB with Leaflet inlined: built (and cached) on a click
    file_name="climate-networks-map.html",
    mime="text/html",
    key="dl_map",
    on_click="ignore",
)
ui.table_expander(t("places_table", lang), lambda: ui.places_table(ctx), "places.csv", lang, key="places")
