"""Plotly figures for the Timeline and Membership pages (and the notebook). Streamlit-free.

Every data string that reaches a figure (trace names, hover text, annotations) goes through
``dashboard.core.safety.escape_html`` first: plotly renders a subset of HTML tags in those places,
so data is escaped and shown as literal text. Hover text is passed as ``hovertext`` (never inside
a ``hovertemplate``), so a ``%{...}`` in the data is not read as a template either.

Dates are shown as the source writes them (``1990``, ``1990-09``, ``1990-09-12``): a date known
to the year is never shown with a made-up month or day. On the x axis a partial date stands at
the first day of the period it covers (1990-09 at 1990-09-01), like ``membership.as_of_date``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from dashboard.core.colours import org_colour
from dashboard.core.data import Atlas, nn
from dashboard.core.filters import YEAR_MAX, YEAR_MIN
from dashboard.core.safety import escape_html
from dashboard.core.schema import parse_partial_date
from dashboard.core.text import LANGS, aside, date_span, date_text, has, labelled, pick, quoted, t

# 1987–2025 with half a year either side, so a marker on 1987 or 2025 is drawn whole
X_RANGE = (f"{YEAR_MIN - 1}-07-01", f"{YEAR_MAX + 1}-06-30")
NEUTRAL = "#555555"  # legend-only markers and milestone lines

# A marker symbol per event kind (unknown kinds get "circle"); "-open" marks conflicting events.
EVENT_SYMBOLS: dict[str, str] = {
    "founding": "star",
    "rename": "diamond",
    "office": "square",
    "membership": "triangle-up",
    "conference": "hexagon",
    "milestone": "cross",
}
# A marker symbol and a short sign per membership qualifier.
QUALIFIER_SYMBOLS: dict[str, str] = {
    "exact": "circle",
    "at-least": "triangle-up",
    "about": "diamond",
    "nearly": "triangle-down",
}
QUALIFIER_SIGNS: dict[str, str] = {"exact": "", "at-least": "≥", "about": "~", "nearly": "<"}
STATUS_ORDER = ("confirmed", "seed", "secondary", "conflicting")  # preference when dates tie


# ---------------------------------------------------------------------------------- helpers
def format_partial_date(value: str | None) -> str:
    """A partial date as written, at its real precision ('1990', '1990-09', '1990-09-12'); '' if None."""
    value = nn(value)
    if not value:
        return ""
    start, precision = parse_partial_date(str(value))
    if precision == "year":
        return f"{start.year:04d}"
    if precision == "month":
        return f"{start.year:04d}-{start.month:02d}"
    return start.isoformat()


def _x(value: str) -> str:
    """The x position of a partial date: the first day it covers, as ISO text."""
    return parse_partial_date(value)[0].isoformat()


def _frames(data: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(organisations, events) from a Selection, an Atlas or a mapping holding both."""
    if isinstance(data, Mapping):
        return data["organisations"], data["events"]
    return data.organisations, data.events


def short_name(atlas: Atlas, org_id: str, lang: str) -> str:
    """An organisation's short name in ``lang`` (unescaped); the id if the organisation is unknown."""
    rec = atlas.organisation_records.get(org_id)
    if rec is None:
        return org_id
    return pick(rec.name.short_ja, rec.name.short_en, lang)


def row_labels(atlas: Atlas, org_ids: list[str], lang: str) -> dict[str, str]:
    """{org id: label} with short names; a short name used twice gets its id appended."""
    names = {o: short_name(atlas, o, lang) for o in org_ids}
    counts = pd.Series(list(names.values())).value_counts()
    return {o: (aside(n, o, lang) if counts[n] > 1 else n) for o, n in names.items()}


def _source_line(atlas: Atlas, source_id: Any, lang: str) -> str:
    sid = nn(source_id)
    return labelled(t("source", lang), escape_html(atlas.source_title(sid)), lang) if sid else ""


def _join(lines: list[str]) -> str:
    return "<br>".join(line for line in lines if line)


