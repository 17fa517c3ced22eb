"""Sources: every source the atlas rests on, and where sources disagree."""

import streamlit as st

from dashboard.core.tables import disagreements_table
from dashboard.core.text import t
from dashboard.shell import state, widgets

ctx = state.context()
atlas, lang = ctx.atlas, ctx.lang

st.title(t("page_sources", lang))
st.caption(t("sources_caption", lang))
table = state.sources_table(ctx)
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    column_config={"URL": st.column_config.LinkColumn("URL")},
)
widgets.csv_download(state.sources_table, ctx, "sources.csv", lang, key="dl_sources")

st.subheader(t("disagreements", lang))
st.dataframe(disagreements_table(atlas, lang), hide_index=True, width="stretch")
