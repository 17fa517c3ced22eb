"""What the explainer notebook (``notebooks/explainer.ipynb``) calls besides the dashboard modules.
Streamlit-free; imports ipywidgets and IPython only when the explorer is built.

* tables the notebook shows: :func:`relations_table` (who is whose parent, office, successor...),
  :func:`query_chain_table` and :func:`outcomes_table` (a geocoding run explained),
  :func:`precision_table` (what each coordinate precision means);
* offline display in Jupyter: :func:`use_offline_plotly` (figures as plotly's own JSON mime type,
  drawn by JupyterLab's bundled plotly.js: no ``<script src>``, no MathJax from a CDN) and
  :func:`notebook_map` (the folium map with Leaflet inlined, refused if a CDN link slipped in);
* :class:`Explorer`: a year range slider, a region picker and an organisation picker that redraw
  the map, the timeline and the membership chart in place. The selection is
  :func:`dashboard.core.filters.select`, the very logic the dashboard's sidebar uses.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import pandas as pd

from dashboard.atlasmap.builder import build_map
from dashboard.core.data import Atlas
from dashboard.core.figures import membership_figure, short_name, timeline_figure
from dashboard.core.filters import YEAR_MAX, YEAR_MIN, Filters, Selection, select
from dashboard.core.safety import escape_html
from dashboard.core.schema import PRECISIONS
from dashboard.core.text import CATALOGUES, LANGS, pick, precision_label, t

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go
    from IPython.display import HTML
    from pandas.io.formats.style import Styler

    from geocoding import Pipeline, Report, Target

PLOTLY_RENDERER = "plotly_mimetype"
# A script, stylesheet or image the page would fetch from another machine (the page itself may
# mention URLs, e.g. the optional basemap's tile template; only what it loads counts).
_EXTERNAL = re.compile(
    r"""<(?:script|link|img)\b[^>]*?\b(?:src|href)\s*=\s*["']?((?:https?:)?//[^"'\s>]+)""", re.IGNORECASE
)


def _lab(lang: str) -> dict[str, str]:
    """The notebook's labels in ``lang`` (catalogue keys ``nb_<name>``)."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}, not {lang!r}")
    return {k.removeprefix("nb_"): t(k, lang) for k in CATALOGUES["en"] if k.startswith("nb_")}


# ---------------------------------------------------------------------------------- tables
def relations_table(atlas: Atlas, lang: str = "ja") -> pd.DataFrame:
    """Every relation between organisations (``parent`` first, then ``relations``), one row each:
    organisation, relation (vocabulary label), related organisation, since, source title."""
    lab = _lab(lang)
    rows = []
    for org_id, rec in atlas.organisation_records.items():
        for rel in [*([rec.parent] if rec.parent else []), *rec.relations]:
            rows.append(
                {
                    lab["organisation"]: short_name(atlas, org_id, lang),
                    lab["relation"]: atlas.label("relations", rel.type, lang),
                    lab["related"]: short_name(atlas, rel.organisation, lang),
                    lab["since"]: rel.since or "",
                    lab["source"]: atlas.source_title(rel.source),
                }
            )
    columns = [lab[k] for k in ("organisation", "relation", "related", "since", "source")]
    return pd.DataFrame(rows, columns=columns)


def precision_table(lang: str = "ja") -> pd.DataFrame:
    """The coordinate precisions, best first, with what each means on the map."""
    lab = _lab(lang)
    return pd.DataFrame(
        {lab["level"]: list(PRECISIONS), lab["meaning"]: [precision_label(p, lang) for p in PRECISIONS]}
    )


def query_chain_table(pipeline: Pipeline, target: Target, lang: str = "ja") -> pd.DataFrame:
    """The queries the geocoder would send for one office or member, precise to coarse."""
    lab = _lab(lang)
    city = pipeline.gazetteer.city(target.city, target.country, target.city_ja)
    queries = pipeline.queries(target, city)
    return pd.DataFrame(
        {
            lab["step"]: range(1, len(queries) + 1),
            lab["query_kind"]: [q.kind for q in queries],
            lab["best_precision"]: [precision_label(q.precision, lang) for q in queries],
            lab["query"]: [q.display for q in queries],
        }
    )


def outcomes_table(report: Report, lang: str = "ja") -> pd.DataFrame:
    """One row per geocoded target: where it landed, how precisely, from which provider (or why not)."""
    lab = _lab(lang)
    rows = []
    for o in report.outcomes:
        row = o.row or {}
        rows.append(
            {
                lab["id"]: o.target.id,
                lab["city"]: o.target.city,
                lab["country"]: o.target.country,
                lab["latitude"]: row.get("latitude"),
                lab["longitude"]: row.get("longitude"),
                lab["precision"]: row.get("precision", ""),
                lab["provider"]: row.get("provider", ""),
                lab["query"]: row.get("query", ""),
                lab["place"]: row.get("place") or "",
                lab["failure"]: o.failure or "",
            }
        )
    return pd.DataFrame(rows)


def table_view(df: pd.DataFrame) -> Styler:
    """A text table for the notebook: line breaks kept, left-aligned, every cell and label HTML-escaped.

    (A plain DataFrame shows a line break inside a cell as a literal ``\\n``.) Meant for tables of
    text; numbers are shown as they are, missing cells empty.
    """
    cell = {"white-space": "pre-wrap", "text-align": "left", "vertical-align": "top"}
    header = [("text-align", "left"), ("vertical-align", "top")]
    return (
        df.style.format(escape="html", na_rep="", formatter=str)
        .format_index(escape="html", axis=0)
        .format_index(escape="html", axis=1)
        .set_properties(**cell)
        .set_table_styles([{"selector": "th", "props": header}])
    )


# ---------------------------------------------------------------------------------- offline display
def external_assets(text: str) -> list[str]:
    """The addresses of scripts, stylesheets and images ``text`` loads from elsewhere (empty when it
    loads nothing over the network). HTML inside an iframe's ``srcdoc`` is read too."""
    return sorted({m.group(1) for m in _EXTERNAL.finditer(html.unescape(text))})


