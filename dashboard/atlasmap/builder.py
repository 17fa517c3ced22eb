"""The atlas map: one component, built without Streamlit. Python passes data; the browser code draws.

The map has two parts, and the builder's API keeps them apart:

* the **base map** (:func:`base_map`): a Leaflet map (folium) with the country outlines (Natural Earth
  1:110m, so the map still shows where things are offline), an optional online basemap, a fullscreen
  button, and ``window.atlasMap.init(map, config)`` — the same for every selection in a language;
* the **selection** (:func:`selection_data`): the points of one filter selection as columnar JSON,
  read by field name, with the organisations (legend order, colours), the popup's rows and the view to
  fit; drawn by ``window.atlasMap.show(token, data)``.

Everything the browser does (clusters with supercluster, the legend that switches organisations on
and off, former offices and cities in several networks, popups, tooltips, clicks) is in
``browser/atlas-map.js`` and ``browser/atlas-map.css``: one popup implementation, reading fields by name,
escaping every value. The app sends the base map once per frame and swaps selections in it
(``dashboard.shell.map_component``); a standalone page, the briefing pack and the notebook get both
parts in one page (:func:`build_map`, :func:`standalone_html`).

Assets: ``assets="served"`` links Leaflet, supercluster and the atlas's files at absolute
``/app/static/...`` URLs (see :func:`dashboard.atlasmap.assets.ensure_static_assets`);
``assets="inline"`` puts their code into the page (a file that opens from ``file://`` with no network).
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import folium
import numpy as np
import pandas as pd
from branca.element import Element, MacroElement
from folium.template import Template

from dashboard.atlasmap import assets as atlas_assets
from dashboard.core.colours import org_colour, text_colour
from dashboard.core.data import Atlas
from dashboard.core.places import POINT_COLUMNS, POPUP_FIELDS, Membership, names_for
from dashboard.core.safety import clean, safe_url, script_code, script_json, script_json_text
from dashboard.core.schema import PRECISIONS
from dashboard.core.text import (
    LANGS,
    aside,
    date_span,
    date_text,
    fallback_chain,
    join,
    label,
    pick,
    precision_label,
    second_language,
    t,
)

AssetMode = Literal["served", "inline"]

MAX_ZOOM = 18
DEFAULT_CENTER = (20.0, 10.0)  # whole world, used when there is no point
DEFAULT_ZOOM = 2
SINGLE_POINT_ZOOM = 6
BASEMAP_URL = "https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}{r}.png"
BASEMAP_ATTRIBUTION = (
    '&copy; <a href="https://www.openstreetmap.org/copyright" rel="noopener">OpenStreetMap</a>'
    ' contributors &copy; <a href="https://carto.com/attributions" rel="noopener">CARTO</a>'
)
OUTLINE_ATTRIBUTION = "Outlines: Natural Earth (public domain)"
_HEX = re.compile(r"^#[0-9A-Fa-f]{6}$")

# The browser's fields, in the order of data["fields"] (columns are read by name).
FIELDS = (
    "id", "lat", "lon", "type", "orgs", "name", "name2", "kind", "memberships", "address",
    *POPUP_FIELDS, "place", "website", "period", "precision", "source", "as_of",
)  # fmt: skip
# Interface text the browser needs (catalogue keys map_<name>).
_MAP_LABELS = (
    "legend", "points", "fullscreen", "exit_fullscreen", "former_offices", "multi_network", "show_legend",
    "hide_legend", "cluster_list", "outline", "basemap",
)  # fmt: skip


def map_labels(lang: str) -> dict[str, str]:
    """The map's interface text in ``lang`` (catalogue keys ``map_<name>``)."""
    return {k: t(f"map_{k}", lang) for k in _MAP_LABELS}