def _empty_figure(message: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(
        text=escape_html(message),
        x=0.5,
        y=0.5,
        xref="paper",
        yref="paper",
        showarrow=False,
        font={"size": 16},
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


# ---------------------------------------------------------------------------------- timeline
def _timeline_points(orgs: pd.DataFrame, events: pd.DataFrame, atlas: Atlas) -> list[dict[str, Any]]:
    """Every organisation event to draw, plus a founding date from organisations.yaml when
    events.csv has no founding event for that organisation (same fact, same source)."""
    org_ids = list(orgs["id"])
    points = []
    for _, e in events.iterrows():
        org_id = nn(e["organisation"])
        if org_id is None or org_id not in org_ids:
            continue
        points.append({k: nn(v) for k, v in e.items()})
    founded_in_events = {p["organisation"] for p in points if p["kind"] == "founding"}
    for org_id in org_ids:
        rec = atlas.organisation_records.get(org_id)
        if rec is None or rec.founded is None or org_id in founded_in_events:
            continue
        points.append(
            {
                "id": f"{org_id}-founded",
                "date": rec.founded.date,
                "end_date": None,
                "organisation": org_id,
                "kind": "founding",
                **{f"title_{lang}": _founded_title(rec, lang) for lang in {*LANGS, "ja", "en"}},
                "status": "confirmed",
                "source": rec.founded.source,
                "note": None,
            }
        )
    return points


def _founded_title(rec: Any, lang: str) -> str:
    """ "ICLEI founded (New York)" / "イクレイ設立(ニューヨーク)", from the organisation's record."""
    name = pick(rec.name.ja, rec.name.en, lang)
    place = rec.founded.place
    where = pick(place.ja, place.en, lang) if place else ""
    return (
        t("event_founded_at", lang, name=name, place=where) if where else t("event_founded", lang, name=name)
    )


def _event_hover(p: dict[str, Any], atlas: Atlas, lang: str, org_label: str) -> str:
    """Hover text of one event; ``org_label`` is already escaped."""
    end = nn(p.get("end_date"))
    date = date_span(p["date"], end, lang) if end else date_text(p["date"], lang)
    conflicting = ""
    if p.get("status") == "conflicting":
        conflicting = t("fig_conflicting", lang)
    return _join(
        [
            f"<b>{escape_html(pick(p.get('title_ja'), p.get('title_en'), lang))}</b>",
            escape_html(date),
            f"{org_label} · {escape_html(atlas.label('event_kinds', p['kind'], lang))}",
            conflicting,
            escape_html(p.get("note")),
            _source_line(atlas, p.get("source"), lang),
        ]
    )


def timeline_figure(data: Any, atlas: Atlas, lang: str = "ja") -> go.Figure:
    """One row per organisation, 1987–2025: events as markers (a symbol per kind, colour per
    organisation, hollow when sources conflict), world milestones as labelled vertical lines.

    ``data`` is a Selection, an Atlas or a mapping with ``organisations`` and ``events`` frames.
    Data traces carry ``meta={"kind": ..., "conflicting": bool}``; legend-only traces (one per
    kind, grey) explain the symbols and toggle their kind's markers.
    """
    orgs, events = _frames(data)
    if orgs.empty:
        return _empty_figure(t("nothing_selected", lang))
    org_ids = list(orgs.sort_values("founded", na_position="last", kind="stable")["id"])
    labels = {o: escape_html(label) for o, label in row_labels(atlas, org_ids, lang).items()}  # tick labels
    points = _timeline_points(orgs, events, atlas)
    fig = go.Figure()

    kinds = list(dict.fromkeys(p["kind"] for p in sorted(points, key=lambda p: p["date"])))
    for kind in kinds:
        symbol = EVENT_SYMBOLS.get(kind, "circle")
        kind_label = escape_html(atlas.label("event_kinds", kind, lang))
        fig.add_trace(  # the legend entry for this kind (grey, no data)
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                name=kind_label,
                legendgroup=kind,
                marker={"symbol": symbol, "color": NEUTRAL, "size": 11},
                hoverinfo="skip",
                meta={"legend_only": True, "kind": kind},
            )
        )
        for conflicting in (False, True):
            pts = [p for p in points if p["kind"] == kind and (p["status"] == "conflicting") == conflicting]
            if not pts:
                continue
            pts.sort(key=lambda p: (org_ids.index(p["organisation"]), p["date"]))
            fig.add_trace(
                go.Scatter(
                    x=[_x(p["date"]) for p in pts],
                    y=[labels[p["organisation"]] for p in pts],
                    mode="markers",
                    name=kind_label + (" (conflicting)" if conflicting else ""),
                    legendgroup=kind,
                    showlegend=False,
                    marker={
                        "symbol": symbol + ("-open" if conflicting else ""),
                        "color": [org_colour(p["organisation"]) for p in pts],
                        "size": 14,
                        "line": {"width": 2 if conflicting else 1, "color": "#222222"},
                    },
                    hovertext=[_event_hover(p, atlas, lang, labels[p["organisation"]]) for p in pts],
                    hoverinfo="text",
                    customdata=[[p["id"], p["organisation"], p["date"]] for p in pts],
                    meta={"kind": kind, "conflicting": conflicting},
                )
            )
    if any(p["status"] == "conflicting" for p in points):
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                name=t("fig_hollow_conflicting", lang),
                marker={"symbol": "circle-open", "color": NEUTRAL, "size": 11, "line": {"width": 2}},
                hoverinfo="skip",
                meta={"legend_only": True, "kind": None},
            )
        )
    # keep a row for organisations with no event in range (no marker, no hover)
    fig.add_trace(
        go.Scatter(
            x=[None] * len(org_ids),
            y=[labels[o] for o in org_ids],
            mode="markers",
            showlegend=False,
            hoverinfo="skip",
            meta={"rows": True},
        )
    )
    add_milestones(fig, events, atlas, lang)
    fig.update_xaxes(type="date", range=list(X_RANGE), dtick="M24", tickformat="%Y", showgrid=True)
    fig.update_yaxes(
        type="category",
        categoryorder="array",
        categoryarray=[labels[o] for o in org_ids],
        autorange="reversed",
        title=None,
    )
    fig.update_layout(
        height=140 + _top_margin(events, lang) + 45 * len(org_ids),
        margin={"l": 10, "r": 10, "t": _top_margin(events, lang), "b": 40},
        legend={"orientation": "h", "yanchor": "top", "y": -0.08, "x": 0},
        hovermode="closest",
    )
    return fig


