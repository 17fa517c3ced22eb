"""Overview: headline numbers and the organisations the filters select."""

from datetime import date

import streamlit as st

from dashboard.core.tables import headline_numbers
from dashboard.core.text import t
from dashboard.shell import state, widgets

ctx = state.context()
atlas, sel, lang = ctx.atlas, ctx.selection, ctx.lang

st.title(t("app_title", lang))
st.caption(t("app_subtitle", lang))
st.write(t("overview_intro", lang))

for col, (label, number) in zip(st.columns(5), headline_numbers(atlas, sel, lang), strict=True):
    col.metric(label, number)

missing = [w for w in atlas.problems if w.severity == "warning" and "no coordinates" in w.message]
if missing:
    st.info(t("not_geocoded", lang, n=len(missing)))

if sel.empty:
    st.info(t("nothing_selected", lang))
    st.stop()

st.subheader(t("organisations_table", lang))
st.dataframe(state.organisations_table(ctx), hide_index=True, width="stretch")
widgets.csv_download(state.organisations_table, ctx, "organisations.csv", lang, key="dl_orgs")

st.download_button(
    t("download_briefing", lang),
    state.later(state.briefing_bytes, ctx),  # built (and cached) only when someone clicks
    file_name=f"climate-networks-briefing-{date.today().isoformat()}.html",
    mime="text/html",
    key="dl_briefing",
    on_click="ignore",
)
