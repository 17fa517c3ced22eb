"""The briefing pack: one self-contained HTML file for the current filters. Streamlit-free.

For a room with no Wi-Fi: the file holds everything it shows and asks the network for nothing.

* the title, the date it was made, the filters in words and the headline numbers;
* the map: the folium page built with Leaflet, the marker-cluster plugin and the country outlines
  inlined (``dashboard.atlasmap.builder.standalone_html``, no basemap), embedded as an
  ``<iframe srcdoc>`` (the page HTML-escaped into the attribute), so it keeps its own scripts and styles;
* the timeline and membership charts, with plotly.js inlined once (the first chart carries it),
  no MathJax, no geo traces (those would fetch map data from a CDN);
* the comparison of the selected organisations (the Compare page's choice if there is one, else
  every selected organisation, in tables of two to four columns), the organisations table and the
  sources, as HTML tables in which every data string is escaped.

The page is rendered from ``templates/briefing.html.j2`` with Jinja2's autoescape on (its stylesheet is
``templates/briefing.css``): every value is text unless the code hands in Markup, which only the
pieces the atlas generates itself are (the stylesheet, the charts).

Every chart and the map carry their text alternative (``dashboard.core.describe``) and their data
as a table one click away (``<details>``).

The same scenes as presentation mode (data/scenes.yaml) make the **scenes pack**
(:func:`scenes_html`, ``templates/scenes.html.j2`` with ``scenes.css`` and ``scenes.js`` inlined): one
offline page, a scene at a time, stepped with the arrow keys, Page Up/Down (a clicker), Home/End,
with the presenter notes on N.

A Content-Security-Policy in the page forbids every network request (``default-src 'none'``), so
even a link someone adds later to a data file cannot make the page call out.

The static site (``dashboard.outputs.site``, ``make site``) renders its pages from the same template
with :class:`Linked`: plotly.js and the map are then files of the site, linked instead of inlined (a
browser keeps them once for every page), the page has the site's navigation, and it may hold only
some of the sections (a scene shows one view).

>>> html = briefing_html(load_atlas(), Filters(regions=("europe",), lang="en"))
>>> deck = scenes_html(load_atlas(), lang="ja")
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import jinja2
import pandas as pd

from dashboard.atlasmap.builder import standalone_html
from dashboard.core import paths
from dashboard.core.compare import comparison
from dashboard.core.data import Atlas
from dashboard.core.describe import map_summary, membership_summary, timeline_summary
from dashboard.core.figures import Space, membership_figure, timeline_figure
from dashboard.core.filters import YEAR_MAX, YEAR_MIN, Filters, Selection, scene_filters, scene_view, select
from dashboard.core.safety import Markup, clean, html_lines, safe_url, script_code, style_code
from dashboard.core.schema import Scene
from dashboard.core.tables import (
    events_table,
    headline_numbers,
    membership_table,
    organisations_table,
    places_table,
    several_networks_table,
    sources_table,
)
from dashboard.core.text import DEFAULT_LANG, LANGS, date_text, join, labelled, pick, t

MAX_COMPARE_COLUMNS = 4
TEMPLATE = "briefing.html.j2"
LABEL_KEYS = (
    "generated",
    "filters",
    "numbers",
    "orgs_table",
    "map_note",
    "no_points",
    "compare_one",
    "footer",
    "in_words",
)
STYLESHEET = "briefing.css"
SCENES_TEMPLATE, SCENES_STYLESHEET, SCENES_SCRIPT = "scenes.html.j2", "scenes.css", "scenes.js"
# A scene's chart is laid out at this size (a 1280 x 720 projector's) and scaled to the screen by
# scenes.js, labels and all, so that it fits any screen as it was laid out.
SCENE_CHART = Space(width=1280, height=600, font=16)
ON_SCREEN = ("kind", "latest_membership", "mission")  # a comparison scene's rows (the rest below)
# The pack's sections, in order (briefing.html.j2); a page of the site may hold only some of them.
SECTIONS = (
    "filters", "numbers", "organisations", "map", "several_networks", "timeline", "membership", "compare",
    "sources",
)  # fmt: skip


@dataclass(frozen=True)
class Link:
    href: str
    text: str
    current: bool = False
    rel: str | None = None  # "prev", "next", "alternate" (the other language)
    hreflang: str | None = None


@dataclass(frozen=True)
class Linked:
    """A page of the static site rather than the one-file pack (see the module).

    plotly_src: address of plotly.js relative to the page; map_src: address of the map's own page
    (None: the section says there are no points); nav: the site's links; sections: which of
    :data:`SECTIONS` the page holds; heading, lead: the page's title and the line under it instead of
    the pack's (a scene's title, its number and filters); notes: a paragraph under them (a scene's
    notes); full_map: the map fills the window's height.
    """

    plotly_src: str
    map_src: str | None = None
    nav: tuple[Link, ...] = ()
    sections: tuple[str, ...] = SECTIONS
    heading: str | None = None
    lead: str | None = None
    notes: str | None = None
    full_map: bool = False


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(paths.TEMPLATES_DIR),
        autoescape=True,  # every value is text unless the code hands in Markup
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
    )
    env.filters["lines"] = lambda value: Markup(html_lines(value))  # escaped, line breaks kept
    return env


def render_template(name: str, **context: Any) -> str:
    """Render one of ``dashboard/outputs/templates`` with the pack's environment (autoescape on)."""
    return _environment().get_template(name).render(**context)