def world_milestones(events: pd.DataFrame) -> pd.DataFrame:
    """Events with no organisation (world milestones) that fall inside 1987–2025, by date."""
    world = events[events["organisation"].isna()]
    if world.empty:
        return world.reset_index(drop=True)
    in_range = [YEAR_MIN <= parse_partial_date(d)[0].year <= YEAR_MAX for d in world["date"]]
    world = world[in_range]
    return world.sort_values("date").reset_index(drop=True)


MILESTONE_LABEL_MAX = 28  # characters of a milestone's label above the plot (hover has the full title)


def milestone_label(title: str, date: str) -> str:
    """'Paris Agreement adopted 2015': the title, shortened with '…' if long, and the year."""
    short = title if len(title) <= MILESTONE_LABEL_MAX else title[: MILESTONE_LABEL_MAX - 1] + "…"
    return f"{short} {parse_partial_date(date)[0].year}"


def _top_margin(events: pd.DataFrame, lang: str) -> int:
    """Room above the plot for the vertical milestone labels (about 7 px a character)."""
    world = world_milestones(events)
    if world.empty:
        return 30
    longest = max(
        len(milestone_label(pick(nn(r["title_ja"]), nn(r["title_en"]), lang), r["date"]))
        for _, r in world.iterrows()
    )
    per_char = 11 if lang == "ja" else 7  # Japanese characters are about full-width
    return min(260, 20 + per_char * longest)


def add_milestones(fig: go.Figure, events: pd.DataFrame, atlas: Atlas, lang: str) -> None:
    """World milestones as dashed vertical lines with a label above the plot (hover: date, source)."""
    for _, e in world_milestones(events).iterrows():
        e = {k: nn(v) for k, v in e.items()}
        x = _x(e["date"])
        title = pick(e["title_ja"], e["title_en"], lang)
        fig.add_shape(
            type="line",
            x0=x,
            x1=x,
            xref="x",
            y0=0,
            y1=1,
            yref="paper",
            line={"color": NEUTRAL, "width": 1, "dash": "dash"},
            layer="below",
            name=e["id"],
        )
        fig.add_annotation(
            x=x,
            y=1,
            xref="x",
            yref="paper",
            text=escape_html(milestone_label(title, e["date"])),
            textangle=-90,
            showarrow=False,
            xanchor="center",
            yanchor="bottom",
            font={"size": 11, "color": NEUTRAL},
            hovertext=_event_hover(e, atlas, lang, escape_html(t("fig_world", lang))),
            name=e["id"],
        )


