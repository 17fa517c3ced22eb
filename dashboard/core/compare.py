"""Side-by-side comparison of two to four organisations, and its Markdown and CSV exports.
Streamlit-free.

``comparison`` gives the table as plain data (rows of plain-text cells, the shared themes, each
organisation's themes flagged shared or not) for a page to render with st.dataframe / st.columns
without any HTML; ``compare_table`` gives it as a DataFrame (rows = attributes, columns = the
organisations' short names). Every statement cell names its source in [brackets]. A text shown in
the other language than the one asked for (because the source has only that one) is marked
[EN] / [JA]; an English text that is this atlas's translation of a Japanese source is marked
(atlas translation) / (アトラス訳).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from dashboard.core.data import Atlas
from dashboard.core.figures import latest_membership, qualifier_text, row_labels
from dashboard.core.safety import csv_text, markdown_cell
from dashboard.core.schema import Alternative, Secretariat, Text
from dashboard.core.text import (
    as_of,
    aside,
    clauses,
    date_span,
    date_text,
    fallback_chain,
    has,
    join,
    labelled,
    pick,
    quoted,
    t,
)

__all__ = [
    "ATTRIBUTES",
    "CompareRow",
    "Comparison",
    "compare_csv",
    "compare_markdown",
    "compare_table",
    "comparison",
    "markdown_table",
    "shared_themes",
]

EMPTY = "—"
# Row keys in display order; labels come from the text catalogue (keys "cmp_<key>").
ATTRIBUTES: tuple[str, ...] = (
    "name",
    "kind",
    "founded",
    "secretariat",
    "latest_membership",
    "regions",
    "relations",
    "mission",
    "vision",
    "goals",
    "activities",
    "unfccc",
    "themes",
    "shared_themes",
    "shared_members",
    "status",
    "website",
    "notes",
    "sources",
)


@dataclass(frozen=True)
class CompareRow:
    key: str  # one of ATTRIBUTES
    label: str  # in the chosen language
    values: list[str]  # one plain-text cell per organisation, in column order ('—' when unknown)


@dataclass(frozen=True)
class Comparison:
    org_ids: list[str]
    columns: list[str]  # short names in the chosen language (unique)
    rows: list[CompareRow]
    shared_themes: list[str]  # theme ids every compared organisation has
    # (a, b, names of the places that are current members of both) for each pair, in column order
    shared_members: list[tuple[str, str, list[str]]]
    shared_theme_labels: list[str]
    # {org id: [(theme id, label, shared?)]} for highlighting shared themes without HTML
    themes: dict[str, list[tuple[str, str, bool]]] = field(default_factory=dict)

    def row(self, key: str) -> CompareRow:
        return next(r for r in self.rows if r.key == key)


def _check_ids(atlas: Atlas, org_ids: list[str] | tuple[str, ...]) -> list[str]:
    ids = list(dict.fromkeys(org_ids))
    unknown = [o for o in ids if o not in atlas.organisation_records]
    if unknown:
        raise ValueError(f"unknown organisation id(s): {', '.join(unknown)}")
    if not 2 <= len(ids) <= 4:
        raise ValueError(f"compare two to four organisations (got {len(ids)})")
    return ids


def shared_themes(atlas: Atlas, org_ids: list[str] | tuple[str, ...]) -> list[str]:
    """Theme ids that every one of the organisations has, in the first organisation's order."""
    ids = list(dict.fromkeys(org_ids))
    if not ids:
        return []
    common = set.intersection(*(set(atlas.org(o).themes) for o in ids))
    return [th for th in atlas.org(ids[0]).themes if th in common]


# ---------------------------------------------------------------------------------- cell texts
def _src(atlas: Atlas, source_id: str | None) -> str:
    return f" [{atlas.source_title(source_id)}]" if source_id else ""


def _text(atlas: Atlas, text: Text, lang: str) -> str:
    shown = getattr(text, lang, None)
    mark = ""
    if not shown:  # the source has it in another language only: say which
        written = next((c for c in fallback_chain(lang) if getattr(text, c, None)), None)
        shown = getattr(text, written) if written else ""
        mark = f"[{written.upper()}] " if shown else ""
    elif lang != "ja" and text.translation == "atlas" and text.ja:
        shown = f"{shown} ({t('cmp_atlas_translation', lang)})"
    return f"{mark}{shown}{_src(atlas, text.source)}" if shown else ""