# ---------------------------------------------------------------- the text the map shows
class MapText:
    """The names the map shows for organisations, sources and vocabulary terms, in one language.

    From an Atlas when there is one; a table of synthetic points (the benchmarks) shows ids instead.
    """

    def __init__(self, atlas: Atlas | None, lang: str):
        self.atlas, self.lang = atlas, lang

    def org(self, org_id: str) -> tuple[str, str]:
        """(short name, full name) of an organisation."""
        rec = self.atlas.organisation_records.get(org_id) if self.atlas else None
        if rec is None:
            return org_id, org_id
        n = rec.name
        return pick(n.short_ja, n.short_en, self.lang), pick(n.ja, n.en, self.lang)

    def source(self, source_id: str | None) -> str | None:
        if not source_id:
            return None
        return self.atlas.source_title(source_id) if self.atlas else source_id

    def term(self, vocab: str, term: str | None) -> str | None:
        if not term:
            return None
        if self.atlas is None:
            return term
        return self.atlas.label(vocab, term, self.lang)


def _org_entry(org_id: str, text: MapText, colours: Mapping[str, str] | None) -> dict[str, str]:
    short, full = text.org(org_id)
    colour = (colours or {}).get(org_id) or org_colour(org_id)
    if not _HEX.match(colour):
        colour = org_colour(org_id)
    return {
        "id": org_id,
        "short": short,
        "label": full if short in full else f"{full} ({short})",
        "colour": colour,
        "ink": text_colour(colour),
    }


def _encoded(values: Iterable[Any], convert=lambda v: v) -> dict[str, list[Any]]:
    """A column as a dictionary of distinct values and one code per row: ``{"dict": [...], "codes": [...]}``.
    ``convert`` runs once per distinct value, and the JSON stays small at 100,000 rows (most columns
    repeat a few values); the browser decodes it (``atlas-map.js``)."""
    index: dict[Any, int] = {}
    codes = [index.setdefault(v, len(index)) for v in values]
    return {"dict": [convert(v) for v in index], "codes": codes}


def _values(column: pd.Series) -> list[Any]:
    """A column as a plain list, missing values (NaN, NA) as None: fast to iterate and to key on."""
    return column.astype(object).where(column.notna(), None).tolist()


def _kind(point_type: str, kind: str | None, member_kind: str | None, text: MapText) -> str | None:
    if point_type == "member":
        return text.term("member_kinds", member_kind) or t("member_city", text.lang)
    shown = text.term("office_kinds", kind)
    if point_type == "former-office":
        return (
            t("former_office_kind", text.lang, kind=shown) if shown else t("point_former-office", text.lang)
        )
    return shown


def _memberships(ms: tuple[Membership, ...], index: dict[str, int], text: MapText) -> list[dict] | None:
    if not ms:
        return None
    out = []
    for m in ms:
        entry: dict[str, Any] = {"org": index[m.organisation]}
        member = pick(m.member_ja, m.member, text.lang)
        if member:
            entry["member"] = member
        span = date_span(m.since, m.until, text.lang)
        if span:
            entry["span"] = span
        if m.status and m.status != "active":
            entry["status"] = text.term("member_statuses", m.status)
        if m.sources:
            entry["source"] = "; ".join(filter(None, (text.source(s) for s in m.sources)))
        if m.as_of:
            entry["as_of"] = _as_of_shown(m.as_of, text.lang)
        out.append(entry)
    return out


def _as_of_shown(value: Any, lang: str) -> str | None:
    """An as-of date as ``lang`` writes it ("2025年9月"); a value that is no date, as it is."""
    try:
        return date_text(value, lang) or None
    except ValueError:
        return clean(value)


def _as_of_template(lang: str) -> str:
    """How a source and its as-of date read in ``lang``: "{text} (as of {date})" / "{text}（{date}時点）";
    the browser fills in both (atlas-map.js, ``withAsOf``)."""
    return aside("{text}", t("as_of_date", lang, date="{date}"), lang)


def _with_coordinates(points: pd.DataFrame) -> pd.DataFrame:
    """Rows with usable coordinates only (the loader already leaves the others out)."""
    if points.empty:
        return points
    lat = pd.to_numeric(points["lat"], errors="coerce")
    lon = pd.to_numeric(points["lon"], errors="coerce")
    ok = lat.between(-90, 90) & lon.between(-180, 180)
    out = points.loc[ok].copy()
    out["lat"], out["lon"] = lat[ok].astype(float), lon[ok].astype(float)
    return out


