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

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from dashboard.core.colours import org_colour
from dashboard.core.data import Atlas, nn
from dashboard.core.filters import YEAR_MAX, YEAR_MIN
from dashboard.core.labels import Box, lanes, place, text_height, text_width, wrap
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


# ---------------------------------------------------------------------------------- the space
@dataclass(frozen=True)
class Space:
    """Where a figure will be drawn: its width in pixels, the height it must fit (None: as tall as
    its content needs) and the base font size. The labels are laid out for this space, so that none
    covers another; the dashboard passes the browser's measured size (presentation mode: larger
    type, the height of the screen), the notebook and the briefing pack the defaults."""

    width: int = 1100
    height: int | None = None
    font: int = 13

    @property
    def small(self) -> int:
        """Labels and tick text: one point smaller than the base font, never under 11 px."""
        return max(11, self.font - 1)


DEFAULT_SPACE = Space()
INK = "#222222"  # chart text: dark on white (WCAG AA for any size)
LABEL_BG = "rgba(255,255,255,0.85)"  # behind a label, so a line or marker under it does not hide it
MARKER_PX = 14  # timeline marker size
LABEL_GAP = 3  # pixels kept free between two labels
COUNT_LABEL_GAP = 2  # the same in the membership chart


def _days(value: str) -> float:
    return float(date.fromisoformat(value).toordinal())


_X0, _X1 = _days(X_RANGE[0]), _days(X_RANGE[1])


def _x_px(x_iso: str, plot_w: float) -> float:
    """Where a date (ISO text) lies across a plot ``plot_w`` pixels wide showing X_RANGE."""
    return (_days(x_iso) - _X0) / (_X1 - _X0) * plot_w


def year_ticks(plot_w: float, font: int) -> int:
    """The step in years between labelled ticks on a 1987–2025 axis ``plot_w`` px wide, so that no two
    year labels touch: 5, 10 or 20."""
    per_year = plot_w / ((_X1 - _X0) / 365.25)
    need = text_width("2000", font) + 14
    return next((step for step in (5, 10) if step * per_year >= need), 20)


def _year_axis(fig: go.Figure, plot_w: float, font: int, **where: Any) -> None:
    step = year_ticks(plot_w, font)
    fig.update_xaxes(
        type="date",
        range=list(X_RANGE),
        tick0="1990-01-01",
        dtick=f"M{12 * step}",
        tickformat="%Y",
        tickfont={"size": font, "color": INK},
        showgrid=True,
        gridcolor="#e3e3e3",
        minor={"dtick": "M12", "ticklen": 3, "showgrid": False},
        ticks="outside",
        **where,
    )


def _legend_height(names: list[str], width: float, font: int) -> float:
    """How tall a horizontal plotly legend of ``names`` is when it wraps at ``width`` px."""
    if not names:
        return 0
    lines, used = 1, 0.0
    for name in names:
        item = text_width(name, font) + 52  # symbol, gaps
        if used and used + item > width - 20:
            lines += 1
            used = 0.0
        used += item
    return lines * (font * 1.3 + 14) + 8


def _legend(fig: go.Figure, font: int) -> None:
    fig.update_layout(
        legend={
            "orientation": "h",
            "yref": "container",
            "xref": "container",
            "y": 0,
            "yanchor": "bottom",
            "x": 0,
            "xanchor": "left",
            "font": {"size": font, "color": INK},
            "itemclick": "toggle",
        },
        showlegend=True,
    )


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
                "label_ja": None,
                "label_en": None,
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


def event_label(p: Mapping[str, Any], lang: str) -> str:
    """The short label shown beside an event on the timeline (unescaped): its ``label_<lang>`` from
    events.csv; a founding without one is labelled "Founded" / "設立"; other events have none ('')."""
    label = pick(p.get("label_ja"), p.get("label_en"), lang)
    if label:
        return label
    return t("fig_founded_label", lang) if p.get("kind") == "founding" else ""


# Which labels win when two would collide: foundings first, then moves and renames.
_LABEL_PRIORITY = {"founding": 0, "office": 1, "rename": 2}