def html_table(df: pd.DataFrame, *, links: Iterable[str] = ()) -> str:
    """A DataFrame as an HTML table, rendered by the pack's own table macro (every header and cell
    escaped; ``links`` columns linked when the cell is a plain http(s) address)."""
    macro = _environment().get_template("tables.html.j2").module.data_table  # type: ignore[attr-defined]
    return str(macro(table_data(df, links=links)))


def _lab(key: str, lang: str) -> str:
    return t(f"briefing_{key}", lang)


def table_data(df: pd.DataFrame, *, links: Iterable[str] = ()) -> dict[str, Any]:
    """A DataFrame as the template's table: column names and rows of cells ``{text, href}``; a cell of a
    ``links`` column links to its address when that is a plain http(s) URL."""
    link_cols = set(links)
    rows = []
    for rec in df.itertuples(index=False, name=None):
        cells = []
        for col, value in zip(df.columns, rec, strict=True):
            href = safe_url(value) if col in link_cols else None
            cells.append({"text": clean(value) or "", "href": href})
        rows.append(cells)
    return {"columns": [str(c) for c in df.columns], "rows": rows}


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
    every = _lab("all", lang)
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
        (_lab("regions", lang), join((atlas.label("regions", r, lang) for r in f.regions), lang) or every),
        (
            _lab("kinds", lang),
            join((atlas.label("organisation_kinds", k, lang) for k in f.kinds), lang) or every,
        ),
        (_lab("organisations", lang), join((org(o) for o in f.organisations), lang) or every),
    ]
    if f.compare:
        out.append((_lab("compare", lang), join((org(o) for o in f.compare), lang)))
    return out


def _figure_html(fig: Any, div_id: str, plotly: bool | str, fixed: Space | None = None) -> str:
    """A chart's HTML; ``plotly``: True inlines plotly.js (no CDN), an address links it (the site),
    False leaves it to an earlier chart of the page. ``fixed``: drawn at exactly that size (a scene's,
    which scenes.js scales)."""
    if fixed is None:
        fig.update_layout(autosize=True)
    else:
        fig.update_layout(autosize=False, width=fixed.width, height=fixed.height)
    return fig.to_html(
        full_html=False,
        include_plotlyjs=plotly,
        include_mathjax=False,
        div_id=div_id,
        default_width="100%" if fixed is None else f"{fixed.width}px",
        default_height="100%" if fixed is None else f"{fixed.height}px",
        config={"displaylogo": False, "responsive": fixed is None},
    )


def _comparisons(atlas: Atlas, sel: Selection, lang: str) -> list[dict[str, Any]]:
    ids = compared_organisations(sel)
    if len(ids) < 2:
        return []
    out = []
    for group in compare_groups(ids):
        c = comparison(atlas, group, lang)
        out.append({"columns": list(zip(c.org_ids, c.columns, strict=True)), "rows": c.rows})
    return out


