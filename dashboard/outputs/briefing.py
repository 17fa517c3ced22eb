"""The briefing pack: one self-contained HTML file for the current filters. Streamlit-free.

For a room with no Wi-Fi: the file holds everything it shows and asks the network for nothing.

* the title, the date it was made, the filters in words and the headline numbers;
* the map: the folium page built with Leaflet, the marker-cluster plugin and the country outlines
  inlined (``mapping.standalone_html``, no basemap), embedded as an ``<iframe srcdoc>`` (the page
  HTML-escaped into the attribute), so it keeps its own scripts and styles;
* the timeline and membership charts, with plotly.js inlined once (the first chart carries it),
  no MathJax, no geo traces (those would fetch map data from a CDN);
* the comparison of the selected organisations (the Compare page's choice if there is one, else
  every selected organisation, in tables of two to four columns), the organisations table and the
  sources, as HTML tables in which every data string is escaped.

A Content-Security-Policy in the page forbids every network request (``default-src 'none'``), so
even a link someone adds later to a data file cannot make the page call out.

>>> html = briefing_html(load_atlas(), Filters(regions=("europe",), lang="en"))
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

import pandas as pd

from dashboard.atlasmap.builder import safe_url, standalone_html
from dashboard.core.compare import comparison
from dashboard.core.data import Atlas, nn
from dashboard.core.figures import membership_figure, timeline_figure
from dashboard.core.filters import YEAR_MAX, YEAR_MIN, Filters, Selection, select
from dashboard.core.i18n import pick, t
from dashboard.core.tables import (
    headline_numbers,
    organisations_table,
    sources_table,
)

MAX_COMPARE_COLUMNS = 4

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "briefing": "Briefing pack",
        "generated": "Generated on",
        "filters": "Filters",
        "years": "Founding year",
        "regions": "Regions",
        "kinds": "Kinds of organisation",
        "organisations": "Organisations",
        "compare": "Compared",
        "all": "all",
        "numbers": "Headline numbers",
        "map_note": (
            "Points over country outlines (Natural Earth, 1:110m). This file draws no basemap so "
            "that it works with no internet. Click a point for its details and source."
        ),
        "no_points": "No office or member city on the map for these filters.",
        "compare_one": "Only one organisation is selected: see the table above.",
        "orgs_table": "The selected organisations",
        "footer": (
            "Made with the Climate Networks Atlas. Every fact names its source (see the list "
            "above); dates are given at the precision the source gives."
        ),
        "year_range": "{lo}–{hi}",
        "year_all": "every year ({lo}–{hi})",
        "sep": ", ",
    },
    "ja": {
        "briefing": "ブリーフィング資料",
        "generated": "作成日",
        "filters": "絞り込み",
        "years": "設立年",
        "regions": "地域",
        "kinds": "組織の種類",
        "organisations": "組織",
        "compare": "比較する組織",
        "all": "すべて",
        "numbers": "主な数字",
        "map_note": (
            "国境線(Natural Earth、1:1億1千万)の上に地点を表示しています。インターネットがなくても"
            "開けるよう、このファイルには背景地図を含めていません。地点をクリックすると詳細と出典が表示されます。"
        ),
        "no_points": "この絞り込みでは地図に表示する事務所・会員都市はありません。",
        "compare_one": "選択されている組織は1つです。上の表をご覧ください。",
        "orgs_table": "選択された組織",
        "footer": (
            "気候ネットワーク・アトラスで作成。すべての事実に出典があります(上の一覧)。日付は出典が示す精度のまま記載しています。"
        ),
        "year_range": "{lo}〜{hi}年",
        "year_all": "すべての年({lo}〜{hi}年)",
        "sep": "、",
    },
}

CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data: blob:; font-src data:; connect-src 'none'; frame-src 'self' about: data: blob:; "
    "base-uri 'none'; form-action 'none'"
)

CSS = """
:root { color-scheme: light; }
body { font-family: "Noto Sans CJK JP", "Hiragino Sans", "Yu Gothic", "Meiryo", system-ui, sans-serif;
  margin: 0 auto; max-width: 1200px; padding: 24px 32px 48px; color: #222; line-height: 1.5; }
h1 { font-size: 2rem; margin: 0 0 4px; } h2 { margin-top: 2.2rem; border-bottom: 2px solid #ddd; }
h3 { margin-top: 1.4rem; }
.subtitle, .generated, .note { color: #555; }
dl.filters { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; }
dl.filters dt { font-weight: bold; } dl.filters dd { margin: 0; }
.numbers { display: flex; flex-wrap: wrap; gap: 12px; padding: 0; list-style: none; }
.numbers li { border: 1px solid #ddd; border-radius: 6px; padding: 8px 16px; min-width: 9em; }
.numbers .value { font-size: 2rem; font-weight: bold; display: block; }
iframe.map { width: 100%; height: 560px; border: 1px solid #ccc; border-radius: 4px; }
table.data { border-collapse: collapse; width: 100%; font-size: 0.9rem; margin: 8px 0 16px; }
table.data th, table.data td { border: 1px solid #ddd; padding: 4px 8px; vertical-align: top;
  text-align: left; overflow-wrap: anywhere; }
table.data thead th { background: #f3f3f3; }
table.compare tbody th { background: #fafafa; width: 12em; font-weight: normal; color: #444; }
.chart { margin: 8px 0 24px; }
footer { margin-top: 3rem; color: #666; font-size: 0.85rem; }
@media print { section { break-inside: avoid-page; } iframe.map { height: 480px; } }
"""


# ---------------------------------------------------------------- helpers
def _lab(key: str, lang: str) -> str:
    return LABELS["ja" if lang == "ja" else "en"][key]


def label(key: str, lang: str) -> str:
    """An interface string of the briefing pack (e.g. for a page that offers the download)."""
    return _lab(key, lang)


def esc(value: Any) -> str:
    """Data as literal HTML text (``& < > " '`` escaped); None, NaN and pd.NA become ''."""
    value = nn(value)
    if value is None:
        return ""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    return html.escape(str(value), quote=True)


def _cell(value: Any) -> str:
    """A table cell: escaped text, line breaks kept."""
    return esc(value).replace("\r\n", "\n").replace("\n", "<br>")


def _link_cell(value: Any) -> str:
    url = safe_url(value)
    if url is None:
        return _cell(value)
    return f'<a href="{esc(url)}" rel="noopener noreferrer">{esc(url)}</a>'


def html_table(
    df: pd.DataFrame, *, css_class: str = "data", index: bool = False, links: Iterable[str] = ()
) -> str:
    """A DataFrame as an HTML table; every header and cell escaped, ``links`` columns linked if http(s)."""
    link_cols = set(links)
    head = []
    if index:
        head.append(f'<th scope="col">{esc(df.index.name)}</th>')
    head += [f'<th scope="col">{esc(c)}</th>' for c in df.columns]
    rows = []
    for idx, rec in zip(df.index, df.itertuples(index=False, name=None), strict=True):
        cells = [f'<th scope="row">{_cell(idx)}</th>'] if index else []
        for col, value in zip(df.columns, rec, strict=True):
            cells.append(f"<td>{_link_cell(value) if col in link_cols else _cell(value)}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return (
        f'<table class="{esc(css_class)}"><thead><tr>{"".join(head)}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def compare_groups(org_ids: Sequence[str], size: int = MAX_COMPARE_COLUMNS) -> list[list[str]]:
    """Split organisations into as few tables as possible of at most ``size`` columns, as even as
    possible (so none has a single column when there are two or more): 5 -> [3, 2], 9 -> [3, 3, 3]."""
    ids = list(org_ids)
    if not ids:
        return []
    n_groups = math.ceil(len(ids) / size)
    base, extra = divmod(len(ids), n_groups)
    out, start = [], 0
    for i in range(n_groups):
        end = start + base + (1 if i < extra else 0)
        out.append(ids[start:end])
        start = end
    return out


def compared_organisations(sel: Selection) -> list[str]:
    """The Compare page's choice among the selected organisations, else every selected one."""
    chosen = [o for o in sel.filters.compare if o in sel.org_ids]
    return chosen if len(chosen) >= 2 else sel.org_ids


def filters_in_words(atlas: Atlas, f: Filters, lang: str) -> list[tuple[str, str]]:
    """(what, chosen values) for each filter, e.g. ("Regions", "Europe, East Asia")."""
    sep, every = _lab("sep", lang), _lab("all", lang)
    lo, hi = f.years
    if (lo, hi) == (YEAR_MIN, YEAR_MAX):
        years = _lab("year_all", lang).format(lo=lo, hi=hi)
    else:
        years = _lab("year_range", lang).format(lo=lo, hi=hi)
    records = atlas.organisation_records

    def org(o: str) -> str:
        rec = records.get(o)
        return pick(rec.name.short_ja, rec.name.short_en, lang) if rec else o

    out = [
        (_lab("years", lang), years),
        (_lab("regions", lang), sep.join(atlas.label("regions", r, lang) for r in f.regions) or every),
        (_lab("kinds", lang), sep.join(atlas.label("organisation_kinds", k, lang) for k in f.kinds) or every),
        (_lab("organisations", lang), sep.join(org(o) for o in f.organisations) or every),
    ]
    if f.compare:
        out.append((_lab("compare", lang), sep.join(org(o) for o in f.compare)))
    return out


def _figure_html(fig: Any, div_id: str, first: bool) -> str:
    fig.update_layout(autosize=True)
    return fig.to_html(
        full_html=False,
        include_plotlyjs=first,  # True inlines plotly.js (no CDN); later charts reuse it
        include_mathjax=False,
        div_id=div_id,
        default_width="100%",
        config={"displaylogo": False, "responsive": True},
    )


def _map_section(sel: Selection, lang: str) -> str:
    if sel.points.empty:
        return f'<p class="note">{esc(_lab("no_points", lang))}</p>'
    page = standalone_html(sel.points, lang=lang, basemap=False)
    title = esc(t("page_map", lang))
    return (
        f'<iframe class="map" id="atlas-map" title="{title}" srcdoc="{html.escape(page, quote=True)}">'
        f"</iframe>"
        f'<p class="note">{esc(_lab("map_note", lang))}</p>'
    )


def _compare_section(atlas: Atlas, sel: Selection, lang: str) -> str:
    ids = compared_organisations(sel)
    if len(ids) < 2:
        return f'<p class="note">{esc(_lab("compare_one", lang))}</p>'
    parts = []
    for group in compare_groups(ids):
        c = comparison(atlas, group, lang)
        head = f'<th scope="col">{esc(t("cmp_attribute", lang))}</th>' + "".join(
            f'<th scope="col" data-org="{esc(o)}">{esc(col)}</th>'
            for o, col in zip(c.org_ids, c.columns, strict=True)
        )
        body = "".join(
            f'<tr data-key="{esc(r.key)}"><th scope="row">{_cell(r.label)}</th>'
            + "".join(f"<td>{_cell(v)}</td>" for v in r.values)
            + "</tr>"
            for r in c.rows
        )
        parts.append(
            f'<table class="data compare"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
        )
    return "".join(parts)


# ---------------------------------------------------------------- the pack
def briefing_html(
    atlas: Atlas,
    filters: Filters | Selection | None = None,
    *,
    lang: str | None = None,
    today: date | None = None,
) -> str:
    """The briefing pack for ``filters`` (or an already made Selection) as one HTML page.

    lang: overrides ``filters.lang``. today: the "generated on" date (default: today).
    """
    if isinstance(filters, Selection):
        sel = filters
        f = sel.filters
    else:
        f = filters or Filters()
        sel = select(atlas, f)
    lang = lang if lang in ("ja", "en") else f.lang
    lang = "ja" if lang not in ("ja", "en") else lang
    when = (today or date.today()).isoformat()
    title = f"{t('app_title', lang)} — {_lab('briefing', lang)}"

    filters_html = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in filters_in_words(atlas, f, lang))
    numbers_html = "".join(
        f'<li><span class="value">{n}</span><span class="label">{esc(k)}</span></li>'
        for k, n in headline_numbers(atlas, sel, lang)
    )
    sections = [
        f'<section id="filters"><h2>{esc(_lab("filters", lang))}</h2>'
        f'<dl class="filters">{filters_html}</dl></section>',
        f'<section id="numbers"><h2>{esc(_lab("numbers", lang))}</h2>'
        f'<ul class="numbers">{numbers_html}</ul></section>',
    ]
    if sel.empty:
        sections.append(f'<p class="note" id="nothing">{esc(t("nothing_selected", lang))}</p>')
    else:
        orgs = organisations_table(atlas, sel, lang)
        sections.append(
            f'<section id="organisations"><h2>{esc(_lab("orgs_table", lang))}</h2>'
            f"{html_table(orgs)}</section>"
        )
        sections.append(
            f'<section id="map"><h2>{esc(t("page_map", lang))}</h2>{_map_section(sel, lang)}</section>'
        )
        timeline = _figure_html(timeline_figure(sel, atlas, lang), "atlas-timeline", first=True)
        membership = _figure_html(
            membership_figure(sel.membership, atlas, lang), "atlas-membership", first=False
        )
        sections.append(
            f'<section id="timeline"><h2>{esc(t("page_timeline", lang))}</h2>'
            f'<div class="chart">{timeline}</div></section>'
        )
        sections.append(
            f'<section id="membership"><h2>{esc(t("page_membership", lang))}</h2>'
            f'<div class="chart">{membership}</div></section>'
        )
        sections.append(
            f'<section id="compare"><h2>{esc(t("page_compare", lang))}</h2>'
            f"{_compare_section(atlas, sel, lang)}</section>"
        )
    sources = sources_table(atlas, lang)
    sections.append(
        f'<section id="sources"><h2>{esc(t("page_sources", lang))}</h2>'
        f"{html_table(sources, links=['URL'])}</section>"
    )
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"<header><h1>{esc(title)}</h1>"
        f'<p class="subtitle">{esc(t("app_subtitle", lang))}</p>'
        f'<p class="generated">{esc(_lab("generated", lang))}: <time datetime="{when}">{when}</time></p>'
        "</header>\n<main>\n" + "\n".join(sections) + "\n</main>\n"
        f"<footer>{esc(_lab('footer', lang))}</footer>\n</body>\n</html>\n"
    )
