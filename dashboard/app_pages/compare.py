"""Compare two to four organisations side by side, attribute by attribute."""

import streamlit as st

from dashboard import ui
from dashboard.compare import compare_csv, compare_markdown, compare_table, shared_themes
from dashboard.i18n import t

ctx = ui.context()
atlas, sel, lang = ctx.atlas, ctx.selection, ctx.lang

st.title(t("page_compare", lang))
if sel.empty:
    st.info(t("nothing_selected", lang))
    st.stop()

available = sel.org_ids
chosen = [o for o in ctx.filters.compare if o in available] or available[:2]
picked = st.multiselect(
    t("compare_pick", lang),
    available,
    default=chosen,
    max_selections=4,
    format_func=lambda o: ui.org_name(atlas, o, lang),
    key=f"compare_widget_{lang}",
)
ui.set_compare(picked)
if len(picked) < 2:
    st.info(t("compare_need_two", lang))
    st.stop()

shared = shared_themes(atlas, picked)
if shared:
    st.success(
        f"{t('compare_shared_themes', lang)}: "
        + ", ".join(ui.md_escape(atlas.label("themes", s, lang)) for s in shared)
    )
table = compare_table(atlas, picked, lang)
st.dataframe(table, width="stretch", height=min(900, 38 * (len(table) + 1)))
c1, c2 = st.columns(2)
c1.download_button(
    t("download_markdown", lang),
    compare_markdown(atlas, picked, lang),
    "comparison.md",
    "text/markdown",
    key="dl_md",
)
c2.download_button(
    t("download_compare_csv", lang),
    compare_csv(atlas, picked, lang),
    "comparison.csv",
    "text/csv",
    key="dl_cmp_csv",
)
