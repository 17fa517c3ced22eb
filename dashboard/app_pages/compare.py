"""Compare two to four organisations side by side: one column each, attributes on aligned rows."""

import streamlit as st

from dashboard.core.compare import compare_csv, compare_markdown, comparison
from dashboard.core.figures import short_name
from dashboard.core.safety import escape_markdown, markdown_lines
from dashboard.core.text import join, labelled, t
from dashboard.shell import state, widgets

ctx = state.context()
atlas, sel, lang = ctx.atlas, ctx.selection, ctx.lang

st.title(t("page_compare", lang))
if sel.empty:
    st.info(t("nothing_selected", lang))
    st.stop()

available = sel.org_ids
org_names = {o: short_name(atlas, o, lang) for o in available}  # the widget keeps a dict, not the atlas
chosen = [o for o in ctx.filters.compare if o in available] or available[:2]
picked = st.multiselect(
    t("compare_pick", lang),
    available,
    default=chosen,
    max_selections=4,
    format_func=widgets.option_labels(org_names),
    key=f"compare_widget_{lang}",
)
state.set_compare(picked)
if len(picked) < 2:
    st.info(t("compare_need_two", lang))
    st.stop()

cmp = comparison(atlas, picked, lang)
if cmp.shared_theme_labels:
    shared = join((escape_markdown(s) for s in cmp.shared_theme_labels), lang)
    st.success(labelled(t("compare_shared_themes", lang), shared, lang))

# how many members each pair of organisations shares, and which (a city is one identity across networks)
for a, b, names in cmp.shared_members:
    labels = dict(zip(cmp.org_ids, cmp.columns, strict=True))
    if names:
        line = t("shared_members_line", lang, a=labels[a], b=labels[b], n=len(names), names=join(names, lang))
    else:
        line = t("shared_members_none", lang, a=labels[a], b=labels[b])
    st.markdown(escape_markdown(line))

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

widths = [1.1] + [3] * len(picked)
with st.container(key="cmp-header"):
    for col, name in zip(st.columns(widths), ["", *cmp.columns], strict=True):
        col.markdown(f"#### {escape_markdown(name)}" if name else "")
for row in cmp.rows:
    st.divider()
    with st.container(key=f"cmp-{row.key}"):
        cols = st.columns(widths)
        cols[0].markdown(f"**{escape_markdown(row.label)}**")
        for org_id, col, value in zip(picked, cols[1:], row.values, strict=True):
            if row.key == "themes" and cmp.themes.get(org_id):
                # shared themes highlighted; every label escaped, only the highlight is markup
                col.markdown(
                    join(
                        (
                            f":green-background[**{escape_markdown(x)}**]" if shared else escape_markdown(x)
                            for _, x, shared in cmp.themes[org_id]
                        ),
                        lang,
                    )
                )
            else:
                col.markdown(markdown_lines(value))