def _view(points: pd.DataFrame) -> dict[str, Any]:
    if points.empty:
        return {"fit": None, "center": list(DEFAULT_CENTER), "zoom": DEFAULT_ZOOM}
    lat_min, lat_max = float(points["lat"].min()), float(points["lat"].max())
    lon_min, lon_max = float(points["lon"].min()), float(points["lon"].max())
    if lat_min == lat_max and lon_min == lon_max:
        return {"fit": None, "center": [lat_min, lon_min], "zoom": SINGLE_POINT_ZOOM}
    return {"fit": [[lat_min, lon_min], [lat_max, lon_max]], "center": None, "zoom": None}


def popup_rows(lang: str) -> list[dict[str, Any]]:
    """The popup's rows, in order (the browser leaves out a row whose value is empty)."""
    rows: list[dict[str, Any]] = [
        {"field": "kind", "label": t("map_kind", lang), "type": "text"},
        {"field": "memberships", "label": t("map_networks", lang), "type": "memberships",
         "as_of_template": _as_of_template(lang)},
        {"field": "address", "label": t("map_address", lang), "type": "text"},
    ]  # fmt: skip
    rows += [{"field": f, "label": t(f"field_{f}", lang), "type": "text"} for f in POPUP_FIELDS]
    rows += [
        {"field": "place", "label": t("map_place", lang), "type": "text"},
        {"field": "website", "label": t("map_website", lang), "type": "url"},
        {"field": "period", "label": t("map_period", lang), "type": "text"},
        {"field": "precision", "label": t("map_precision", lang), "type": "text"},
        {"field": "source", "label": t("map_source", lang), "type": "source", "as_of": "as_of",
         "as_of_template": _as_of_template(lang)},
    ]  # fmt: skip
    return rows


