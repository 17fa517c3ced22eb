"""Overview: headline numbers and the organisations the filters select."""

from dataclasses import replace
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
    table = state.organisations_table(ctx)
    fit = stage.visual_height(present)  # on a projector: the table fills the screen under the numbers
    with stage.filler():
        st.dataframe(table, hide_index=True, width="stretch", height=fit or "auto")
widgets.csv_download(table, "organisations.csv", lang, key="dl_orgs")


@st.cache_data(show_spinner=False, max_entries=16)
def _briefing(_atlas, key: tuple) -> bytes:  # key: the filters, the data stamp, the date
    from dashboard.outputs.briefing import briefing_html

    return briefing_html(_atlas, key[0], today=key[2]).encode("utf-8")


_briefing_key = (replace(ctx.filters, present=False, scene=None), ctx.cache_key, date.today())  # + data stamp
st.download_button(
    t("download_briefing", lang),
    lambda: _briefing(atlas, _briefing_key),  # built (and cached) only when someone clicks
    file_name=f"climate-networks-briefing-{_briefing_key[2].isoformat()}.html",
    mime="text/html",
    key="dl_briefing",
    on_click="ignore",
    icon=":material/download:",
)


@st.cache_data(show_spinner=False, max_entries=8)
def _scenes(_atlas, key: tuple) -> bytes:  # key: the language, the data stamp, the date
    from dashboard.outputs.briefing import scenes_html

    return scenes_html(_atlas, lang=key[0], today=key[2]).encode("utf-8")


if atlas.scenes:  # the briefing's scenes as one file, stepped with the keys (a room with no Wi-Fi)
    _scenes_key = (lang, ctx.data_key, date.today())
    st.download_button(
        t("download_scenes", lang),
        lambda: _scenes(atlas, _scenes_key),
        file_name=f"climate-networks-scenes-{_scenes_key[2].isoformat()}.html",
        mime="text/html",
        key="dl_scenes",
        on_click="ignore",
        icon=":material/slideshow:",
    )
