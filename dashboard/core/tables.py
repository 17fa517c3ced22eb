"""Display tables (one language at a time) for the pages and the notebook. Streamlit-free.

Cells hold plain text; the dashboard shows them with st.dataframe (never as HTML).
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from dashboard.core.compare import (
    latest_membership_text,
    relations_text,
    secretariat_text,
    status_text,
)
from dashboard.core.data import Atlas, nn
from dashboard.core.figures import short_name
from dashboard.core.filters import Selection
from dashboard.core.places import names_for
from dashboard.core.text import aside, count, date_span, date_text, join, localized, pick, precision_label, t


def organisations_table(atlas: Atlas, sel: Selection, lang: str) -> pd.DataFrame:
    rows = []
    for _, o in sel.organisations.iterrows():
        place = pick(nn(o["founded_place_ja"]), nn(o["founded_place_en"]), lang)
        founded = join((date_text(nn(o["founded"]), lang), place), lang)
        rows.append(
            {
                t("col_name", lang): pick(o["name_ja"], o["name_en"], lang),
                t("col_kind", lang): atlas.label("organisation_kinds", o["kind"], lang),
                t("col_founded", lang): founded,
                t("col_secretariat", lang): secretariat_text(atlas, o["id"], lang, sources=False),
                t("col_regions", lang): join((atlas.label("regions", r, lang) for r in o["regions"]), lang),
                t("col_latest_members", lang): latest_membership_text(atlas, o["id"], lang),
                t("col_status", lang): status_text(atlas, o["id"], lang, sources=False),
                t("col_parent", lang): relations_text(atlas, o["id"], lang, sources=False),
            }
        )
    return pd.DataFrame(rows)


def _short(atlas: Atlas, org_id: str | None, lang: str) -> str:
    return short_name(atlas, org_id, lang) if org_id else ""


def sources_table(atlas: Atlas, lang: str) -> pd.DataFrame:
    df = atlas.sources
    return pd.DataFrame(
        {
            t("col_id", lang): df["id"],
            t("source", lang): df["title"],
            t("col_publisher", lang): df["publisher"],
            t("col_language", lang): df["language"],
            t("col_seed", lang): df["seed"].map(lambda v: nn(v) or ""),
            t("col_url", lang): df["url"].map(lambda v: nn(v) or None),
            t("col_published", lang): df["published"].map(lambda v: nn(v) or ""),
            t("col_accessed", lang): df["accessed"].map(lambda v: nn(v) or ""),
        }
    )


def _kind_text(atlas: Atlas, point_type: str, kind: str | None, member_kind: str | None, lang: str) -> str:
    if point_type == "member":
        return atlas.label("member_kinds", member_kind, lang) or t("member_city", lang)
    shown = atlas.label("office_kinds", kind, lang)
    return t("former_office_kind", lang, kind=shown) if point_type == "former-office" else shown


def _networks_text(atlas: Atlas, memberships: tuple, lang: str) -> str:
    """ "C40 (since 2006), ANMC21" / "C40（2006年から）、ANMC21": every network of a place, with its
    dates where known."""
    out = []
    for m in memberships:
        span = date_span(m.since, m.until, lang)
        out.append(aside(short_name(atlas, m.organisation, lang), span, lang))
    return join(out, lang)


def _sources_text(atlas: Atlas, sources: Iterable[str]) -> str:
    return "; ".join(atlas.source_title(s) for s in dict.fromkeys(sources))


def places_table(atlas: Atlas, sel: Selection, lang: str) -> pd.DataFrame:
    """Every place on the map: name, networks (with dates), kind, address, city, country, precision,
    sources and as-of date."""
    rows = []
    for p in sel.points.itertuples(index=False):
        memberships = p.memberships or ()
        sources = [s for m in memberships for s in m.sources] or [p.source]
        rows.append(
            {
                t("col_name", lang): names_for(p._asdict(), lang)[0],
                t("col_networks", lang): _networks_text(atlas, memberships, lang)
                if memberships
                else short_name(atlas, p.organisation, lang),
                t("field_kind", lang): _kind_text(atlas, p.point_type, nn(p.kind), nn(p.member_kind), lang),
                t("field_address", lang): nn(p.address) or "",
                t("col_city", lang): pick(nn(p.city_ja), nn(p.city), lang),
                t("col_country", lang): atlas.label("countries", p.country, lang),
                t("field_precision", lang): precision_label(nn(p.precision), lang),
                t("field_source", lang): _sources_text(atlas, sources),
                t("as_of", lang): nn(p.as_of) or "",
            }
        )
    return pd.DataFrame(
        rows,
        columns=_columns(
            lang,
            "col_name",
            "col_networks",
            "field_kind",
            "field_address",
            "col_city",
            "col_country",
            "field_precision",
            "field_source",
            "as_of",
        ),
    )


def several_networks_table(atlas: Atlas, sel: Selection, lang: str, minimum: int = 2) -> pd.DataFrame:
    """The places that belong to ``minimum`` or more of the selected networks (current memberships):
    name, country, how many networks, which (with dates), and their sources."""
    pts = sel.points[sel.points["n_networks"] >= minimum]
    rows = []
    for p in pts.sort_values(["n_networks", "name_en"], ascending=[False, True]).itertuples(index=False):
        current = tuple(m for m in p.memberships if m.current)
        rows.append(
            {
                t("col_name", lang): pick(nn(p.name_ja), nn(p.name_en), lang),
                t("col_country", lang): atlas.label("countries", p.country, lang),
                t("col_n_networks", lang): int(p.n_networks),
                t("col_networks", lang): _networks_text(atlas, current, lang),
                t("field_source", lang): _sources_text(atlas, (s for m in current for s in m.sources)),
            }
        )
    return pd.DataFrame(
        rows,
        columns=_columns(lang, "col_name", "col_country", "col_n_networks", "col_networks", "field_source"),
    )


def _columns(lang: str, *keys: str) -> list[str]:
    return [t(k, lang) for k in keys]


def events_table(atlas: Atlas, sel: Selection, lang: str) -> pd.DataFrame:
    e = sel.events.sort_values("date")
    return pd.DataFrame(
        {
            t("col_date", lang): e["date"],
            t("field_organisation", lang): e["organisation"].map(lambda o: _short(atlas, nn(o), lang) or "—"),
            t("field_kind", lang): e["kind"].map(lambda k: atlas.label("event_kinds", k, lang)),
            t("col_event", lang): [localized(r, "title", lang) for _, r in e.iterrows()],
            t("col_check_status", lang): e["status"].map(lambda v: t(f"status_{v}", lang)),
            t("field_source", lang): e["source"].map(atlas.source_title),
        }
    )


def membership_table(atlas: Atlas, sel: Selection, lang: str) -> pd.DataFrame:
    m = sel.membership.sort_values(["organisation", "as_of"], na_position="last")
    return pd.DataFrame(
        {
            t("field_organisation", lang): m["organisation"].map(lambda o: _short(atlas, o, lang)),
            t("as_of", lang): m["as_of"].map(lambda v: nn(v) or t("undated", lang)),
            t("col_as_written", lang): m["value_as_written"],
            t("col_members", lang): m["members"].astype("Int64"),
            t("col_check_status", lang): m["status"].map(lambda v: t(f"status_{v}", lang)),
            t("field_source", lang): m["source"].map(atlas.source_title),
            t("col_note", lang): m["note"].map(lambda v: nn(v) or ""),
        }
    )


def disagreements_table(atlas: Atlas, lang: str) -> pd.DataFrame:
    """Notes recording where sources disagree, and rows whose status is 'conflicting'."""
    rows = []
    for org_id, rec in atlas.organisation_records.items():
        for note in rec.notes:
            rows.append(
                (_short(atlas, org_id, lang), pick(note.ja, note.en, lang), atlas.source_title(note.source))
            )
    for _, e in atlas.events[atlas.events["status"] == "conflicting"].iterrows():
        title = localized(e, "title", lang)
        rows.append(
            (
                _short(atlas, nn(e["organisation"]), lang) or "—",
                f"{e['date']}: {title}",
                atlas.source_title(e["source"]),
            )
        )
    for _, m in atlas.membership[atlas.membership["status"] == "conflicting"].iterrows():
        rows.append(
            (
                _short(atlas, m["organisation"], lang),
                f"{nn(m['as_of']) or ''}: {m['value_as_written']}",
                atlas.source_title(m["source"]),
            )
        )
    return pd.DataFrame(
        rows, columns=[t("field_organisation", lang), t("disagreements", lang), t("source", lang)]
    )


def map_caption(points: pd.DataFrame, lang: str) -> str:
    """What a map of ``points`` shows, in words: "313 places (19 offices, 4 former offices, 290 members),
    coloured by organisation..." (the map page and the notebook)."""
    kinds = points["point_type"].value_counts() if not points.empty else pd.Series(dtype=int)
    parts = [
        count(name, int(kinds.get(kind, 0)), lang)
        for name, kind in (("offices", "office"), ("former", "former-office"), ("members", "member"))
        if kinds.get(kind, 0)
    ]
    places = count("places", len(points), lang)
    return t("map_caption", lang, places=places, parts=t("parts_sep", lang).join(parts))


def headline_numbers(atlas: Atlas, sel: Selection, lang: str) -> list[tuple[str, int]]:
    """(label, number) as on the Overview page: organisations, offices (current), member places named
    by the sources, countries, sources."""
    countries = set(sel.offices["country"]) | set(sel.members["country"])
    current_offices = sel.offices[sel.offices["until"].isna()] if "until" in sel.offices else sel.offices
    return [
        (t("headline_organisations", lang), len(sel.organisations)),
        (t("headline_offices", lang), len(current_offices)),
        (t("headline_members", lang), sel.members["place"].nunique() if not sel.members.empty else 0),
        (t("headline_countries", lang), len({c for c in countries if nn(c) is not None})),
        (t("headline_sources", lang), len(atlas.sources)),
    ]