def use_offline_plotly() -> str:
    """Make ``fig.show()`` emit plotly's JSON mime type only (``application/vnd.plotly.v1+json``).

    JupyterLab draws it with the plotly.js bundled in its ``jupyterlab-plotly`` extension, so
    nothing is fetched. (The ``notebook`` renderer would add a MathJax ``<script>`` from a CDN to
    every figure; ``notebook_connected`` loads plotly.js itself from one.)
    """
    import plotly.io as pio

    pio.renderers.default = PLOTLY_RENDERER
    return PLOTLY_RENDERER


def notebook_map(points: pd.DataFrame, lang: str = "ja", **kwargs: Any) -> HTML:
    """The atlas map for Jupyter: Leaflet, supercluster, the atlas's map code and the outlines inlined
    (no network). Pass ``atlas=`` to show organisations' and sources' names.

    Returns an ``IPython.display.HTML`` (folium's own iframe); ``kwargs`` go to
    :func:`dashboard.atlasmap.builder.build_map`.
    Raises RuntimeError if the page would load anything over the network.
    """
    from IPython.display import HTML

    m = build_map(points, lang=lang, assets="inline", **kwargs)  # type: ignore[arg-type]
    page = m._repr_html_()
    found = external_assets(page)
    if found:
        raise RuntimeError(f"the map would load from the network ({', '.join(found)}); it must be inlined")
    return HTML(page)


# ---------------------------------------------------------------------------------- the explorer
def region_options(atlas: Atlas, lang: str = "ja") -> list[tuple[str, str]]:
    """(label, region id) for every region in the vocabulary, in vocabulary order."""
    return [(atlas.label("regions", r, lang), r) for r in atlas.vocabulary.regions]


def organisation_options(atlas: Atlas, lang: str = "ja") -> list[tuple[str, str]]:
    """(short name — full name, organisation id) for every organisation, in file order."""
    out = []
    for org_id, rec in atlas.organisation_records.items():
        short = short_name(atlas, org_id, lang)
        full = pick(rec.name.ja, rec.name.en, lang)
        out.append((short if full == short else f"{short} — {full}", org_id))
    return out