# ---------------------------------------------------------------- the pack
def briefing_html(
    atlas: Atlas,
    filters: Filters | Selection | None = None,
    *,
    lang: str | None = None,
    today: date | None = None,
    linked: Linked | None = None,
) -> str:
    """The briefing pack for ``filters`` (or an already made Selection) as one HTML page.

    lang: overrides ``filters.lang``. today: the "generated on" date (default: today). linked: a page
    of the static site (see :class:`Linked`).
    """
    if isinstance(filters, Selection):
        sel = filters
        f = sel.filters
    else:
        f = filters or Filters()
        sel = select(atlas, f)
    lang = lang if lang in LANGS else f.lang
    lang = lang if lang in LANGS else DEFAULT_LANG
    labels = {key: _lab(key, lang) for key in LABEL_KEYS}
    generated = (today or date.today()).isoformat()
    labels.update(
        {name: t(f"page_{name}", lang) for name in ("map", "timeline", "membership", "compare", "sources")}
    )
    labels.update({key: t(key, lang) for key in (
        "site_nav", "several_networks", "several_networks_caption", "places_table", "events_table",
        "membership_table",
    )})  # fmt: skip
    labels["attribute"] = t("cmp_attribute", lang)
    if linked is not None:
        labels["map_note"] = t("site_map_note", lang)
        if "sources" not in linked.sections:  # the sources are listed on the site's atlas page
            labels["footer"] = t("site_footer", lang)
    sections = set(linked.sections if linked else SECTIONS)
    context: dict[str, Any] = {
        "lang": lang,
        "css": Markup(style_code((paths.TEMPLATES_DIR / STYLESHEET).read_text(encoding="utf-8"))),
        "title": f"{t('app_title', lang)} — {_lab('briefing', lang)}",
        "subtitle": t("app_subtitle", lang),
        "generated": generated,
        "generated_label": labelled(_lab("generated", lang), "", lang),  # "Generated on: " / "作成日："
        "generated_text": date_text(generated, lang),
        "labels": labels,
        "sections": sections,
        "linked": linked,
        "filters": filters_in_words(atlas, f, lang),
        "numbers": headline_numbers(atlas, sel, lang),
        "nothing": t("nothing_selected", lang) if sel.empty else None,
        "sources": table_data(sources_table(atlas, lang), links=[t("col_url", lang)]),
    }
    if linked is not None:
        context["title"] = linked.heading or t("app_title", lang)
        context["subtitle"] = linked.lead or t("app_subtitle", lang)
    if not sel.empty:
        plotly: bool | str = linked.plotly_src if linked else True  # the first chart carries it
        charts = {}
        for name, make in (
            ("timeline", lambda: timeline_figure(sel, atlas, lang)),
            ("membership", lambda: membership_figure(sel.membership, atlas, lang)),
        ):
            if name in sections:
                # generated by plotly from figures whose every data string dashboard.core.figures escaped
                charts[name] = Markup(_figure_html(make(), f"atlas-{name}", plotly))
                plotly = False
        context.update(
            organisations=table_data(organisations_table(atlas, sel, lang)),
            map_page=None,
            map_src=None,
            comparisons=_comparisons(atlas, sel, lang) if "compare" in sections else [],
            several_networks=table_data(several_networks_table(atlas, sel, lang))
            if "several_networks" in sections
            else None,
            **charts,
            # each chart and the map in words, and their data one click away
            summaries={
                "map": map_summary(sel, atlas, lang),
                "timeline": timeline_summary(sel, atlas, lang),
                "membership": membership_summary(sel.membership, atlas, lang),
            },
            places=table_data(places_table(atlas, sel, lang)) if "map" in sections else None,
            events=table_data(events_table(atlas, sel, lang)) if "timeline" in sections else None,
            membership_counts=table_data(membership_table(atlas, sel, lang))
            if "membership" in sections
            else None,
        )
        if "map" in sections and not sel.points.empty:
            if linked is not None:
                context["map_src"] = linked.map_src
            else:  # the map page goes into the iframe's srcdoc attribute: escaped there, as any text is
                context["map_page"] = standalone_html(sel.points, lang=lang, atlas=atlas, basemap=False)
    return _environment().get_template(TEMPLATE).render(**context)


