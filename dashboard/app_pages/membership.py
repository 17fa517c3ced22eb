"""Membership over time: dated counts joined by steps, qualifiers shown, disagreements side by side."""

from dataclasses import replace

import streamlit as st

from dashboard.core.figures import membership_figure, undated_counts
from dashboard.core.tables import membership_table
from dashboard.core.text import t
from dashboard.shell import state, widgets

ctx = state.context()
atlas, sel, lang = ctx.atlas, ctx.selection, ctx.lang

st.title(t("page_membership", lang))
st.caption(t("membership_caption", lang))
if sel.empty or sel.membership.empty:
    st.info(t("nothing_selected", lang) if sel.empty else t("fig_no_dated_counts", lang))
    st.stop()

views = {"panels": t("fig_view_panels", lang), "overlay": t("fig_view_overlay", lang)}
view = st.radio(
    t("fig_view", lang), list(views), format_func=views.get, horizontal=True, key="membership_view"
)
log = view == "overlay" and st.toggle(t("log_scale", lang), key="membership_log")
fig = membership_figure(sel.membership, atlas, lang, log=log, view=view)
st.plotly_chart(fig, width="stretch", config=widgets.PLOTLY_CONFIG, key="membership")

undated = undated_counts(sel.membership)
if not undated.empty:
    st.subheader(t("undated_counts", lang))
    st.dataframe(
        membership_table(atlas, replace(sel, membership=undated), lang), hide_index=True, width="stretch"
    )
widgets.table_expander(
    t("membership_table", lang), state.membership_table, ctx, "membership.csv", lang, key="membership"
)