def _event_hover(p: dict[str, Any], atlas: Atlas, lang: str, org_label: str) -> str:
    """Hover text of one event; ``org_label`` is already escaped."""
    end = nn(p.get("end_date"))
    when = date_span(p["date"], end, lang) if end else date_text(p["date"], lang)
    conflicting = ""
    if p.get("status") == "conflicting":
        conflicting = t("fig_conflicting", lang)
    return _join(
        [
            f"<b>{escape_html(pick(p.get('title_ja'), p.get('title_en'), lang))}</b>",
            escape_html(when),
            f"{org_label} · {escape_html(atlas.label('event_kinds', p['kind'], lang))}",
            conflicting,
            escape_html(p.get("note")),
            _source_line(atlas, p.get("source"), lang),
        ]
    )


@dataclass
class _Geometry:
    """The timeline's layout in pixels (plot area ``plot_w`` × ``plot_h``, rows ``pitch`` apart)."""

    width: float
    left: float
    right: float
    top: float
    bottom: float
    pitch: float
    label_font: int

    @property
    def plot_w(self) -> float:
        return self.width - self.left - self.right


def _row_label_width(labels: list[str], space: Space) -> tuple[dict[str, str], float]:
    """Row labels wrapped to at most a third of the width (two lines on a phone); the margin they need."""
    font = space.font
    limit = max(90.0, space.width / 3)
    wrapped = [wrap(label, limit, font) for label in labels]
    width = max((text_width(w, font) for w in wrapped), default=40) + 16
    return dict(zip(labels, wrapped, strict=True)), width


def _milestone_layout(
    world: pd.DataFrame, lang: str, plot_w: float, font: int
) -> tuple[list[dict[str, Any]], float]:
    """Each world milestone's label (the short label and the year, wrapped, never cut) placed in
    lanes above the plot so none covers another; and the height of those lanes."""
    items = []
    for _, r in world.iterrows():
        e = {k: nn(v) for k, v in r.items()}
        short = pick(e.get("label_ja"), e.get("label_en"), lang) or pick(e["title_ja"], e["title_en"], lang)
        text = escape_html(milestone_label(short, e["date"]))
        text = wrap(text, min(260.0, plot_w * 0.45), font)
        w, h = text_width(text, font) + 6, text_height(text, font)
        x = _x_px(_x(e["date"]), plot_w)
        spans = {"left": (x + 3, x + 3 + w), "right": (x - 3 - w, x - 3), "center": (x - w / 2, x + w / 2)}
        fits = [a for a in ("left", "right") if spans[a][0] >= 0 and spans[a][1] <= plot_w] or ["center"]
        items.append({"event": e, "text": text, "h": h, "anchors": fits, "spans": [spans[a] for a in fits]})
    placed = lanes([i["spans"] for i in items])
    n = max((lane for lane, _ in placed), default=-1) + 1
    lane_h = [max((i["h"] for i, (lane, _) in zip(items, placed, strict=True) if lane == k), default=0) + 3
              for k in range(n)]  # fmt: skip
    for item, (lane, k) in zip(items, placed, strict=True):
        item["lane"] = lane
        item["anchor"] = item["anchors"][k]
        item["yshift"] = 4 + sum(lane_h[:lane])
    return items, 4 + sum(lane_h) + 4