def _texts(atlas: Atlas, texts: list[Text], lang: str) -> str:
    lines = [_text(atlas, x, lang) for x in texts]
    return "\n".join(f"• {x}" if len(lines) > 1 else x for x in lines if x)


def _country(atlas: Atlas, code: str | None, lang: str) -> str:
    return atlas.label("countries", code, lang) if code else ""


def alternatives_text(atlas: Atlas, alternatives: list[Alternative], field: str, lang: str) -> str:
    """What other sources say of the same ``field``, for beside the value shown: "; 2009 according to
    KommunalWiki" ('' when no source disagrees). Shown wherever the value is shown."""
    out = []
    for a in alternatives:
        if a.field != field:
            continue
        value = a.value
        if field in ("date", "since", "until", "as_of"):
            value = date_text(a.value, lang)
        elif field == "value" and has(f"status_{a.value}"):  # a status: its label, not its id ("統合済み")
            value = t(f"status_{a.value}", lang)
        out.append(t("alternative", lang, value=value, source=atlas.source_title(a.source)))
    return "".join(t("alternative_sep", lang) + x for x in out)


def _with_alternatives(value: str, alternatives: str, lang: str) -> str:
    """A value and what other sources say of it (``alternatives_text``, which starts with its
    separator); the alternatives alone when there is no value."""
    return value + alternatives if value else alternatives.removeprefix(t("alternative_sep", lang))


def _founded(atlas: Atlas, org_id: str, lang: str) -> str:
    f = atlas.org(org_id).founded
    if f is None:
        return ""
    alts = _with_alternatives("", alternatives_text(atlas, f.alternatives, "date", lang), lang)
    parts = [aside(date_text(f.date, lang), alts, lang)]  # the other dates beside the date, not the place
    if f.place:
        p = f.place
        place = pick(p.ja, p.en, lang) or join((p.city, _country(atlas, p.country, lang)), lang)
        if place:
            parts.append(place)
    out = join(parts, lang) + _src(atlas, f.source)
    if f.note:
        out += "\n" + _text(atlas, f.note, lang)
    return out


def current_secretariat(atlas: Atlas, org_id: str) -> Secretariat | None:
    """The secretariat now: the last one the sources name (the list is in time order), unless it has
    an end date."""
    places = atlas.org(org_id).secretariat
    return places[-1] if places and places[-1].until is None else None


def secretariat_text(atlas: Atlas, org_id: str, lang: str, *, sources: bool = True) -> str:
    """Every place the secretariat has been, in time order, one a line in ``lang``: "Toronto, Canada
    (1991–2010)", with what another source says of a date beside it, and "earlier" for a place left at
    a date no source gives; each followed by its source's title unless ``sources`` is False.
    ("トロント、カナダ（1991〜2010年）" in Japanese.)"""
    src = _src if sources else (lambda _atlas, _sid: "")
    places = atlas.org(org_id).secretariat
    lines = []
    for i, s in enumerate(places):
        city = pick(s.city_ja, s.city, lang)
        span = date_span(s.since, s.until, lang)
        if not s.until and i < len(places) - 1:  # a later place follows: this one is in the past
            span = (
                join((span, t("secretariat_earlier", lang)), lang) if span else t("secretariat_earlier", lang)
            )
        alts = alternatives_text(atlas, s.alternatives, "since", lang) + alternatives_text(
            atlas, s.alternatives, "until", lang
        )
        place = join((city, _country(atlas, s.country, lang)), lang)
        lines.append(aside(place, _with_alternatives(span, alts, lang), lang) + src(atlas, s.source))
    return "\n".join(lines)


def _latest(atlas: Atlas, org_id: str, lang: str) -> str:
    m = latest_membership(atlas, org_id)
    if m is None:
        return ""
    out = latest_membership_text(atlas, org_id, lang) + _src(atlas, m["source"])
    for other in m["others"]:
        shown = _as_written(atlas, other, lang) or qualifier_text(
            other["qualifier"], other["members"], atlas, lang
        )
        out += "\n" + labelled(t("fig_another_source", lang), shown, lang) + _src(atlas, other["source"])
    return out


def _as_written(atlas: Atlas, count: dict, lang: str) -> str:
    """A count's wording as its source writes it, quoted, when the source is in the reader's language
    (an English reader gets the atlas's own English rendering instead of a Japanese quotation)."""
    source = atlas.source_records.get(count["source"])
    if source is None or source.language != lang or not count.get("value_as_written"):
        return ""
    return quoted(count["value_as_written"], lang)


