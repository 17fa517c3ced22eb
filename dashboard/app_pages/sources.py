"""Sources: every source the atlas rests on, and where sources disagree."""

import streamlit as st

from dashboard.core.tables import disagreements_table
from dashboard.core.text import t
from dashboard.shell import stage, state, widgets

ctx = state.context()
atlas, lang = ctx.atlas, ctx.lang

stage.title_bar(ctx, t("page_sources", lang))
if not ctx.filters.present:
    st.caption(t("sources_caption", lang))
fit = stage.visual_height(ctx.filters.present)  # on a projector: the table fills the screen
with stage.main_visual():
    st.dataframe(
        state.sources_table(ctx),
        hide_index=True,
        width="stretch",
        height=fit if fit else "auto",
        column_config={"URL": st.column_config.LinkColumn("URL")},
    )
widgets.csv_download(state.sources_table, ctx, "sources.csv", lang, key="dl_sources")

st.subheader(t("disagreements", lang))
st.dataframe(disagreements_table(atlas, lang), hide_index=True, width="stretch")