def timeline_figure(data: Any, atlas: Atlas, lang: str = "ja", space: Space | None = None) -> go.Figure:
    """One row per organisation, 1987–2025: events as markers (a symbol per kind, colour per
    organisation, hollow when sources conflict), key events (foundings, renames, secretariat moves:
    the events with a short label) labelled beside their marker, world milestones as dashed lines
    labelled above the plot. Labels are laid out for ``space`` so that none covers another; a label
    with no room is left out (its event keeps its marker, hover and row in the table).

    ``data`` is a Selection, an Atlas or a mapping with ``organisations`` and ``events`` frames.
    Data traces carry ``meta={"kind": ..., "conflicting": bool}``; legend-only traces (one per
    kind, grey) explain the symbols and toggle their kind's markers. Event labels are annotations
    named ``event:<id>``, milestone labels annotations named by the milestone's id.
    """
    space = space or DEFAULT_SPACE
    orgs, events = _frames(data)
    if orgs.empty:
        return _empty_figure(t("nothing_selected", lang))
    org_ids = list(orgs.sort_values("founded", na_position="last", kind="stable")["id"])
    plain = {o: escape_html(label) for o, label in row_labels(atlas, org_ids, lang).items()}
    wrapped, left = _row_label_width(list(plain.values()), space)
    labels = {o: wrapped[plain[o]] for o in org_ids}  # tick labels (and the rows' category names)
    points = _timeline_points(orgs, events, atlas)
    fig = go.Figure()

    kinds = list(dict.fromkeys(p["kind"] for p in sorted(points, key=lambda p: p["date"])))
    legend_names = []
    for kind in kinds:
        symbol = EVENT_SYMBOLS.get(kind, "circle")
        kind_label = escape_html(atlas.label("event_kinds", kind, lang))
        legend_names.append(kind_label)
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
                        "size": MARKER_PX,
                        "line": {"width": 2 if conflicting else 1, "color": INK},
                    },
                    hovertext=[_event_hover(p, atlas, lang, plain[p["organisation"]]) for p in pts],
                    hoverinfo="text",
                    customdata=[[p["id"], p["organisation"], p["date"]] for p in pts],
                    meta={"kind": kind, "conflicting": conflicting},
                )
            )
    if any(p["status"] == "conflicting" for p in points):
        name = escape_html(t("fig_hollow_conflicting", lang))
        legend_names.append(name)
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                name=name,
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

    # ---- geometry: margins, rows, then the labels laid out in it
    right = 16
    plot_w = space.width - left - right
    world = world_milestones(events)
    milestones, top = _milestone_layout(world, lang, plot_w, space.small)
    axis_h = space.font * 1.4 + 14
    bottom = (
        axis_h + _legend_height(legend_names, plot_w, space.small) + 8
    )  # plotly wraps it at the plot's width
    if space.height:
        pitch = max(24.0, (space.height - top - bottom) / len(org_ids))
    else:
        pitch = max(46.0, space.font * 3.6)
    label_font = int(min(space.small, max(10, (pitch - 6) / 1.3)))
    geo = _Geometry(space.width, left, right, top, bottom, pitch, label_font)
    _add_milestones(fig, milestones, atlas, lang, space.small, plot_h=pitch * len(org_ids))
    _add_event_labels(fig, points, org_ids, labels, geo, lang)

    _year_axis(fig, geo.plot_w, space.small)
    fig.update_yaxes(
        type="category",
        categoryarray=[labels[o] for o in org_ids],
        categoryorder="array",
        range=[len(org_ids) - 0.5, -0.5],  # the first organisation on top
        automargin=False,
        tickfont={"size": space.font, "color": INK},
        title=None,
        showgrid=True,
        gridcolor="#f0f0f0",
        fixedrange=True,
    )
    _legend(fig, space.small)
    fig.update_layout(
        height=round(top + bottom + pitch * len(org_ids)),
        margin={"l": round(left), "r": right, "t": round(top), "b": round(bottom), "autoexpand": False},
        hovermode="closest",
        font={"color": INK},
        plot_bgcolor="#ffffff",
        paper_bgcolor="#ffffff",
    )
    return fig