def named_members(atlas: Atlas, org_id: str) -> int:
    """How many current members of the organisation the atlas names (places on the map)."""
    m = atlas.members
    if m.empty:
        return 0
    mine = m[(m["organisation"] == org_id) & m["current"].astype(bool)]
    return int(mine["place"].nunique())


def latest_membership_text(atlas: Atlas, org_id: str, lang: str) -> str:
    """ "2,500+ local governments (as of 2023; 165 of them named here)": the latest dated count in
    ``lang``, the wording as written where the source is in ``lang``, and how many members the atlas
    names when that is fewer than the count."""
    m = latest_membership(atlas, org_id)
    if m is None:
        return ""
    qual = qualifier_text(m["qualifier"], m["members"], atlas, lang)
    # the data writes the member kind in English only
    kind = f" {m['member_kind']}" if m["member_kind"] and lang != "ja" else ""
    details = [as_of(m["as_of"], lang)]
    written = _as_written(atlas, m, lang)
    if written:
        details.append(labelled(t("fig_as_written", lang), written, lang))
    named = named_members(atlas, org_id)
    if 0 < named < m["members"] and (m["qualifier"] or "exact") in ("exact", "at-least"):
        details.append(t("members_named", lang, named=f"{named:,}", total=f"{m['members']:,}"))
    elif named:
        details.append(t("members_named_count", lang, named=f"{named:,}"))
    return aside(f"{qual}{kind}", clauses(details, lang), lang)


def shared_members(
    atlas: Atlas, org_ids: list[str] | tuple[str, ...], lang: str
) -> list[tuple[str, str, list[str]]]:
    """For each pair of the organisations: (a, b, the names of the places that are current members of
    both), in the order the organisations are given."""
    m = atlas.members
    current = m[m["current"].astype(bool)] if not m.empty else m
    names: dict[str, str] = {}
    by_org: dict[str, set[str]] = {}
    for row in current.itertuples(index=False):
        by_org.setdefault(row.organisation, set()).add(row.place)
        names[row.place] = pick(row.name_ja, row.name_en, lang)
    ids = list(dict.fromkeys(org_ids))
    out = []
    for i, a in enumerate(ids):
        for b in ids[i + 1 :]:
            both = by_org.get(a, set()) & by_org.get(b, set())
            out.append((a, b, sorted((names[p] for p in both), key=str.casefold)))
    return out


def relations_text(
    atlas: Atlas, org_id: str, lang: str, labels: dict[str, str] | None = None, *, sources: bool = True
) -> str:
    """The organisation's parent and relations, one a line, read the right way round in ``lang``
    ("ICLEIの事務所" / "office of ICLEI")."""
    src = _src if sources else (lambda _atlas, _sid: "")
    labels = labels or {}
    o = atlas.org(org_id)
    lines = []
    for rel in ([o.parent] if o.parent else []) + list(o.relations):
        target = labels.get(rel.organisation) or (
            atlas.org(rel.organisation).name.short_ja
            if lang == "ja"
            else atlas.org(rel.organisation).name.short_en
        )
        relation = atlas.label("relations", rel.type, lang)
        text = t("relation_phrase", lang, target=target, relation=relation)
        lines.append(aside(text, date_span(rel.since, None, lang), lang) + src(atlas, rel.source))
    return "\n".join(lines)


def status_text(atlas: Atlas, org_id: str, lang: str, *, sources: bool = True) -> str:
    """'Suspended (as of 2025)' / '活動休止中（2025年時点）', with its source's title unless ``sources``
    is False."""
    s = atlas.org(org_id).status
    src = _src(atlas, s.source) if sources else ""
    alts = alternatives_text(atlas, s.alternatives, "value", lang) + alternatives_text(
        atlas, s.alternatives, "as_of", lang
    )
    note = _with_alternatives(as_of(s.as_of, lang), alts, lang)
    return aside(t(f"status_{s.value}", lang), note, lang) + src


def _shared_members_cell(
    org_id: str, pairs: list[tuple[str, str, list[str]]], labels: dict[str, str], lang: str
) -> str:
    """One organisation's members shared with each other compared organisation: "ICLEI: 33 (London, …)"
    / "イクレイ：33（ロンドン、…）"."""
    lines = []
    for a, b, names in pairs:
        if org_id not in (a, b):
            continue
        other = b if org_id == a else a
        lines.append(labelled(labels[other], aside(str(len(names)), join(names, lang), lang), lang))
    return "\n".join(lines)