# ---------------------------------------------------------------- the scenes pack
def _scene(atlas: Atlas, scene: Scene, lang: str, first_chart: bool) -> tuple[dict[str, Any], bool]:
    """One scene of the pack: its title, notes, visual, text alternative and data table."""
    sel = select(atlas, scene_filters(scene, lang=lang, present=True))
    out: dict[str, Any] = {
        "id": scene.id,
        "page": scene.page,
        "title": pick(scene.title_ja, scene.title_en, lang),
        "notes": pick(scene.notes_ja, scene.notes_en, lang),
        "summary": "",
        "table": None,
        "table_label": "",
        "nothing": t("nothing_selected", lang) if sel.empty and scene.page != "sources" else None,
        **dict.fromkeys(("numbers", "visual_table", "map_page", "chart", "comparison", "comparison_rest")),
    }
    if out["nothing"]:
        return out, first_chart
    chart_id = f"scene-{scene.id}-chart"
    match scene.page:
        case "overview":
            out["numbers"] = headline_numbers(atlas, sel, lang)
            out["visual_table"] = table_data(organisations_table(atlas, sel, lang))
        case "map":
            view = scene_view(scene)
            out["map_page"] = (
                standalone_html(
                    sel.points, lang=lang, atlas=atlas, basemap=False, view=view, legend_collapsed=True
                )
                if not sel.points.empty
                else None
            )
            out["summary"] = map_summary(sel, atlas, lang)
            out["table"], out["table_label"] = (
                table_data(places_table(atlas, sel, lang)),
                t("places_table", lang),
            )
        case "timeline":
            fig = timeline_figure(sel, atlas, lang, SCENE_CHART)
            out["chart"] = Markup(_figure_html(fig, chart_id, first_chart, fixed=SCENE_CHART))
            out["summary"] = timeline_summary(sel, atlas, lang)
            out["table"], out["table_label"] = (
                table_data(events_table(atlas, sel, lang)),
                t("events_table", lang),
            )
            first_chart = False
        case "membership":
            fig = membership_figure(sel.membership, atlas, lang, space=SCENE_CHART)
            out["chart"] = Markup(_figure_html(fig, chart_id, first_chart, fixed=SCENE_CHART))
            out["summary"] = membership_summary(sel.membership, atlas, lang)
            out["table"] = table_data(membership_table(atlas, sel, lang))
            out["table_label"] = t("membership_table", lang)
            first_chart = False
        case "compare":
            ids = [o for o in scene.compare if o in sel.org_ids] or sel.org_ids[:MAX_COMPARE_COLUMNS]
            if len(ids) >= 2:
                c = comparison(atlas, ids, lang)
                columns = list(zip(c.org_ids, c.columns, strict=True))
                out["comparison"] = {"columns": columns, "rows": [r for r in c.rows if r.key in ON_SCREEN]}
                rest = [r for r in c.rows if r.key not in ON_SCREEN]
                out["comparison_rest"] = {"columns": columns, "rows": rest}
        case "sources":
            out["visual_table"] = table_data(sources_table(atlas, lang), links=[t("col_url", lang)])
    return out, first_chart


def scenes_html(
    atlas: Atlas, *, lang: str = DEFAULT_LANG, today: date | None = None, scenes: list[Scene] | None = None
) -> str:
    """The scenes pack: every scene of data/scenes.yaml (or ``scenes``) in one offline page, one at a
    time, stepped with the keys. Raises ValueError when there is no scene."""
    chosen = list(atlas.scenes if scenes is None else scenes)
    if not chosen:
        raise ValueError(f"no scenes to export: add some to {paths.SCENES} (see the README, 'Presenting')")
    lang = lang if lang in LANGS else DEFAULT_LANG
    items, first = [], True
    for scene in chosen:
        item, first = _scene(atlas, scene, lang, first)
        items.append(item)
    keys = ("scene_previous", "scene_next", "scene_notes", "scene_keys_help", "cmp_attribute",
            "compare_all_attributes", "page_map", "app_title")  # fmt: skip
    labels = {k: t(k, lang) for k in keys}
    labels.update({k: _lab(k, lang) for k in ("in_words", "map_note", "no_points", "scenes_pack", "footer")})
    directory = paths.TEMPLATES_DIR
    generated = (today or date.today()).isoformat()
    return render_template(
        SCENES_TEMPLATE,
        lang=lang,
        title=f"{t('app_title', lang)} — {_lab('scenes_pack', lang)}",
        generated=generated,
        generated_text=date_text(generated, lang),
        labels=labels,
        scenes=items,
        chart=SCENE_CHART,
        css=Markup(style_code((directory / SCENES_STYLESHEET).read_text(encoding="utf-8"))),
        js=Markup(script_code((directory / SCENES_SCRIPT).read_text(encoding="utf-8"))),
    )