def _add_event_labels(
    fig: go.Figure,
    points: list[dict[str, Any]],
    org_ids: list[str],
    labels: dict[str, str],
    geo: _Geometry,
    lang: str,
) -> None:
    """The key events' short labels beside their markers: on the row's line where no marker is in the
    way, else above or below it (between the rows); left out where no place is free. No label covers
    another label or any marker, and all stay inside the plot."""
    font = geo.label_font
    h = text_height("X", font)
    gap = MARKER_PX / 2 + 3  # from the marker's centre to the label's near edge
    lift = MARKER_PX / 2 + 1  # above/below: clear of the markers on the line
    r = MARKER_PX / 2 - LABEL_GAP  # (place() keeps LABEL_GAP around every box: none around markers)
    markers = []
    for p in points:
        x, yc = _x_px(_x(p["date"]), geo.plot_w), -org_ids.index(p["organisation"]) * geo.pitch
        markers.append(Box(x - r, yc - r, x + r, yc + r))
    plot = Box(0, -(len(org_ids) - 0.5) * geo.pitch, geo.plot_w, geo.pitch / 2)
    wanted = [(p, event_label(p, lang)) for p in points]
    wanted = [(p, text) for p, text in wanted if text]
    wanted.sort(key=lambda pt: (_LABEL_PRIORITY.get(pt[0]["kind"], 9), pt[0]["date"]))
    options = []
    for p, text in wanted:
        yc = -org_ids.index(p["organisation"]) * geo.pitch
        x = _x_px(_x(p["date"]), geo.plot_w)
        texts = [text]
        if p["kind"] == "founding" and text != t("fig_founded_label", lang):
            texts.append(t("fig_founded_label", lang))  # the short form, where the long one has no room
        on_line, off_line = [], []  # on the line first (the long text, then the short), then off it
        for shown in texts:
            w = text_width(escape_html(shown), font) + 4
            on_line += [  # (xanchor, yanchor, yshift, box, text): right of the marker, left of it
                ("left", "middle", 0, Box(x + gap, yc - h / 2, x + gap + w, yc + h / 2), shown),
                ("right", "middle", 0, Box(x - gap - w, yc - h / 2, x - gap, yc + h / 2), shown),
            ]
            off_line += [  # above right, below right, above left, below left
                ("left", "bottom", lift, Box(x + gap, yc + lift, x + gap + w, yc + lift + h), shown),
                ("left", "top", -lift, Box(x + gap, yc - lift - h, x + gap + w, yc - lift), shown),
                ("right", "bottom", lift, Box(x - gap - w, yc + lift, x - gap, yc + lift + h), shown),
                ("right", "top", -lift, Box(x - gap - w, yc - lift - h, x - gap, yc - lift), shown),
            ]
        opts = on_line + off_line
        options.append(opts)
    chosen = place([[o[3] for o in opts] for opts in options], taken=markers, bounds=plot, gap=LABEL_GAP)
    for (p, _), opts, i in zip(wanted, options, chosen, strict=True):
        if i is None:
            continue
        xanchor, yanchor, yshift, _, shown = opts[i]
        where: dict[str, Any] = {"xanchor": xanchor, "yanchor": "middle"}
        if yanchor == "middle":  # on the line, beside the marker
            where.update(showarrow=False, xshift=gap if xanchor == "left" else -gap)
        else:  # above or below the line: a short leader to its marker says which one it names
            where.update(
                showarrow=True,
                arrowhead=0,
                arrowwidth=1,
                arrowcolor=NEUTRAL,
                standoff=MARKER_PX / 2,
                ax=gap if xanchor == "left" else -gap,
                ay=-(yshift + (h / 2 if yshift > 0 else -h / 2)),  # plotly's ay points down
            )
        fig.add_annotation(
            x=_x(p["date"]),
            y=labels[p["organisation"]],
            xref="x",
            yref="y",
            text=escape_html(shown),
            font={"size": font, "color": INK},
            bgcolor=LABEL_BG,
            borderpad=0,
            name=f"event:{p['id']}",
            **where,
        )


def world_milestones(events: pd.DataFrame) -> pd.DataFrame:
    """Events with no organisation (world milestones) that fall inside 1987–2025, by date."""
    world = events[events["organisation"].isna()]
    if world.empty:
        return world.reset_index(drop=True)
    in_range = [YEAR_MIN <= parse_partial_date(d)[0].year <= YEAR_MAX for d in world["date"]]
    world = world[in_range]
    return world.sort_values("date").reset_index(drop=True)


def milestone_label(title: str, date_value: str) -> str:
    """'Paris Agreement 2015': a milestone's short label (or title) and its year, whole."""
    return f"{title} {parse_partial_date(date_value)[0].year}"


