"""Overview: headline numbers and the organisations the filters select."""

from datetime import date

import streamlit as st

from dashboard.core.tables import headline_numbers
from dashboard.core.text import t
from dashboard.shell import stage, state, widgets

ctx = state.context()
atlas, sel, lang = ctx.atlas, ctx.selection, ctx.lang

stage.title_bar(ctx, t("app_title", lang))
present = ctx.filters.present
if not present:
    st.caption(t("app_subtitle", lang))
    st.write(t("overview_intro", lang))

missing = [w for w in atlas.problems if w.severity == "warning" and "no coordinates" in w.message]
if missing and not present:
    st.info(t("not_geocoded", lang, n=len(missing)))

with stage.main_visual():
    for col, (label, number) in zip(st.columns(5), headline_numbers(atlas, sel, lang), strict=True):
        col.metric(label, number)
    if sel.empty:
        st.info(t("nothing_selected", lang))
        st.stop()
    st.subheader(t("organisations_table", lang))
    fit = stage.visual_height(present)  # on a projector: the table fills the screen under the numbers
    with stage.filler():
        st.dataframe(state.organisations_table(ctx), hide_index=True, width="stretch", height=fit or "auto")
widgets.csv_download(state.organisations_table, ctx, "organisations.csv", lang, key="dl_orgs")

st.download_button(
    t("download_briefing", lang),
    state.later(state.briefing_bytes, ctx),  # built (and cached) only when someone clicks
    file_name=f"climate-networks-briefing-{date.today().isoformat()}.html",
    mime="text/html",
    key="dl_briefing",
    on_click="ignore",
    icon=":material/download:",
)


if atlas.scenes:  # the briefing's scenes as one file, stepped with the keys (a room with no Wi-Fi)
    st.download_button(
        t("download_scenes", lang),
        state.later(state.scenes_bytes, ctx),  # built (and cached) only when someone clicks
        file_name=f"climate-networks-scenes-{date.today().isoformat()}.html",
        mime="text/html",
        key="dl_scenes",
        on_click="ignore",
        icon=":material/slideshow:",
    )