def _cell(
    atlas: Atlas,
    key: str,
    org_id: str,
    lang: str,
    shared: list[str],
    labels: dict[str, str],
    pairs: list[tuple[str, str, list[str]]],
) -> str:
    o = atlas.org(org_id)
    match key:
        case "name":
            return pick(o.name.ja, o.name.en, lang)
        case "kind":
            return atlas.label("organisation_kinds", o.kind, lang)
        case "founded":
            return _founded(atlas, org_id, lang)
        case "secretariat":
            return secretariat_text(atlas, org_id, lang)
        case "latest_membership":
            return _latest(atlas, org_id, lang)
        case "regions":
            return join((atlas.label("regions", r, lang) for r in o.regions), lang)
        case "relations":
            return relations_text(atlas, org_id, lang, labels)
        case "mission" | "vision" | "goals" | "activities" | "unfccc" | "notes":
            return _texts(atlas, getattr(o, key), lang)
        case "themes":
            return join((atlas.label("themes", th, lang) for th in o.themes), lang)
        case "shared_themes":
            return join((atlas.label("themes", th, lang) for th in shared), lang)
        case "shared_members":
            return _shared_members_cell(org_id, pairs, labels, lang)
        case "status":
            return status_text(atlas, org_id, lang)
        case "website":
            return o.website or ""
        case "sources":
            return "\n".join(atlas.source_title(s) for s in o.sources)
    raise KeyError(key)


# ---------------------------------------------------------------------------------- the table
def comparison(atlas: Atlas, org_ids: list[str] | tuple[str, ...], lang: str = "ja") -> Comparison:
    """The comparison as plain data. Raises ValueError unless 2–4 known organisation ids are given."""
    ids = _check_ids(atlas, org_ids)
    labels = row_labels(atlas, ids, lang)
    shared = shared_themes(atlas, ids)
    pairs = shared_members(atlas, ids, lang)
    rows = [
        CompareRow(
            key=key,
            label=t(f"cmp_{key}", lang),
            values=[_cell(atlas, key, o, lang, shared, labels, pairs) or EMPTY for o in ids],
        )
        for key in ATTRIBUTES
    ]
    themes = {
        o: [(th, atlas.label("themes", th, lang), th in shared) for th in atlas.org(o).themes] for o in ids
    }
    return Comparison(
        org_ids=ids,
        columns=[labels[o] for o in ids],
        rows=rows,
        shared_themes=shared,
        shared_members=pairs,
        shared_theme_labels=[atlas.label("themes", th, lang) for th in shared],
        themes=themes,
    )


def compare_table(atlas: Atlas, org_ids: list[str] | tuple[str, ...], lang: str = "ja") -> pd.DataFrame:
    """Rows = attributes (index named by the 'attribute' label), columns = short names; plain text."""
    c = comparison(atlas, org_ids, lang)
    df = pd.DataFrame([r.values for r in c.rows], columns=c.columns, index=[r.label for r in c.rows])
    df.index.name = t("cmp_attribute", lang)
    return df


def markdown_table(df: pd.DataFrame) -> str:
    """A DataFrame as a GitHub-flavoured Markdown table; a named index becomes the first column."""
    if df.index.name is not None:
        df = df.reset_index()
    header = "| " + " | ".join(markdown_cell(c) for c in df.columns) + " |"
    rule = "|" + "|".join(" --- " for _ in df.columns) + "|"
    body = ["| " + " | ".join(markdown_cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([header, rule, *body]) + "\n"


def compare_markdown(atlas: Atlas, org_ids: list[str] | tuple[str, ...], lang: str = "ja") -> str:
    """The comparison as a Markdown document: a heading line and a table with N+1 columns."""
    c = compare_table(atlas, org_ids, lang)
    title = labelled(t("page_compare", lang), " / ".join(markdown_cell(col) for col in c.columns), lang)
    return f"# {title}\n\n{markdown_table(c)}"


def compare_csv(atlas: Atlas, org_ids: list[str] | tuple[str, ...], lang: str = "ja") -> str:
    """The comparison as CSV text (first column: the attribute), formula injection neutralised."""
    return csv_text(compare_table(atlas, org_ids, lang))