def _add_milestones(
    fig: go.Figure, items: list[dict[str, Any]], atlas: Atlas, lang: str, font: int, plot_h: float
) -> None:
    """World milestones as dashed vertical lines, each reaching up to its label in its lane above the
    plot (hover: full title, date, source)."""
    for item in items:
        e = item["event"]
        x = _x(e["date"])
        fig.add_shape(
            type="line",
            x0=x,
            x1=x,
            xref="x",
            y0=0,
            y1=1 + item["yshift"] / plot_h,  # up to the label's lane
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
            text=item["text"],
            showarrow=False,
            xanchor=item["anchor"],
            yanchor="bottom",
            xshift={"left": 3, "right": -3, "center": 0}[item["anchor"]],
            yshift=item["yshift"],
            align="left",
            font={"size": font, "color": NEUTRAL},
            bgcolor=LABEL_BG,  # the lines of milestones further right pass behind it
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


def count_label(r: Mapping[str, Any]) -> str:
    """'≥2,500': a count with its qualifier's sign, as drawn beside a point."""
    return f"{QUALIFIER_SIGNS.get(r['qualifier'] or 'exact', '')}{int(r['members']):,}"


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


def _org_rows(rows: pd.DataFrame, org_id: str) -> list[tuple[str, list[dict[str, Any]]]]:
    """An organisation's dated counts in three groups: main (seed and confirmed, joined by steps),
    secondary, conflicting."""
    org_rows = [{k: nn(v) for k, v in r.items()} for _, r in rows[rows["organisation"] == org_id].iterrows()]
    return [
        ("main", [r for r in org_rows if r["status"] in ("seed", "confirmed")]),
        ("secondary", [r for r in org_rows if r["status"] == "secondary"]),
        ("conflicting", [r for r in org_rows if r["status"] == "conflicting"]),
    ]


def _unit_interval(domain: tuple[float, float]) -> tuple[float, float]:
    lo, hi = domain
    return (min(1.0, max(0.0, lo)), min(1.0, max(0.0, hi)))


@dataclass
class _Panel:
    """One plot area of the membership figure: its axes, the organisations drawn in it, its place
    (paper fractions) and size in pixels."""

    n: int  # 1 for "x"/"y", 2 for "x2"/"y2" ...
    org_ids: list[str]
    x_domain: tuple[float, float]
    y_domain: tuple[float, float]
    w: float
    h: float
    y_max: float
    log: bool = False
    title: str = ""
    title_x: float = 0.0
    placed: list[Box] = field(default_factory=list)  # label boxes already drawn in this panel

    def __post_init__(self) -> None:
        # sums of pixel fractions can pass 1 by a rounding error (1.0000000000000002 at some widths),
        # which plotly refuses as a domain
        self.x_domain = _unit_interval(self.x_domain)
        self.y_domain = _unit_interval(self.y_domain)

    @property
    def xref(self) -> str:
        return "x" if self.n == 1 else f"x{self.n}"

    @property
    def yref(self) -> str:
        return "y" if self.n == 1 else f"y{self.n}"

    def y_px(self, value: float) -> float:
        if self.log:
            lo, hi = 0.0, math.log10(self.y_max)
            return (math.log10(max(value, 1)) - lo) / (hi - lo) * self.h
        return value / self.y_max * self.h


def _nice_max(value: float) -> float:
    """An axis top a little above ``value`` (room for the label above the highest point)."""
    target = value * 1.3
    magnitude = 10 ** math.floor(math.log10(target)) if target > 0 else 1
    for step in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if step * magnitude >= target:
            return step * magnitude
    return 10 * magnitude


def _columns_for(width: float, n: int) -> int:
    best = 4 if width >= 1000 else 3 if width >= 720 else 2 if width >= 470 else 1
    return max(1, min(best, n))


def membership_figure(
    membership_df: pd.DataFrame,
    atlas: Atlas,
    lang: str = "ja",
    log: bool = False,
    labels: bool = True,
    *,
    view: str = "panels",
    space: Space | None = None,
) -> go.Figure:
    """Members over time. ``view="panels"`` (small multiples): one panel per organisation, each with
    its own scale, so that 13 cities and 2,500 governments are both legible; ``view="overlay"``: every
    organisation in one chart (``log`` for a log scale).

    In each, an organisation's seed and confirmed counts are points joined by steps
    (``line_shape='hv'``: a count holds until the next dated count; nothing is interpolated), and its
    secondary and conflicting counts separate hollow points beside them, so values from disagreeing
    sources are both drawn. Marker symbol and label show the qualifier (≥ at least, ~ about,
    < nearly). Labels are laid out for ``space`` so that none covers another (the latest count of
    each organisation first); a point without room for its label keeps its hover. Undated rows are
    not drawn (see ``undated_counts``).

    Traces carry ``meta={"organisation": id, "status": "main"|"secondary"|"conflicting"}``;
    ``text`` holds each point's label, '' where it is left out.
    """
    space = space or DEFAULT_SPACE
    rows = dated_counts(membership_df)
    if rows.empty:
        return _empty_figure(t("fig_no_dated_counts", lang))
    rows = rows.sort_values(["as_of_date", "id"], kind="stable")
    org_ids = list(dict.fromkeys(rows["organisation"]))
    names = row_labels(atlas, org_ids, lang)
    qualifiers = list(dict.fromkeys((nn(q) or "exact") for q in rows["qualifier"]))
    legend_names = [
        f"{QUALIFIER_SIGNS.get(q, '')} {escape_html(atlas.label('qualifiers', q, lang))}".strip()
        for q in qualifiers
    ]
    hollow = bool((rows["status"].isin(("secondary", "conflicting"))).any())
    if hollow:
        legend_names.append(escape_html(t("fig_hollow_other_source", lang)))

    font, small = space.font, space.small
    margin = {"l": 8, "r": 12, "t": 8}
    in_legend = legend_names + ([escape_html(names[o]) for o in org_ids] if view == "overlay" else [])
    paper_w = space.width - margin["l"] - margin["r"]
    margin["b"] = round(_legend_height(in_legend, paper_w * 0.85, small) + 6)
    panels, paper_h = _membership_panels(rows, org_ids, names, lang, view, log, space, paper_w, margin)

    fig = go.Figure()
    for panel in panels:
        mine = rows[rows["organisation"].isin(panel.org_ids)]
        for x_iso, members in zip(mine["as_of_date"], mine["members"], strict=True):
            x, y = _x_px(x_iso.date().isoformat(), panel.w), panel.y_px(float(members))
            r = 6 - COUNT_LABEL_GAP  # no label over a marker (place() keeps the gap around it)
            panel.placed.append(Box(x - r, y - r, x + r, y + r))
        for org_id in panel.org_ids:
            _add_org_traces(fig, panel, rows, org_id, names[org_id], atlas, lang, labels, small)
    for q, name in zip(qualifiers, legend_names, strict=False):
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                name=name,
                marker={"symbol": QUALIFIER_SYMBOLS.get(q, "circle"), "color": NEUTRAL, "size": 10},
                hoverinfo="skip",
                legendgroup=f"qualifier-{q}",
                meta={"legend_only": True, "qualifier": q},
            )
        )
    if hollow:
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                name=legend_names[-1],
                marker={"symbol": "circle-open", "color": NEUTRAL, "size": 10, "line": {"width": 2}},
                hoverinfo="skip",
                meta={"legend_only": True, "qualifier": None},
            )
        )
    layout: dict[str, Any] = {}
    for panel in panels:
        suffix = "" if panel.n == 1 else str(panel.n)
        step = year_ticks(panel.w, small)
        layout[f"xaxis{suffix}"] = {
            "domain": list(panel.x_domain),
            "anchor": panel.yref,
            "type": "date",
            "range": list(X_RANGE),
            "tick0": "1990-01-01",
            "dtick": f"M{12 * step}",
            "tickformat": "%Y",
            "tickfont": {"size": small, "color": INK},
            "ticks": "outside",
            "showgrid": True,
            "gridcolor": "#e3e3e3",
        }
        yaxis: dict[str, Any] = {
            "domain": list(panel.y_domain),
            "anchor": panel.xref,
            "tickfont": {"size": small, "color": INK},
            "tickformat": ",",
            "gridcolor": "#e3e3e3",
            "zeroline": True,
            "zerolinecolor": "#bbbbbb",
            "automargin": False,
        }
        if panel.log:
            yaxis.update(type="log", range=[0, math.log10(panel.y_max)])
        else:
            yaxis.update(type="linear", range=[0, panel.y_max], nticks=4 if panel.h > 120 else 3)
        if view == "overlay":
            yaxis["title"] = {"text": escape_html(t("fig_members_axis", lang)), "font": {"size": small}}
        layout[f"yaxis{suffix}"] = yaxis
        if panel.title:
            fig.add_annotation(
                x=panel.title_x,
                y=panel.y_domain[1],
                xref="paper",
                yref="paper",
                xanchor="left",
                yanchor="bottom",
                yshift=small * 0.7 + 2,  # clear of the top tick's label
                text=panel.title,
                showarrow=False,
                align="left",
                font={"size": font, "color": INK},
                name=f"panel:{panel.org_ids[0]}",
            )
    _legend(fig, small)
    fig.update_layout(
        **layout,
        height=round(paper_h + margin["t"] + margin["b"]),
        margin={**margin, "autoexpand": False},
        hovermode="closest",
        font={"color": INK},
        plot_bgcolor="#ffffff",
        paper_bgcolor="#ffffff",
    )
    return fig


