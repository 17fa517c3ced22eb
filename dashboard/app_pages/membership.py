"""Membership over time: one panel and scale per organisation (or all in one chart), qualifiers shown,
disagreeing sources drawn side by side."""

from dataclasses import replace

import streamlit as st

from dashboard.core.describe import membership_summary
from dashboard.core.figures import membership_figure, undated_counts
from dashboard.core.safety import escape_markdown
from dashboard.core.tables import membership_table
from dashboard.core.text import t
from dashboard.shell import stage, state, widgets

ctx = state.context()
atlas, sel, lang = ctx.atlas, ctx.selection, ctx.lang

stage.title_bar(ctx, t("page_membership", lang))
if not ctx.filters.present:
    st.caption(t("membership_caption", lang))
if sel.empty or sel.membership.empty:
    st.info(t("nothing_selected", lang) if sel.empty else t("fig_no_dated_counts", lang))
    st.stop()

view, log = "panels", False
if not ctx.filters.present:  # on a projector: the panels, with nothing above them
    views = {"panels": t("fig_view_panels", lang), "overlay": t("fig_view_overlay", lang)}
    with st.container(horizontal=True, vertical_alignment="center"):
        view = st.radio(
            t("fig_view", lang), list(views), format_func=views.get, horizontal=True, key="membership_view"
        )
        if view == "overlay":
            log = st.toggle(t("log_scale", lang), key="membership_log")
with stage.main_visual():
    fig = membership_figure(sel.membership, atlas, lang, log=log, view=view, space=stage.chart_space(ctx))
    st.plotly_chart(fig, width="stretch", config=widgets.PLOTLY_CONFIG, key="membership")
# the chart in words, and its data one click away
st.caption(escape_markdown(membership_summary(sel.membership, atlas, lang)))

undated = undated_counts(sel.membership)
if not undated.empty:
    st.subheader(t("undated_counts", lang))
    st.dataframe(
        membership_table(atlas, replace(sel, membership=undated), lang), hide_index=True, width="stretch"
    )
widgets.table_expander(
    t("membership_table", lang), state.membership_table, ctx, "membership.csv", lang, key="membership"
)
