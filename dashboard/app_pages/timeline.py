"""Timeline 1987–2025: each organisation's events, world milestones as reference lines."""

import streamlit as st

from dashboard.core.figures import timeline_figure
from dashboard.core.text import t
from dashboard.shell import state, widgets

ctx = state.context()
atlas, sel, lang = ctx.atlas, ctx.selection, ctx.lang

st.title(t("page_timeline", lang))
st.caption(t("timeline_caption", lang))
if sel.empty:
    st.info(t("nothing_selected", lang))
    st.stop()

st.plotly_chart(
    timeline_figure(sel, atlas, lang), width="stretch", config=widgets.PLOTLY_CONFIG, key="timeline"
)
widgets.table_expander(t("events_table", lang), state.events_table, ctx, "events.csv", lang, key="events")
