"""Display tables (one language at a time) for the pages and the notebook. Streamlit-free.

Cells hold plain text; the dashboard shows them with st.dataframe (never as HTML).
"""

from __future__ import annotations

import pandas as pd

from dashboard.atlasmap.builder import PRECISION_LABELS
from dashboard.core.compare import relations_text, secretariat_text, status_text
from dashboard.core.data import Atlas, nn
from dashboard.core.figures import latest_membership, short_name
from dashboard.core.filters import Selection
from dashboard.core.i18n import pick, t


def latest_membership_text(atlas: Atlas, org_id: str, lang: str) -> str:
    latest = latest_membership(atlas, org_id)
    if not latest:
        return ""
    return f"{latest['value_as_written']} ({t('as_of', lang)} {latest['as_of']})"


def organisations_table(atlas: Atlas, sel: Selection, lang: str) -> pd.DataFrame:
    rows = []
    for _, o in sel.organisations.iterrows():
        place = pick(nn(o["founded_place_ja"]), nn(o["founded_place_en"]), lang)
        founded = " ".join(p for p in (nn(o["founded"]) or "", place) if p)
        rows.append(
            {
                t("col_name", lang): pick(o["name_ja"], o["name_en"], lang),
                t("col_kind", lang): atlas.label("organisation_kinds", o["kind"], lang),
                t("col_founded", lang): founded,
                t("col_secretariat", lang): secretariat_text(atlas, o["id"], lang, sources=False),
                t("col_regions", lang): ", ".join(atlas.label("regions", r, lang) for r in o["regions"]),
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
    seed = "seed" if lang == "en" else "元ページ"
    return pd.DataFrame(
        {
            "ID": df["id"],
            t("source", lang): df["title"],
            "Publisher" if lang == "en" else "発行者": df["publisher"],
            "Lang" if lang == "en" else "言語": df["language"],
            seed: df["seed"].map(lambda v: nn(v) or ""),
            "URL": df["url"].map(lambda v: nn(v) or None),
            "Published" if lang == "en" else "公開日": df["published"].map(lambda v: nn(v) or ""),
            "Accessed" if lang == "en" else "閲覧日": df["accessed"].map(lambda v: nn(v) or ""),
        }
    )


def places_table(sel: Selection, lang: str) -> pd.DataFrame:
    p = sel.points
    ja = lang == "ja"
    return pd.DataFrame(
        {
            t("col_name", lang): [
                pick(nn(a), nn(b), lang) for a, b in zip(p["name_ja"], p["name_en"], strict=True)
            ],
            t("field_organisation", lang): p["org_short_ja" if ja else "org_short_en"],
            t("field_kind", lang): p["kind_ja" if ja else "kind_en"],
            t("field_address", lang): p["address"].map(lambda v: nn(v) or ""),
            "City" if not ja else "都市": [
                pick(nn(a), nn(b), lang) for a, b in zip(p["city_ja"], p["city"], strict=True)
            ],
            "Country" if not ja else "国": p["country_ja" if ja else "country_en"],
            t("field_precision", lang): p["precision"].map(lambda v: PRECISION_LABELS[lang].get(v, v)),
            t("field_source", lang): p["source_title"],
            t("as_of", lang): p["as_of"].map(lambda v: nn(v) or ""),
        }
    )


def events_table(atlas: Atlas, sel: Selection, lang: str) -> pd.DataFrame:
    e = sel.events.sort_values("date")
    return pd.DataFrame(
        {
            "日付" if lang == "ja" else "Date": e["date"],
            t("field_organisation", lang): e["organisation"].map(lambda o: _short(atlas, nn(o), lang) or "—"),
            t("field_kind", lang): e["kind"].map(lambda k: atlas.label("event_kinds", k, lang)),
            "出来事" if lang == "ja" else "Event": e["title_ja" if lang == "ja" else "title_en"],
            "確認状況" if lang == "ja" else "Status": e["status"].map(lambda v: t(f"status_{v}", lang)),
            t("field_source", lang): e["source"].map(atlas.source_title),
        }
    )


def membership_table(atlas: Atlas, sel: Selection, lang: str) -> pd.DataFrame:
    m = sel.membership.sort_values(["organisation", "as_of"], na_position="last")
    return pd.DataFrame(
        {
            t("field_organisation", lang): m["organisation"].map(lambda o: _short(atlas, o, lang)),
            t("as_of", lang): m["as_of"].map(lambda v: nn(v) or t("undated", lang)),
            "出典の表記" if lang == "ja" else "As written": m["value_as_written"],
            "会員数" if lang == "ja" else "Members": m["members"].astype("Int64"),
            "確認状況" if lang == "ja" else "Status": m["status"].map(lambda v: t(f"status_{v}", lang)),
            t("field_source", lang): m["source"].map(atlas.source_title),
            "注記" if lang == "ja" else "Note": m["note"].map(lambda v: nn(v) or ""),
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
        title = e["title_ja"] if lang == "ja" else e["title_en"]
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


def headline_numbers(atlas: Atlas, sel: Selection, lang: str) -> list[tuple[str, int]]:
    """(label, number) as on the Overview page."""
    countries = set(sel.offices["country"]) | set(sel.members["country"])
    return [
        (t("headline_organisations", lang), len(sel.organisations)),
        (t("headline_offices", lang), len(sel.offices)),
        (t("headline_members", lang), len(sel.members)),
        (t("headline_countries", lang), len({c for c in countries if nn(c) is not None})),
        (t("headline_sources", lang), len(atlas.sources)),
    ]