def _membership_panels(
    rows: pd.DataFrame,
    org_ids: list[str],
    names: dict[str, str],
    lang: str,
    view: str,
    log: bool,
    space: Space,
    paper_w: float,
    margin: dict[str, int],
) -> tuple[list[_Panel], float]:
    """The plot areas: one per organisation (panels) or one for all (overlay), placed in a grid
    that fits ``space`` (its height, when given); and the height of the whole grid in pixels."""
    small = space.small
    out: list[_Panel] = []
    if view == "overlay":
        y_left = text_width(f"{int(rows['members'].max()):,}", small) + 30  # ticks and the axis title
        plot_w = paper_w - y_left
        axis_h = small * 1.4 + 12
        fit = space.height - margin["t"] - margin["b"] - axis_h if space.height else 440.0
        plot_h = max(160.0, fit)
        paper_h = plot_h + axis_h
        top = _nice_max(float(rows["members"].max()))
        if log:
            top = 10 ** math.ceil(math.log10(float(rows["members"].max()) * 1.5))
        out.append(
            _Panel(1, org_ids, (y_left / paper_w, 1.0), (axis_h / paper_h, 1.0), plot_w, plot_h, top, log=log)
        )
        return out, paper_h

    cols = _columns_for(paper_w, len(org_ids))
    n_rows = math.ceil(len(org_ids) / cols)
    gap_x = 26.0
    cell_w = (paper_w - gap_x * (cols - 1)) / cols
    title_font = space.font
    axis_h = small * 1.4 + 10
    titles = {}
    title_h = 0.0
    for org_id in org_ids:
        latest = next(iter(latest_counts(rows, org_id)), None)
        text = f"<b>{escape_html(names[org_id])}</b>"
        if latest is not None:
            text += " " + escape_html(
                t(
                    "fig_panel_latest",
                    lang,
                    count=count_label(latest),
                    date=format_partial_date(latest["as_of"]),
                )
            )
        titles[org_id] = wrap(text, cell_w - 4, title_font)
        title_h = max(title_h, text_height(titles[org_id], title_font) + small * 0.7 + 6)
    gap_y = 12.0
    if space.height:
        avail = space.height - margin["t"] - margin["b"]
        cell_h = max(110.0, (avail - gap_y * (n_rows - 1)) / n_rows)
    else:
        cell_h = 210.0 if cols > 1 else 190.0
    paper_h = cell_h * n_rows + gap_y * (n_rows - 1)
    for k, org_id in enumerate(org_ids):
        r, c = divmod(k, cols)
        top_y = max(float(rows.loc[rows["organisation"] == org_id, "members"].max()), 1.0)
        y_left = text_width(f"{int(_nice_max(top_y)):,}", small) + 10
        x0 = c * (cell_w + gap_x)
        cell_top = r * (cell_h + gap_y)
        plot_top = cell_top + title_h
        plot_bottom = cell_top + cell_h - axis_h
        out.append(
            _Panel(
                k + 1,
                [org_id],
                ((x0 + y_left) / paper_w, (x0 + cell_w) / paper_w),
                (1 - plot_bottom / paper_h, 1 - plot_top / paper_h),
                cell_w - y_left,
                plot_bottom - plot_top,
                _nice_max(top_y),
                title=titles[org_id],
                title_x=x0 / paper_w,
            )
        )
    return out, paper_h


