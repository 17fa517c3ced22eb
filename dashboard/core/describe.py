"""Text alternatives: what each chart and the map show, in words. Streamlit-free.

Every chart and the map carry a caption made here (and their data as a table one click away), so
that someone who cannot see the chart, or reads the page aloud, learns what it shows: the pages
put it under the chart, the briefing pack beside it, a screen reader reads it. Plain text (no
markup): callers escape it for where it goes.
"""

from __future__ import annotations

from functools import reduce
from typing import Any

import pandas as pd

from dashboard.core.data import Atlas, nn
from dashboard.core.figures import (
    dated_counts,
    event_label,
    latest_counts,
    qualifier_text,
    short_name,
    world_milestones,
)
from dashboard.core.filters import Selection
from dashboard.core.text import date_text, join, pick, t


def _year(value: Any) -> str:
    return str(value)[:4] if nn(value) else ""


def _item(name: str, when: Any, lang: str) -> str:
    """'CITYNET 1987' / 'シティネット（1987年）'."""
    return t("summary_item_year", lang, name=name, year=_year(when))


def _milestone_name(r: Any, lang: str) -> str:
    short = pick(nn(r.get("label_ja")), nn(r.get("label_en")), lang)
    return short or pick(r["title_ja"], r["title_en"], lang)


def _sentences(parts: list[str], lang: str) -> str:
    return reduce(lambda a, b: t("summary_join", lang, a=a, b=b), parts)


def timeline_summary(sel: Selection, atlas: Atlas, lang: str) -> str:
    """'12 organisations and 52 events, 1987–2025. Founded: CITYNET 1987, CAN 1989, … Key events:
    ICLEI: Renamed 2003, Secretariat moves to Bonn 2010; … World milestones: Earth Summit, Rio 1992, …'"""
    if sel.empty:
        return t("nothing_selected", lang)
    orgs = sel.organisations.sort_values("founded", na_position="last", kind="stable")
    events = sel.events
    own = events[events["organisation"].notna()]
    years = [int(y) for y in events["year"]] + [int(y) for y in orgs["founded_year"].dropna()]
    parts = [
        t(
            "summary_timeline",
            lang,
            n=len(orgs),
            events=len(own),
            first=min(years) if years else "",
            last=max(years) if years else "",
        )
    ]
    founded = [
        _item(short_name(atlas, o, lang), f, lang)
        for o, f in zip(orgs["id"], orgs["founded"], strict=True)
        if nn(f)
    ]
    if founded:
        parts.append(t("summary_founded", lang, items=join(founded, lang)))
    key = []
    for org_id in orgs["id"]:
        mine = own[(own["organisation"] == org_id) & (own["kind"] != "founding")].sort_values("date")
        rows = [{k: nn(v) for k, v in row.items()} for _, row in mine.iterrows()]
        labelled = [_item(event_label(r, lang), r["date"], lang) for r in rows if event_label(r, lang)]
        if labelled:
            key.append(
                t("summary_org_items", lang, org=short_name(atlas, org_id, lang), items=join(labelled, lang))
            )
    if key:
        parts.append(t("summary_key_events", lang, items=t("summary_sep", lang).join(key)))
    world = world_milestones(events)
    if not world.empty:
        shown = [_item(_milestone_name(r, lang), r["date"], lang) for _, r in world.iterrows()]
        parts.append(t("summary_milestones", lang, items=join(shown, lang)))
    return _sentences(parts, lang)


def membership_summary(membership_df: pd.DataFrame, atlas: Atlas, lang: str) -> str:
    """'Dated member counts of 9 organisations, each on its own scale. ICLEI: at least 200 (1990-09)
    → at least 2,500 (2025); … Where sources disagree (6 counts), both figures are drawn, hollow.'"""
    rows = dated_counts(membership_df)
    if rows.empty:
        return t("fig_no_dated_counts", lang)
    rows = rows.sort_values(["as_of_date", "id"], kind="stable")
    org_ids = list(dict.fromkeys(rows["organisation"]))
    per_org = []
    for org_id in org_ids:
        mine = rows[rows["organisation"] == org_id]
        first = {k: nn(v) for k, v in mine.iloc[0].items()}
        latest = latest_counts(rows, org_id)[0]

        def said(r: dict[str, Any]) -> str:
            return t(
                "summary_count",
                lang,
                count=qualifier_text(r["qualifier"], r["members"], atlas, lang),
                date=date_text(r["as_of"], lang),
            )

        span = (
            said(first)
            if first["id"] == latest["id"]
            else t("summary_from_to", lang, start=said(first), end=said(latest))
        )
        per_org.append(t("summary_org_items", lang, org=short_name(atlas, org_id, lang), items=span))
    parts = [t("summary_membership", lang, n=len(org_ids), items=t("summary_sep", lang).join(per_org))]
    other = int(rows["status"].isin(("secondary", "conflicting")).sum())
    if other:
        parts.append(t("summary_disagree", lang, n=other))
    return _sentences(parts, lang)


def map_summary(sel: Selection, atlas: Atlas, lang: str, top: int = 5) -> str:
    """'313 places (29 offices, 284 member places) in 80 countries and territories. Most places:
    ICLEI 170, C40 102, …'"""
    points = sel.points
    if sel.empty or points.empty:
        return t("map_no_points", lang)
    offices = int((points["point_type"] != "member").sum())
    countries = points["country"].dropna().nunique()
    counts: dict[str, int] = {}
    for p in points.itertuples(index=False):
        orgs = [m.organisation for m in (p.memberships or ())] or [p.organisation]
        for o in dict.fromkeys(orgs):
            counts[o] = counts.get(o, 0) + 1
    most = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    parts = [
        t(
            "summary_map",
            lang,
            n=len(points),
            offices=offices,
            members=len(points) - offices,
            countries=countries,
        ),
        t("summary_map_most", lang, items=join((f"{short_name(atlas, o, lang)} {n}" for o, n in most), lang)),
    ]
    return _sentences(parts, lang)
