"""Small Streamlit pieces the pages share: data problems, CSV downloads, tables built when opened,
the clicked point's details."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date
from typing import Any

import streamlit as st

from dashboard.core.data import Atlas, Problem, nn
from dashboard.core.figures import short_name
from dashboard.core.places import names_for
from dashboard.core.safety import csv_bytes, escape_markdown, safe_url
from dashboard.core.text import (
    as_of,
    aside,
    count,
    date_span,
    join,
    pick,
    precision_label,
    t,
)
from dashboard.shell import state
from dashboard.shell.state import Context


def show_data_errors(problems: list[Problem], lang: str, fatal: bool, compact: bool = False) -> None:
    """Name every data error on the page (as plain text), never a traceback. ``compact`` (presentation
    mode): one line, the list behind a button, so the scenes keep the screen."""
    errors = [p for p in problems if p.severity == "error"]
    if not errors:
        return
    listed = "\n".join(f"- {p}" for p in errors)
    if fatal:
        title = t("data_error_title", lang)
    else:
        title = t("data_error_partial", lang, problems=count("problems", len(errors), lang))
    unreadable = list(dict.fromkeys(p.file for p in errors if p.whole_file))
    if unreadable:  # named at the top of every page, not only in the list below
        names = join([escape_markdown(f) for f in unreadable], lang)
        title += "\n\n" + t("data_error_files", lang, files=names)
    if compact and not fatal:
        with st.container(key="data-problems", horizontal=True, vertical_alignment="center"):
            st.error(title, icon=":material/error:", width="stretch")
            with st.popover(t("data_error_show", lang), icon=":material/list:"):
                st.markdown(t("data_error_fix", lang))
                st.code(listed, language=None)
        return
    st.error(title, icon=":material/error:")
    with st.expander(t("data_error_fix", lang), expanded=fatal):
        st.code(listed, language=None)


def option_labels(labels: dict[Any, str]) -> Callable[[Any], str]:
    """A widget's ``format_func`` that shows each option's label from ``labels`` (the option itself when
    it has none). Streamlit keeps a widget's format_func for the session: a dict of labels, not a
    closure over the atlas (or a lambda in a page script, which keeps the page's globals)."""
    return lambda value: labels.get(value, str(value))


# Plotly's own toolbar stays on, with its PNG export sized for slides.
PLOTLY_CONFIG = {
    "displaylogo": False,
    "toImageButtonOptions": {"format": "png", "width": 1600, "height": 900, "scale": 2},
}


def csv_download(build: Callable[[Context], Any], ctx: Context, file_name: str, lang: str, key: str) -> None:
    """A download button for the table ``build(ctx)`` as CSV (UTF-8 with BOM for Excel; formula
    injection neutralised).

    The bytes are made only when someone clicks (Streamlit calls ``data`` then), not on every rerun;
    until then the session keeps only the filters (``state.later``), never the table or the atlas.
    ``build`` is a module-level function such as ``state.sources_table``.
    """
    st.download_button(
        t("download_csv", lang),
        state.later(functools.partial(_csv_of, build), ctx),
        file_name=file_name,
        mime="text/csv",
        key=key,
        on_click="ignore",
        icon=":material/download:",
    )


def _csv_of(build: Callable[[Context], Any], ctx: Context) -> bytes:
    return csv_bytes(build(ctx))


def html_download(
    label: str,
    build: Callable[[Context], bytes],
    ctx: Context,
    what: str,
    key: str,
    icon: str = ":material/download:",
) -> None:
    """A download button for an offline HTML pack (``climate-networks-<what>-<today>.html``) that
    ``build(ctx)`` makes only when someone clicks; the session keeps only the filters until then."""
    st.download_button(
        label,
        state.later(build, ctx),
        file_name=f"climate-networks-{what}-{date.today().isoformat()}.html",
        mime="text/html",
        key=key,
        on_click="ignore",
        icon=icon,
    )


def table_expander(
    label: str, build: Callable[[Context], Any], ctx: Context, file_name: str, lang: str, key: str
) -> None:
    """A collapsed expander with the table ``build(ctx)`` and its CSV download, built only once it is
    opened.

    A closed expander costs the page nothing: its table is neither built on the server nor drawn in
    the browser (the table widget's code is the heaviest the page would otherwise load before the map
    or the chart). Opening it reruns the page with the table in it; it stays open across filter and
    language changes.
    """
    remembered = f"_{key}_was_open"  # the label follows the language, and a new label is a new widget
    box = st.expander(
        label, expanded=bool(st.session_state.get(remembered)), key=f"{key}_open", on_change="rerun"
    )
    st.session_state[remembered] = bool(box.open)
    if box.open:
        with box:
            st.dataframe(build(ctx), hide_index=True, width="stretch")
            csv_download(build, ctx, file_name, lang, key=f"dl_{key}")


def point_details(row, atlas: Atlas, lang: str) -> None:
    """The clicked place's details beside the map: its names, every network it belongs to (with dates
    and sources), its kind, address, place, period and source. Every value shown as literal text."""
    name, other = names_for(row, lang)
    st.markdown(f"**{escape_markdown(name)}**")
    if other:
        st.text(other)
    memberships = row.get("memberships") or ()
    if memberships:
        st.caption(t("map_networks", lang))
        for m in memberships:
            parts = [short_name(atlas, m.organisation, lang), pick(m.member_ja, m.member, lang)]
            parts.append(date_span(m.since, m.until, lang))
            if m.status and m.status != "active":
                parts.append(atlas.label("member_statuses", m.status, lang))
            sources = aside("; ".join(atlas.source_title(s) for s in m.sources), as_of(m.as_of, lang), lang)
            st.text(" · ".join(p for p in parts if p))
            st.caption(sources)
    else:
        st.caption(t("field_organisation", lang))
        st.text(pick(*_org_names(atlas, row.get("organisation")), lang))
    city = pick(nn(row.get("city_ja")), nn(row.get("city")), lang)
    fields = [
        ("map_kind", _kind_text(row, atlas, lang)),
        ("field_address", nn(row.get("address"))),
        ("field_address_corrected", nn(row.get("address_corrected"))),
        ("map_place", join((city, atlas.label("countries", nn(row.get("country")), lang)), lang)),
        ("map_period", date_span(nn(row.get("since")), nn(row.get("until")), lang)),
        ("field_precision", precision_label(nn(row.get("precision")), lang)),
    ]
    if not memberships and nn(row.get("source")):
        source = aside(atlas.source_title(row["source"]), as_of(nn(row.get("as_of")), lang), lang)
        fields.append(("field_source", source))
    for key, value in fields:
        if value:
            st.caption(t(key, lang))
            st.text(str(value))
    url = safe_url(row.get("website"))
    if url:
        st.link_button(t("field_website", lang), url)


def _org_names(atlas: Atlas, org_id: str | None) -> tuple[str, str]:
    rec = atlas.organisation_records.get(org_id) if org_id else None
    return (rec.name.ja, rec.name.en) if rec else (org_id or "", org_id or "")


def _kind_text(row, atlas: Atlas, lang: str) -> str:
    if row.get("point_type") == "member":
        return atlas.label("member_kinds", nn(row.get("member_kind")), lang) or t("member_city", lang)
    kind = atlas.label("office_kinds", nn(row.get("kind")), lang)
    return t("former_office_kind", lang, kind=kind) if row.get("point_type") == "former-office" else kind