def _qualifier_symbol(r: Mapping[str, Any]) -> str:
    return QUALIFIER_SYMBOLS.get(r["qualifier"] or "exact", "circle")


def _add_org_traces(
    fig: go.Figure,
    panel: _Panel,
    rows: pd.DataFrame,
    org_id: str,
    name: str,
    atlas: Atlas,
    lang: str,
    labels: bool,
    font: int,
) -> None:
    colour = org_colour(org_id)
    groups = [(g, rs) for g, rs in _org_rows(rows, org_id) if rs]
    texts = _placed_labels(panel, groups, font) if labels else {}
    for group, rs in groups:
        main = group == "main"
        open_ = "" if main else "-open"
        trace_name = aside(escape_html(name), "" if main else escape_html(_status_label(group, lang)), lang)
        shown = [texts[r["id"]][0] if r["id"] in texts else "" for r in rs]
        fig.add_trace(
            go.Scatter(
                x=[r["as_of_date"].date().isoformat() for r in rs],
                y=[int(r["members"]) for r in rs],
                xaxis=panel.xref,
                yaxis=panel.yref,
                mode=("lines+markers" if main else "markers") + ("+text" if labels else ""),
                line_shape="hv",
                line={"color": colour, "width": 2.5},
                name=trace_name,
                legendgroup=org_id,
                showlegend=main and len(panel.org_ids) > 1,  # one chart: the organisations in the legend
                marker={
                    "symbol": [_qualifier_symbol(r) + open_ for r in rs],
                    "color": colour,
                    "size": 10 if main else 11,
                    "line": {"width": 2 if not main else 1, "color": colour if not main else INK},
                },
                text=shown if labels else None,
                textposition=[texts[r["id"]][1] if r["id"] in texts else "top center" for r in rs]
                if labels
                else None,
                textfont={"size": font, "color": INK},
                hovertext=[_membership_hover(r, atlas, lang, name) for r in rs],
                hoverinfo="text",
                customdata=[[r["id"], r["as_of"], r["source"], r["status"]] for r in rs],
                meta={"organisation": org_id, "status": group},
            )
        )


