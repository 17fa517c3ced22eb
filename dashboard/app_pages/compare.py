"""Compare two to four organisations side by side: one column each, attributes on aligned rows. In
presentation mode the columns come first, with the attributes a room reads (kind, latest membership,
mission); the choice, the downloads and every other attribute follow below."""

import streamlit as st

from dashboard.core.compare import compare_csv, compare_markdown, comparison
from dashboard.core.figures import short_name
from dashboard.core.safety import escape_markdown, markdown_lines
from dashboard.core.text import join, labelled, t
from dashboard.shell import stage, state, widgets

ctx = state.context()
atlas, sel, lang = ctx.atlas, ctx.selection, ctx.lang

stage.title_bar(ctx, t("page_compare", lang))
if sel.empty:
    st.info(t("nothing_selected", lang))
    st.stop()

available = sel.org_ids
org_names = {o: short_name(atlas, o, lang) for o in available}  # the widget keeps a dict, not the atlas
present = ctx.filters.present
chosen = [o for o in ctx.filters.compare if o in available] or available[:2]
ON_SCREEN = ("kind", "latest_membership", "mission")  # presentation mode: what fits a projector's screen


def columns(cmp, picked: list[str], keys: tuple[str, ...] | None, prefix: str = "cmp") -> None:
    """The organisations in columns, one aligned row per attribute (``keys``: only those)."""
    widths = [1.1] + [3] * len(picked)
    with st.container(key=f"{prefix}-header"):
        for col, name in zip(st.columns(widths), ["", *cmp.columns], strict=True):
            col.markdown(f"#### {escape_markdown(name)}" if name else "")
    for row in cmp.rows:
        if keys is not None and row.key not in keys:
            continue
        st.divider()
        with st.container(key=f"{prefix}-{row.key}"):
            cols = st.columns(widths)
            cols[0].markdown(f"**{escape_markdown(row.label)}**")
            for org_id, col, value in zip(picked, cols[1:], row.values, strict=True):
                if row.key == "themes" and cmp.themes.get(org_id):
                    # shared themes highlighted; every label escaped, only the highlight is markup
                    col.markdown(
                        join(
                            (
                                f":green-background[**{escape_markdown(x)}**]"
                                if shared
                                else escape_markdown(x)
                                for _, x, shared in cmp.themes[org_id]
                            ),
                            lang,
                        )
                    )
                else:
                    col.markdown(markdown_lines(value))


if present and len(chosen) >= 2:  # the scene's (or the link's) organisations, straight away
    with stage.main_visual():
        columns(comparison(atlas, chosen, lang), chosen, ON_SCREEN)

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
    icon=":material/download:",
)
c2.download_button(
    t("download_compare_csv", lang),
    compare_csv(atlas, picked, lang),
    "comparison.csv",
    "text/csv",
    key="dl_cmp_csv",
    icon=":material/download:",
)

if present:
    if picked != chosen:  # chosen again below: the whole table of the new choice
        columns(cmp, picked, None, prefix="cmp-more")
    else:
        with st.expander(t("compare_all_attributes", lang)):
            columns(cmp, picked, tuple(r.key for r in cmp.rows if r.key not in ON_SCREEN), prefix="cmp-more")
else:
    with stage.main_visual():
        columns(cmp, picked, None)
