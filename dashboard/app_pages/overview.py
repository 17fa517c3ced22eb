"""Overview: headline numbers and the organisations the filters select."""

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

widgets.html_download(t("download_briefing", lang), state.briefing_bytes, ctx, "briefing", key="dl_briefing")
if atlas.scenes:  # the briefing's scenes as one file, stepped with the keys (a room with no Wi-Fi)
    widgets.html_download(
        t("download_scenes", lang),
        state.scenes_bytes,
        ctx,
        "scenes",
        key="dl_scenes",
        icon=":material/slideshow:",
    )
