"""Timeline 1987–2025: each organisation's events, key events labelled, world milestones as lines."""

import streamlit as st

from dashboard.core.describe import timeline_summary
from dashboard.core.figures import timeline_figure
from dashboard.core.safety import escape_markdown
from dashboard.core.text import t
from dashboard.shell import stage, state, widgets

ctx = state.context()
atlas, sel, lang = ctx.atlas, ctx.selection, ctx.lang

stage.title_bar(ctx, t("page_timeline", lang))
if not ctx.filters.present:
    st.caption(t("timeline_caption", lang))
if sel.empty:
    st.info(t("nothing_selected", lang))
    st.stop()

with stage.main_visual():
    st.plotly_chart(
        timeline_figure(sel, atlas, lang, stage.chart_space(ctx)),
        width="stretch",
        config=widgets.PLOTLY_CONFIG,
        key="timeline",
    )
# the chart in words, and its data one click away
st.caption(escape_markdown(timeline_summary(sel, atlas, lang)))
widgets.table_expander(t("events_table", lang), state.events_table, ctx, "events.csv", lang, key="events")