# ---------------------------------------------------------------------------------- membership
def qualifier_text(qualifier: str | None, members: int, atlas: Atlas, lang: str) -> str:
    """'at least 2,500' / '2,500以上' / '約2,500' / '2,500' for exact counts (unescaped)."""
    n = f"{int(members):,}"
    if not qualifier or qualifier == "exact":
        return n
    if has(f"qualified_{qualifier}"):  # the language's own way ("2,500以上", "at least 2,500")
        return t(f"qualified_{qualifier}", lang, n=n)
    return t("qualified_other", lang, n=n, label=atlas.label("qualifiers", qualifier, lang))


def _status_label(status: str, lang: str) -> str:
    return t(f"status_{status}", lang)


def dated_counts(df: pd.DataFrame) -> pd.DataFrame:
    """The rows the membership chart draws: a date and a member count."""
    if df.empty:
        return df.copy()
    return df[df["as_of_date"].notna() & df["members"].notna()].reset_index(drop=True)


def undated_counts(df: pd.DataFrame) -> pd.DataFrame:
    """The rows with no as-of date: never drawn, listed beside the chart instead."""
    if df.empty:
        return df.copy()
    return df[df["as_of_date"].isna()].reset_index(drop=True)


def _point_labels(rows: list[dict[str, Any]]) -> list[str]:
    """'≥2,500' above each point; a label equal to the one before it is left blank (two sources
    giving the same figure would otherwise print it twice on top of itself)."""
    out, previous = [], None
    for r in rows:
        label = f"{QUALIFIER_SIGNS.get(r['qualifier'] or 'exact', '')}{int(r['members']):,}"
        out.append("" if label == previous else label)
        previous = label
    return out


def _membership_hover(r: dict[str, Any], atlas: Atlas, lang: str, org_label: str) -> str:
    written = t("fig_as_written", lang)
    qual = qualifier_text(r["qualifier"], r["members"], atlas, lang)
    kind = f" {r['member_kind']}" if r.get("member_kind") and lang != "ja" else ""  # English in the data
    return _join(
        [
            labelled(f"<b>{escape_html(org_label)}</b>", escape_html(qual + kind), lang),
            labelled(written, quoted(escape_html(r["value_as_written"]), lang), lang),
            labelled(t("as_of", lang), escape_html(date_text(r["as_of"], lang)), lang),
            labelled(t("fig_status", lang), escape_html(_status_label(r["status"], lang)), lang),
            escape_html(r.get("note")),
            _source_line(atlas, r["source"], lang),
        ]
    )