def _placed_labels(
    panel: _Panel, groups: list[tuple[str, list[dict[str, Any]]]], font: int
) -> dict[str, tuple[str, str]]:
    """{count id: (label, plotly textposition)} for the points of one organisation whose label is
    drawn: above, below, right or left of the point, wherever it covers no label already in the
    panel. The latest main count goes first, then the first, then the counts of other sources,
    then the rest from the latest back."""
    placed = panel.placed
    every = [(g, r) for g, rs in groups for r in rs]
    main = [r for g, r in every if g == "main"]
    order: list[dict[str, Any]] = []
    if main:
        order += [main[-1], main[0]]
    order += [r for g, r in every if g != "main"]
    order += list(reversed(main))
    seen: set[str] = set()
    order = [r for r in order if not (r["id"] in seen or seen.add(r["id"]))]
    h = text_height("0", font)
    bounds = Box(0, 0, panel.w, panel.h)
    out: dict[str, tuple[str, str]] = {}
    candidates = []
    for r in order:
        x = _x_px(r["as_of_date"].date().isoformat(), panel.w)
        y = panel.y_px(float(r["members"]))
        w = text_width(count_label(r), font) + 2
        candidates.append(
            [
                ("top center", Box(x - w / 2, y + 7, x + w / 2, y + 7 + h)),
                ("bottom center", Box(x - w / 2, y - 7 - h, x + w / 2, y - 7)),
                ("middle right", Box(x + 8, y - h / 2, x + 8 + w, y + h / 2)),
                ("middle left", Box(x - 8 - w, y - h / 2, x - 8, y + h / 2)),
            ]
        )
    chosen = place([[b for _, b in c] for c in candidates], taken=placed, bounds=bounds, gap=COUNT_LABEL_GAP)
    for r, c, i in zip(order, candidates, chosen, strict=True):
        if i is None:
            continue
        out[r["id"]] = (count_label(r), c[i][0])
        placed.append(c[i][1])
    return out


def latest_counts(membership_df: pd.DataFrame, org_id: str) -> list[dict[str, Any]]:
    """An organisation's dated counts of its latest date, best first: a confirmed one, then seed,
    secondary, conflicting (what the Overview, the Compare page and each membership panel's title give)."""
    df = dated_counts(membership_df)
    df = df[df["organisation"] == org_id] if not df.empty else df
    if df.empty:
        return []
    same = df[df["as_of_date"] == df["as_of_date"].max()].copy()
    same["_rank"] = same["status"].map(lambda s: STATUS_ORDER.index(s) if s in STATUS_ORDER else 9)
    same = same.sort_values(["_rank", "id"], kind="stable")
    return [{k: nn(v) for k, v in r.items() if k != "_rank"} for _, r in same.iterrows()]


def latest_membership(atlas: Atlas, org_id: str) -> dict[str, Any] | None:
    """The latest dated member count of one organisation, or None.

    Among counts of the same latest date, a confirmed one is preferred, then seed, secondary,
    conflicting. Keys: id, members, qualifier, member_kind, value_as_written, as_of (as written),
    as_of_date (datetime.date), status, source, source_title, others (other rows of that date).
    """
    rows = latest_counts(atlas.membership, org_id)
    if not rows:
        return None
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