def selection_data(
    points: pd.DataFrame,
    lang: str,
    *,
    atlas: Atlas | None = None,
    colours: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The selection's points in the browser's format (``window.atlasMap.show``): columnar, one list
    per field of :data:`FIELDS`, every value text in ``lang`` (or a number), escaped by the browser."""
    _check(points, lang)
    points = _with_coordinates(points)
    text = MapText(atlas, lang)
    org_ids = list(dict.fromkeys(o for orgs in set(points["organisations"]) for o in orgs))
    entries = sorted(
        (_org_entry(o, text, colours) for o in org_ids), key=lambda e: (e["short"].casefold(), e["id"])
    )
    index = {e["id"]: i for i, e in enumerate(entries)}
    names = _name_column(points, lang)
    names2 = _name_column(points, second_language(lang))
    for i in np.flatnonzero((points["names_by"] == "atlas").to_numpy()):  # a name no source writes, marked
        names[i], names2[i] = names_for(points.iloc[i], lang)

    def place(key: tuple) -> str | None:
        city, city_ja, country = key
        return join((pick(city_ja, city, lang), text.term("countries", country)), lang) or None

    col = {c: _values(points[c]) for c in POINT_COLUMNS if c not in ("lat", "lon")}
    office = [pt != "member" for pt in col["point_type"]]
    columns: dict[str, Any] = {
        "id": [str(v) for v in col["id"]],
        "lat": points["lat"].round(6).tolist(),
        "lon": points["lon"].round(6).tolist(),
        "type": _encoded(col["point_type"]),
        "orgs": _encoded(col["organisations"], lambda orgs: [index[o] for o in orgs]),
        "name": names,
        "name2": [n2 if n2 != n else None for n, n2 in zip(names, names2, strict=True)],
        "kind": _encoded(
            zip(col["point_type"], col["kind"], col["member_kind"], strict=True), lambda k: _kind(*k, text)
        ),
        "memberships": _encoded(col["memberships"], lambda ms: _memberships(ms, index, text)),
        "address": _encoded(col["address"], clean),
        **{f: _encoded(col[f], clean) for f in POPUP_FIELDS},
        "place": _encoded(zip(col["city"], col["city_ja"], col["country"], strict=True), place),
        "website": _encoded(col["website"], safe_url),
        "period": _encoded(
            (
                (s, u) if o else (None, None)
                for s, u, o in zip(col["since"], col["until"], office, strict=True)
            ),
            lambda span: date_span(*span, lang) or None,
        ),
        "precision": _encoded(col["precision"], lambda p: precision_label(p, lang) if p else None),
        "source": _encoded(
            (s if o else None for s, o in zip(col["source"], office, strict=True)), text.source
        ),
        "as_of": _encoded(
            (a if o else None for a, o in zip(col["as_of"], office, strict=True)),
            lambda a: _as_of_shown(a, lang),
        ),
    }
    return {
        "orgs": entries,
        "fields": list(FIELDS),
        "columns": {f: columns[f] for f in FIELDS},
        "popup": popup_rows(lang),
        "tooltip": {"fields": ["name", "name2"]},
        **_view(points),
    }


def _name_column(points: pd.DataFrame, lang: str) -> list[str | None]:
    """Each point's name in ``lang``, falling back along the text module's chain (vectorised)."""
    out: pd.Series | None = None
    for candidate in fallback_chain(lang):
        column = f"name_{candidate}"
        if column not in points:
            continue
        values = points[column].where(points[column].notna() & (points[column].astype(str).str.strip() != ""))
        out = values if out is None else out.fillna(values)
    if out is None:
        return [None] * len(points)
    return [None if isinstance(v, float) else v for v in out.fillna(points["id"].astype(str)).tolist()]


def _check(points: pd.DataFrame, lang: str) -> None:
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}, not {lang!r}")
    missing = [c for c in POINT_COLUMNS if c not in points.columns]
    if missing:
        raise ValueError(f"points table lacks column(s) {', '.join(missing)} (see places.POINT_COLUMNS)")


def map_config(
    lang: str,
    *,
    report: bool = False,
    wait_selector: str | None = None,
    legend_collapsed: bool = False,
    inline_outline: bool = False,
    large_controls: bool = False,
    basemap: bool = False,
) -> dict[str, Any]:
    """``window.atlasMap.init``'s configuration: the language, the interface text, the outline, the
    online basemap (``basemap``: added after the first points are drawn).

    report: tell the page around the map (the Streamlit app) about clicks; wait_selector: the element
    of that page whose presence asks the map to say when it has drawn (the app's "map first" start);
    large_controls: buttons and legend rows large enough to hit on a projector or a touch screen.
    """
    config: dict[str, Any] = {
        "lang": lang,
        "lang2": second_language(lang),
        "labels": map_labels(lang),
        "legendCollapsed": legend_collapsed,
        "large": large_controls,
        "report": report,
        "waitSelector": wait_selector,
        "outlineAttribution": OUTLINE_ATTRIBUTION,
    }
    if basemap:
        config["basemap"] = {
            "url": BASEMAP_URL, "attribution": BASEMAP_ATTRIBUTION, "subdomains": "abcd", "maxZoom": MAX_ZOOM,
        }  # fmt: skip
    if inline_outline:
        config["outline"] = json.loads(atlas_assets.world_outline_text())
    else:
        config["outlineUrl"] = atlas_assets.served_url(atlas_assets.WORLD_OUTLINE)
    return config


# ---------------------------------------------------------------- folium elements
class _Raw(Element):
    """Already rendered code, inserted as is (branca would parse an ``Element`` as a template)."""

    def __init__(self, code: str):
        super().__init__()
        self.code = code

    def render(self, **kwargs: Any) -> str:  # noqa: ARG002 (branca passes kwargs)
        return self.code


class _Script(MacroElement):
    """A call into ``window.atlasMap`` (``__MAP__`` stands for the map's variable), as rendered script.

    branca's own render would parse the script again as a Jinja template (slow at 100,000 points, and a
    template injection if data held ``{{ }}``): :meth:`render` inserts it as it is. streamlit-folium reads
    the ``script`` macro directly, which inserts it as it is too.
    """

    _template = Template("{% macro script(this, kwargs) %}{{ this.code_for_map() }}{% endmacro %}")

    def __init__(self, name: str, code: str):
        super().__init__()
        self._name = name
        self.code = code

    def code_for_map(self) -> str:
        return self.code.replace("__MAP__", self._parent.get_name())

    def render(self, **kwargs: Any) -> None:  # noqa: ARG002
        self.get_root().script.add_child(_Raw(self.code_for_map()), name=self.get_name())


SHOW_MARK = "/*atlas-points*/"
_SHOW_END = "`));\n"


def with_view(data: dict[str, Any], view: Mapping[str, Any] | None) -> dict[str, Any]:
    """A selection's data opening at ``view`` = ``{"center": [lat, lon], "zoom": z}`` (a scene's)
    rather than at its points' bounds (unchanged without a center; no zoom: the default zoom)."""
    if not view or view.get("center") is None:
        return data
    zoom = view.get("zoom")
    return {
        **data,
        "fit": None,
        "center": [float(c) for c in view["center"]],
        "zoom": float(zoom) if zoom is not None else DEFAULT_ZOOM,
    }


def show_call(token: str, data: dict[str, Any]) -> str:
    """The script that shows a selection in a map whose ``atlasMap.init`` has run. The data is a JSON
    text given to ``JSON.parse``, which the browser reads faster than an object literal (bench/)."""
    return f"window.atlasMap.show({script_json(token)}, {SHOW_MARK}JSON.parse({script_json_text(data)}));\n"


def shown_data(page: str) -> list[dict[str, Any]]:
    """The data of every ``atlasMap.show`` call in a rendered map page (or component script), in order."""
    out = []
    start = page.find(SHOW_MARK)
    while start >= 0:
        begin = start + len(SHOW_MARK) + len("JSON.parse(`")
        end = page.index(_SHOW_END, begin)  # the JSON text holds no raw line break
        out.append(json.loads(re.sub(r"\\(.)", r"\1", page[begin:end])))
        start = page.find(SHOW_MARK, end)
    return out


def _set_asset_links(m: folium.Map, mode: AssetMode) -> None:
    """Replace folium's CDN links (instance attributes; streamlit-folium reads them too)."""
    if mode == "inline":
        m.default_js, m.default_css = [], []
        return
    # one script and one stylesheet (assets.BUNDLES); folium's names "leaflet" and "leaflet_css"
    m.default_js = [("leaflet", atlas_assets.served_url("atlas-map.bundle.js"))]
    m.default_css = [("leaflet_css", atlas_assets.served_url("atlas-map.bundle.css"))]


@functools.cache
def _inline_assets_html() -> str:
    css = "\n".join(atlas_assets.inline_css(f) for _, f in atlas_assets.CSS_ASSETS)
    scripts = "\n".join(
        f"<script>/* {f} */\n{script_code(atlas_assets.asset_text(f))}\n</script>"
        for _, f in atlas_assets.JS_ASSETS
    )
    return f"<style>\n{css}\n</style>\n{scripts}"


def base_map(
    lang: str = "en",
    *,
    assets: AssetMode = "served",
    basemap: bool = True,
    report: bool = False,
    wait_selector: str | None = None,
    legend_collapsed: bool = False,
    height: str | int = "100%",
    large_controls: bool = False,
) -> folium.Map:
    """The base map (see the module): the same for every selection in one language and setting.
    ``report``, ``wait_selector`` and ``large_controls``: see :func:`map_config`."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}, not {lang!r}")
    if assets not in ("served", "inline"):
        raise ValueError(f"assets must be 'served' or 'inline', not {assets!r}")
    m = folium.Map(
        location=list(DEFAULT_CENTER),
        zoom_start=DEFAULT_ZOOM,
        tiles=None,
        min_zoom=1,
        max_zoom=MAX_ZOOM,
        control_scale=False,  # a world map of networks needs no scale bar; it collided with the attribution
        width="100%",
        height=height,
    )
    m.options["maxZoom"] = MAX_ZOOM
    _set_asset_links(m, assets)
    if assets == "inline":
        m.get_root().header.add_child(Element(_inline_assets_html()), name="atlas_inline_assets")
    config = map_config(
        lang,
        basemap=basemap,  # online only, added by atlasMap after the first points; offline the outlines show
        report=report,
        wait_selector=wait_selector,
        legend_collapsed=legend_collapsed,
        inline_outline=assets == "inline",
        large_controls=large_controls,
    )
    m.add_child(_Script("AtlasInit", f"window.atlasMap.init(__MAP__, {script_json(config)});\n"))
    return m


def build_map(
    points: pd.DataFrame,
    *,
    lang: str = "en",
    atlas: Atlas | None = None,
    assets: AssetMode = "served",
    basemap: bool = True,
    colours: Mapping[str, str] | None = None,
    legend_collapsed: bool = False,
    height: str | int = "100%",
    token: str = "static",
    view: Mapping[str, Any] | None = None,
) -> folium.Map:
    """The whole map of ``points`` (a places table, see ``dashboard.core.places``) in one page: the base
    map and the selection. ``atlas`` names organisations, sources and terms (without it: ids).
    ``view`` (``{"center": [lat, lon], "zoom": z}``, a scene's) opens the map there instead of around
    its points."""
    m = base_map(lang, assets=assets, basemap=basemap, legend_collapsed=legend_collapsed, height=height)
    data = with_view(selection_data(points, lang, atlas=atlas, colours=colours), view)
    m.add_child(_Script("AtlasShow", show_call(token, data)))
    return m


def map_html(m: folium.Map) -> str:
    """The complete HTML page of a map."""
    return m.get_root().render()


def standalone_html(points: pd.DataFrame, **kwargs: Any) -> str:
    """A self-contained HTML page of the map (assets inlined): opens from file:// with no network.

    Accepts the keyword arguments of :func:`build_map` except ``assets``.
    """
    kwargs.pop("assets", None)
    return map_html(build_map(points, assets="inline", **kwargs))


def shown_points(page: str) -> int:
    """How many points a rendered map page (or component script) shows."""
    return sum(len(data["columns"]["id"]) for data in shown_data(page))


# ---------------------------------------------------------------- clicks
def points_at(
    points: pd.DataFrame, lat: float | None, lng: float | None, *, tolerance: float = 1e-3
) -> pd.DataFrame:
    """All rows at the position nearest to (lat, lng), if within ``tolerance`` degrees.

    Several points can share a position (city-level coordinates), hence a table. Empty when
    nothing is that close or the position is missing. Longitude is compared modulo 360.
    """
    empty = points.iloc[0:0]
    if lat is None or lng is None or points.empty:
        return empty
    try:
        lat, lng = float(lat), float(lng)
    except (TypeError, ValueError):
        return empty
    if not (math.isfinite(lat) and math.isfinite(lng)):
        return empty
    plat = pd.to_numeric(points["lat"], errors="coerce")
    plon = pd.to_numeric(points["lon"], errors="coerce")
    dlon = ((plon - lng + 180) % 360 - 180).abs()
    dist = (plat - lat).abs().combine(dlon, max)
    if dist.isna().all():
        return empty
    best = dist.min()
    if best > tolerance:
        return empty
    return points.loc[dist <= best + 1e-12]


def point_at(
    points: pd.DataFrame, lat: float | None, lng: float | None, *, tolerance: float = 1e-3
) -> pd.Series | None:
    """The clicked row, or None."""
    found = points_at(points, lat, lng, tolerance=tolerance)
    return None if found.empty else found.iloc[0]


def vocabulary_labels(atlas: Atlas, vocab: str, lang: str) -> dict[str, str]:
    """Every term of a vocabulary list with its label in ``lang``."""
    return {k: label(v, lang) for k, v in getattr(atlas.vocabulary, vocab).items()}


__all__ = [
    "BASEMAP_URL",
    "FIELDS",
    "PRECISIONS",
    "MapText",
    "base_map",
    "build_map",
    "map_config",
    "map_html",
    "point_at",
    "points_at",
    "popup_rows",
    "selection_data",
    "show_call",
    "shown_data",
    "shown_points",
    "standalone_html",
]