def membership_figure(
    membership_df: pd.DataFrame, atlas: Atlas, lang: str = "ja", log: bool = False, labels: bool = True
) -> go.Figure:
    """Members over time: for each organisation, its seed and confirmed counts as points joined by
    steps (``line_shape='hv'``: a count holds until the next dated count; nothing is interpolated),
    and its secondary and conflicting counts as separate marker-only traces beside them, so values
    from disagreeing sources are both drawn. Marker symbol and label show the qualifier (≥ at
    least, ~ about, < nearly). Undated rows are not drawn (see ``undated_counts``).

    Traces carry ``meta={"organisation": id, "status": "main"|"secondary"|"conflicting"}``.
    """
    rows = dated_counts(membership_df)
    if rows.empty:
        return _empty_figure(t("fig_no_dated_counts", lang))
    rows = rows.sort_values(["as_of_date", "id"], kind="stable")
    org_ids = list(dict.fromkeys(rows["organisation"]))
    names = row_labels(atlas, org_ids, lang)
    fig = go.Figure()
    for org_id in org_ids:
        org_rows = [
            {k: nn(v) for k, v in r.items()} for _, r in rows[rows["organisation"] == org_id].iterrows()
        ]
        groups = (
            ("main", [r for r in org_rows if r["status"] in ("seed", "confirmed")]),
            ("secondary", [r for r in org_rows if r["status"] == "secondary"]),
            ("conflicting", [r for r in org_rows if r["status"] == "conflicting"]),
        )
        colour = org_colour(org_id)
        for group, rs in groups:
            if not rs:
                continue
            main = group == "main"
            open_ = "" if main else "-open"
            status = "" if main else escape_html(_status_label(group, lang))
            name = aside(escape_html(names[org_id]), status, lang)
            fig.add_trace(
                go.Scatter(
                    x=[r["as_of_date"].date().isoformat() for r in rs],
                    y=[int(r["members"]) for r in rs],
                    mode=("lines+markers" if main else "markers") + ("+text" if labels else ""),
                    line_shape="hv",
                    line={"color": colour, "width": 2},
                    name=name,
                    legendgroup=org_id,
                    marker={
                        "symbol": [
                            QUALIFIER_SYMBOLS.get(r["qualifier"] or "exact", "circle") + open_ for r in rs
                        ],
                        "color": colour,
                        "size": 11,
                        "line": {"width": 2 if not main else 1, "color": colour if not main else "#222222"},
                    },
                    text=_point_labels(rs) if labels else None,
                    textposition="top center" if main else "bottom center",
                    textfont={"size": 10, "color": colour},
                    hovertext=[_membership_hover(r, atlas, lang, names[org_id]) for r in rs],
                    hoverinfo="text",
                    customdata=[[r["id"], r["as_of"], r["source"], r["status"]] for r in rs],
                    meta={"organisation": org_id, "status": group},
                )
            )
    # legend entries explaining the qualifier symbols
    used = list(dict.fromkeys((nn(q) or "exact") for q in rows["qualifier"]))
    for q in used:
        sign = QUALIFIER_SIGNS.get(q, "")
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                name=f"{sign} {escape_html(atlas.label('qualifiers', q, lang))}".strip(),
                marker={"symbol": QUALIFIER_SYMBOLS.get(q, "circle"), "color": NEUTRAL, "size": 10},
                hoverinfo="skip",
                legendgroup=f"qualifier-{q}",
                meta={"legend_only": True, "qualifier": q},
            )
        )
    fig.update_xaxes(type="date", range=list(X_RANGE), dtick="M24", tickformat="%Y")
    fig.update_yaxes(
        type="log" if log else "linear",
        title=t("fig_members_axis", lang),
        rangemode="tozero" if not log else "normal",
        tickformat=",",
    )
    fig.update_layout(
        height=520,
        margin={"l": 10, "r": 10, "t": 30, "b": 40},
        legend={"orientation": "h", "yanchor": "top", "y": -0.1, "x": 0},
        hovermode="closest",
    )
    return fig


def latest_membership(atlas: Atlas, org_id: str) -> dict[str, Any] | None:
    """The latest dated member count of one organisation, or None.

    Among counts of the same latest date, a confirmed one is preferred, then seed, secondary,
    conflicting. Keys: id, members, qualifier, member_kind, value_as_written, as_of (as written),
    as_of_date (datetime.date), status, source, source_title, others (other rows of that date).
    """
    df = dated_counts(atlas.membership)
    if df.empty:
        return None
    df = df[df["organisation"] == org_id]
    if df.empty:
        return None
    latest_date = df["as_of_date"].max()
    same = df[df["as_of_date"] == latest_date].copy()
    same["_rank"] = same["status"].map(lambda s: STATUS_ORDER.index(s) if s in STATUS_ORDER else 9)
    same = same.sort_values(["_rank", "id"], kind="stable")
    rows = [{k: nn(v) for k, v in r.items() if k != "_rank"} for _, r in same.iterrows()]
    best = rows[0]
    return {
        "id": best["id"],
        "members": int(best["members"]),
        "qualifier": best["qualifier"],
        "member_kind": best["member_kind"],
        "value_as_written": best["value_as_written"],
        "as_of": best["as_of"],
        "as_of_date": best["as_of_date"].date(),
        "status": best["status"],
        "source": best["source"],
        "source_title": atlas.source_title(best["source"]),
        "others": rows[1:],
    }