class Explorer:
    """Three pickers and the map, timeline and membership chart they drive, redrawn in place.

    ``Explorer(atlas, "ja")`` then display it (the last expression of a cell, or ``display(ex)``).
    ``selection``, ``map_page`` (the map's HTML) and ``figures`` always hold what is shown, so the
    behaviour can be checked without a browser. ``show=False`` builds everything but displays
    nothing into the output areas (for tests outside a kernel).
    """

    def __init__(self, atlas: Atlas, lang: str = "ja", *, show: bool = True) -> None:
        import ipywidgets as widgets

        _lab(lang)
        self.atlas = atlas
        self.lang = lang
        self.show = show
        self.years = widgets.IntRangeSlider(
            value=(YEAR_MIN, YEAR_MAX),
            min=YEAR_MIN,
            max=YEAR_MAX,
            step=1,
            description=t("founding_years", lang),
            continuous_update=False,  # redraw when the handle is released, not while dragging
            style={"description_width": "initial"},
            layout=widgets.Layout(width="32em"),
        )
        self.regions = widgets.SelectMultiple(
            options=region_options(atlas, lang),
            value=(),
            rows=len(atlas.vocabulary.regions),
            description=t("regions", lang),
            style={"description_width": "initial"},
        )
        self.organisations = widgets.SelectMultiple(
            options=organisation_options(atlas, lang),
            value=(),
            rows=min(len(atlas.organisation_records), 12),
            description=t("organisations", lang),
            style={"description_width": "initial"},
            layout=widgets.Layout(width="34em"),
        )
        self.summary = widgets.HTML()
        self.map_out = widgets.Output()
        self.timeline_out = widgets.Output()
        self.membership_out = widgets.Output()
        lab = _lab(lang)
        tabs = widgets.Tab(children=[self.map_out, self.timeline_out, self.membership_out])
        for i, key in enumerate(("map", "timeline", "membership")):
            tabs.set_title(i, lab[key])
        hint = widgets.HTML("<small>" + escape_html(t("nb_explorer_hint", lang)) + "</small>")
        self.widget = widgets.VBox(
            [self.years, widgets.HBox([self.regions, self.organisations]), hint, self.summary, tabs]
        )
        self.selection: Selection
        self.map_page = ""
        self.figures: dict[str, go.Figure] = {}
        self.updates = 0
        self._paused = False
        for w in (self.years, self.regions, self.organisations):
            w.observe(self._changed, names="value")
        self.update()

    # ------------------------------------------------------------ state
    def filters(self) -> Filters:
        """The pickers' values as the dashboard's Filters (empty pickers mean everything)."""
        lo, hi = self.years.value
        return Filters(
            years=(int(lo), int(hi)),
            regions=tuple(self.regions.value),
            organisations=tuple(self.organisations.value),
            lang=self.lang,
        )

    def set(
        self,
        *,
        years: tuple[int, int] | None = None,
        regions: Iterable[str] | None = None,
        organisations: Iterable[str] | None = None,
    ) -> Selection:
        """Change several pickers at once and redraw once (a script's way to drive the explorer)."""
        self._paused = True
        try:
            if years is not None:
                self.years.value = tuple(years)
            if regions is not None:
                self.regions.value = tuple(regions)
            if organisations is not None:
                self.organisations.value = tuple(organisations)
        finally:
            self._paused = False
        return self.update()

    def _changed(self, _change: dict[str, Any]) -> None:
        if not self._paused:
            self.update()

    # ------------------------------------------------------------ drawing
    def update(self) -> Selection:
        """Select with the current filters and redraw the summary, map and charts."""
        atlas, lang = self.atlas, self.lang
        sel = select(atlas, self.filters())
        self.selection = sel
        if sel.empty:
            self.summary.value = f"<b>{escape_html(t('nothing_selected', lang))}</b>"
        else:
            text = t(
                "nb_summary",
                lang,
                orgs=len(sel.organisations),
                points=len(sel.points),
                events=len(sel.events),
            )
            self.summary.value = f"<b>{escape_html(text)}</b>"
        page = notebook_map(sel.points, lang, atlas=self.atlas)
        self.map_page = page.data
        self.figures = {
            "timeline": timeline_figure(sel, atlas, lang),
            "membership": membership_figure(sel.membership, atlas, lang),
        }
        if self.show:
            self._draw(self.map_out, page)
            self._draw(self.timeline_out, self.figures["timeline"])
            self._draw(self.membership_out, self.figures["membership"])
        self.updates += 1
        return sel

    @staticmethod
    def _draw(out: Any, obj: Any) -> None:
        from IPython.display import display

        out.clear_output(wait=True)
        with out:
            if hasattr(obj, "to_plotly_json"):
                obj.show(renderer=PLOTLY_RENDERER)
            else:
                display(obj)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)
