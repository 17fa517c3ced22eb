"""Streamlit glue shared by app.py and the pages: cached loading, the shared filters, the URL.

This is the only module besides the page scripts that imports Streamlit; the notebook never
imports it.
"""

from __future__ import annotations

import json
import os
import re
from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path

import streamlit as st
from branca.element import MacroElement
from folium.template import Template
from streamlit_folium import generate_js_hash

from dashboard.atlasmap import builder as mapping
from dashboard.atlasmap.builder import safe_url, standalone_html
from dashboard.core import paths, tables
from dashboard.core.data import Atlas, Problem, load_atlas_partial, nn
from dashboard.core.export_csv import safe_csv_bytes
from dashboard.core.figures import short_name
from dashboard.core.filters import (
    YEAR_MAX,
    YEAR_MIN,
    Filters,
    Selection,
    from_query_params,
    select,
    to_query_params,
)
from dashboard.core.i18n import pick, t

_DATA_FILES = (
    paths.VOCABULARY,
    paths.SOURCES,
    paths.ORGANISATIONS,
    paths.OFFICES,
    paths.MEMBERS,
    paths.MEMBERSHIP,
    paths.EVENTS,
    paths.GEOCODED,
)


def _stamp(folder: Path) -> tuple:
    """Changes whenever a data file changes, so an edited file is picked up without a restart."""
    out = []
    for name in _DATA_FILES:
        p = folder / name
        out.append((name, p.stat().st_mtime_ns, p.stat().st_size) if p.exists() else (name, None, None))
    return tuple(out)


# The atlas is read-only and shared by every session: st.cache_resource keeps one copy in memory
# instead of unpickling a copy per rerun (what st.cache_data would do).
@st.cache_resource(show_spinner=False, max_entries=4)
def _load(folder: str, stamp_key: tuple) -> tuple[Atlas | None, list[Problem]]:  # noqa: ARG001 (cache key)
    return load_atlas_partial(Path(folder))


def load() -> tuple[Atlas | None, list[Problem]]:
    """The atlas (what is valid of it) and every problem found; reloaded when a data file changes."""
    folder = paths.data_dir()
    return _load(str(folder), _stamp(folder))


def md_escape(text: str) -> str:
    """Make text safe to pass to a Streamlit element that renders Markdown: shown literally."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$&:])", r"\\\1", str(text))


def md_text(text: str) -> str:
    """Plain text for st.markdown: escaped, its line breaks kept."""
    return "  \n".join(md_escape(line) for line in str(text).split("\n"))


def show_data_errors(problems: list[Problem], lang: str, fatal: bool) -> None:
    """Name every data error on the page (as plain text), never a traceback."""
    errors = [p for p in problems if p.severity == "error"]
    if not errors:
        return
    st.error(t("data_error_title" if fatal else "data_error_partial", lang, n=len(errors)))
    with st.expander(t("data_error_fix", lang), expanded=fatal):
        st.code("\n".join(f"- {p}" for p in errors), language=None)


PRESENTATION_CSS = """
<style>
section[data-testid="stSidebar"], div[data-testid="stSidebarCollapsedControl"],
button[data-testid="stExpandSidebarButton"] {display: none !important;}
[data-testid="stMain"] p, [data-testid="stMain"] li, [data-testid="stMain"] label,
[data-testid="stMain"] button p, [data-testid="stCaptionContainer"] p {font-size: 1.35rem !important;}
[data-testid="stMain"] h1 {font-size: 3.2rem !important;}
[data-testid="stMain"] h2 {font-size: 2.4rem !important;}
[data-testid="stMain"] h3, [data-testid="stMain"] h4 {font-size: 1.9rem !important;}
[data-testid="stMetricValue"] div {font-size: 3.4rem !important;}
[data-testid="stHeader"] a, [data-testid="stHeader"] span {font-size: 1.2rem !important;}
.block-container {padding-top: 4rem !important; max-width: 100% !important;}
</style>
"""


@dataclass(frozen=True)
class Context:
    atlas: Atlas
    filters: Filters
    selection: Selection
    data_key: tuple = ()  # (data folder, _stamp of its files) when the context was built

    @property
    def lang(self) -> str:
        return self.filters.lang

    @property
    def cache_key(self) -> str:
        """What the selection depends on (data files and filters, not presentation mode): the key of
        every per-selection cache (map, tables, downloads). A string: Streamlit hashes it quickly."""
        return _cache_key(self.data_key, self.filters)


def _cache_key(data_key: tuple, f: Filters) -> str:
    return repr((data_key, replace(f, present=False)))


# ------------------------------------------------------------------------------ shared filters
def _apply_to_widgets(f: Filters) -> None:
    st.session_state["lang"] = f.lang
    st.session_state["years"] = f.years
    st.session_state["region"] = list(f.regions)
    st.session_state["kind"] = list(f.kinds)
    st.session_state["org"] = list(f.organisations)
    st.session_state["present"] = f.present
    st.session_state["compare_sel"] = list(f.compare)


def _from_widgets() -> Filters:
    s = st.session_state
    years = tuple(s.get("years", (YEAR_MIN, YEAR_MAX)))
    return Filters(
        years=(int(years[0]), int(years[1])),
        regions=tuple(s.get("region", ())),
        kinds=tuple(s.get("kind", ())),
        organisations=tuple(s.get("org", ())),
        lang=s.get("lang", "ja"),
        present=bool(s.get("present", False)),
        compare=tuple(s.get("compare_sel", ())),
    )


def _reset() -> None:
    _apply_to_widgets(Filters(lang=st.session_state.get("lang", "ja")))
    st.session_state["url_notices"] = []


def _leave_presentation() -> None:
    st.session_state["present"] = False


def current_filters(atlas: Atlas) -> Filters:
    """The shared filters of this run: from the link on a session's first run, then from the
    sidebar's widgets. Draws the link's notices and presentation mode and keeps the URL in step.

    Call from app.py before ``pg.run()``, then ``draw_filters``: the widgets keep their state on
    every page because they are drawn on every page.
    """
    first = "filters_initialised" not in st.session_state
    st.session_state["_first_run"] = first
    if first:
        parsed = from_query_params(st.query_params.to_dict(), atlas)
        _apply_to_widgets(parsed.filters)
        st.session_state["url_notices"] = parsed.notices
        st.session_state["url_filters"] = parsed.filters
        st.session_state["filters_initialised"] = True

    f = _from_widgets()
    # The link's notices stay until the user changes a filter (the language aside).
    read = st.session_state.get("url_filters")
    if read is not None and replace(read, lang=f.lang, present=f.present) != f:
        st.session_state["url_notices"] = []
    for n in st.session_state.get("url_notices") or []:
        st.warning(md_escape(n.text(f.lang) if hasattr(n, "text") else n), icon="⚠️")
    wanted = to_query_params(f)
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)
    if f.present:
        st.html(PRESENTATION_CSS)
        st.button(t("exit_presentation", f.lang), on_click=_leave_presentation, key="leave_present")
    return f


# If the map never reports that it is drawn (a script error in its frame), the filters come anyway
# after this many seconds (ATLAS_FILTERS_FALLBACK_S; the browser tests lengthen it to tell the two
# apart).
FILTERS_FALLBACK_S = float(os.environ.get("ATLAS_FILTERS_FALLBACK_S", "3"))
# The sidebar container that stands in for the filters until the map is drawn (its CSS class,
# .st-key-atlas-filters-wait, is what the map's frame looks for: _SWAP_JS).
FILTERS_WAIT_KEY = "atlas-filters-wait"


def shows_map(ctx: Context) -> bool:
    """Whether the map page has points to draw for this selection (else it says why, and stops)."""
    return not (ctx.selection.empty or ctx.selection.points.empty)


def map_first(page_path: str, ctx: Context) -> bool:
    """Whether this run holds the filters back for the map: the session's first run (a link was
    opened), on the map page, with points to draw."""
    return bool(st.session_state.get("_first_run")) and page_path == "map" and shows_map(ctx)


def draw_filters(atlas: Atlas, *, map_first: bool = False) -> None:
    """The sidebar's filters (call from app.py before ``pg.run()``).

    Map first (``map_first``): when a session opens on the map page (a shared link), the widgets'
    code would load in the browser together with the map's and hold the markers back (by about a
    third on this machine, see bench/). The sidebar then says the filters follow, and the map's
    frame reruns the app once its markers are drawn (``window.atlasMap.announce``, which looks for
    this placeholder), which draws them with the link's values. If the map never reports, a
    fragment reruns the app after FILTERS_FALLBACK_S.
    """
    lang = st.session_state.get("lang", "ja")
    if map_first:
        with st.sidebar, st.container(key=FILTERS_WAIT_KEY):
            st.subheader(t("filters", lang))
            st.caption(t("filters_after_map", lang))
            _filters_fallback()
        return
    vocab = atlas.vocabulary
    orgs = atlas.organisations
    with st.sidebar:
        st.radio(
            t("language", lang),
            ["ja", "en"],
            key="lang",
            horizontal=True,
            format_func=lambda v: "日本語" if v == "ja" else "English",
        )
        lang = st.session_state["lang"]
        st.subheader(t("filters", lang))
        st.slider(
            t("founding_years", lang), YEAR_MIN, YEAR_MAX, key="years", help=t("year_filter_note", lang)
        )

        def term(name: str):  # how a term of the vocabulary list ``name`` is shown
            return lambda v: atlas.label(name, v, lang)

        choices = (  # (widget key, label, options, how an option is shown)
            ("region", "regions", list(vocab.regions), term("regions")),
            ("kind", "kinds", list(vocab.organisation_kinds), term("organisation_kinds")),
            ("org", "organisations", list(orgs["id"]), lambda o: short_name(atlas, o, lang)),
        )
        for key, label, options, shown in choices:
            st.multiselect(t(label, lang), options, key=key, format_func=shown, placeholder=t("all", lang))
        st.button(t("reset_filters", lang), on_click=_reset)
        st.toggle(t("presentation_mode", lang), key="present", help=t("presentation_help", lang))
        st.caption(t("share_link_hint", lang))


@st.fragment(run_every=FILTERS_FALLBACK_S)
def _filters_fallback() -> None:
    waited = st.session_state.get("_filters_waited", False)
    st.session_state["_filters_waited"] = True
    if waited:  # the map did not rerun the app in time: draw the filters now
        st.rerun()


def set_compare(org_ids: list[str]) -> None:
    """Remember the Compare page's choice for the session and in the URL."""
    st.session_state["compare_sel"] = list(org_ids)
    if org_ids:
        st.query_params["compare"] = ",".join(org_ids)
    elif "compare" in st.query_params:
        del st.query_params["compare"]


# Plotly's own toolbar stays on, with its PNG export sized for slides.
PLOTLY_CONFIG = {
    "displaylogo": False,
    "toImageButtonOptions": {"format": "png", "width": 1600, "height": 900, "scale": 2},
}


def csv_download(df, file_name: str, lang: str, key: str) -> None:
    """A download button for a table as CSV (UTF-8 with BOM for Excel; formula injection neutralised).

    The bytes are made only when someone clicks (Streamlit calls ``data`` then), not on every rerun.
    """

    st.download_button(
        t("download_csv", lang),
        lambda: safe_csv_bytes(df),
        file_name=file_name,
        mime="text/csv",
        key=key,
        on_click="ignore",
    )


def table_expander(label: str, build, file_name: str, lang: str, key: str) -> None:
    """A collapsed expander with a table and its CSV download, built only once it is opened.

    A closed expander costs the page nothing: its table is neither built on the server nor drawn in
    the browser (the table widget's code is the heaviest the page would otherwise load before the map
    or the chart). Opening it reruns the page with the table in it; it stays open across filter and
    language changes.
    """
    remembered = f"_{key}_was_open"  # the label follows the language, and a new label is a new widget
    box = st.expander(
        label, expanded=bool(st.session_state.get(remembered)), key=f"{key}_open", on_change="rerun"
    )
    st.session_state[remembered] = bool(box.open)
    if box.open:
        with box:
            table = build()
            st.dataframe(table, hide_index=True, width="stretch")
            csv_download(table, file_name, lang, key=f"dl_{key}")


@st.cache_data(show_spinner=False, max_entries=256)
def _select_cached(_atlas: Atlas, key: str, _f: Filters) -> Selection:  # noqa: ARG001 (cache key)
    return select(_atlas, _f)


def context() -> Context | None:
    """The atlas, the filters and what they select, for the page being drawn (None on a data error)."""
    return st.session_state.get("_context")


def build_context(atlas: Atlas, f: Filters) -> Context:
    folder = paths.data_dir()
    data_key = (str(folder), _stamp(folder))
    ctx = Context(
        atlas, f, _select_cached(atlas, _cache_key(data_key, f), replace(f, present=False)), data_key
    )
    st.session_state["_context"] = ctx
    return ctx


def point_details(row, lang: str) -> None:
    """The clicked point's details beside the map; every value shown as literal text."""

    name = pick(nn(row.get("name_ja")), nn(row.get("name_en")), lang)
    other = pick(nn(row.get("name_en")), nn(row.get("name_ja")), lang)
    st.markdown(f"**{md_escape(name)}**")
    if other and other != name:
        st.text(other)
    fields = [
        ("field_organisation", pick(nn(row.get("org_name_ja")), nn(row.get("org_name_en")), lang)),
        ("field_kind", nn(row.get("kind_ja" if lang == "ja" else "kind_en"))),
        ("field_address", nn(row.get("address"))),
        ("field_founded", nn(row.get("founded_year"))),
        ("field_precision", nn(row.get("precision"))),
        (
            "field_source",
            f"{nn(row.get('source_title')) or ''} ({t('as_of', lang)} {nn(row.get('as_of')) or '—'})",
        ),
    ]
    for key, value in fields:
        if value not in (None, ""):
            st.caption(t(key, lang))
            st.text(str(value))
    url = safe_url(row.get("website"))
    if url:
        st.link_button(t("field_website", lang), url)


@st.cache_data(show_spinner=False, max_entries=32)
def _standalone_map(_points, key: str, lang: str) -> str:  # noqa: ARG001 (cache key)

    return standalone_html(_points, lang=lang, basemap=False)  # a file for offline use: outlines only


def standalone_map_html(ctx: Context) -> str:
    """The filtered map as one HTML file with Leaflet inlined (works offline); cached per selection."""
    return _standalone_map(ctx.selection.points, ctx.cache_key, ctx.lang)


@st.cache_data(show_spinner=False, max_entries=64)
def _places_table(_sel: Selection, key: str, lang: str):  # noqa: ARG001 (cache key)

    return tables.places_table(_sel, lang)


def places_table(ctx: Context):
    """tables.places_table of the context's selection, cached per selection and language."""
    return _places_table(ctx.selection, ctx.cache_key, ctx.lang)


@st.cache_data(show_spinner=False, max_entries=64)
def _organisations_table(_atlas: Atlas, _sel: Selection, key: str, lang: str):  # noqa: ARG001 (cache key)

    return tables.organisations_table(_atlas, _sel, lang)


def organisations_table(ctx: Context):
    """tables.organisations_table of the context's selection, cached per selection and language."""
    return _organisations_table(ctx.atlas, ctx.selection, ctx.cache_key, ctx.lang)


# ------------------------------------------------------------------------------ the map component
MAP_RETURNED = ("last_object_clicked",)


def folium_component_args(m, key: str | None, returned_objects=MAP_RETURNED) -> dict:
    """The arguments ``streamlit_folium.st_folium`` sends to its component for the folium.Map ``m``
    (no feature groups, no layer control, no hover), without ``height``, ``width`` and ``on_change``.

    st_folium renders the whole map to strings on every call (about half the server time of a map
    page rerun); computed here once per selection and cached. ``key`` (the component's "key") is
    st_folium's hash of the script, so the browser keeps the map while the points stay the same.
    tests/test_ui_map.py checks this equals what st_folium itself sends.
    """
    import folium.elements
    from streamlit_folium import _get_header, _get_html, _get_map_string, generate_js_hash, get_full_id

    m.get_root().render()
    m.render()
    html = _get_html(m)  # before _get_map_string, which alters the folium structure
    header = _get_header(m)
    leaflet = _get_map_string(m)
    m_id = get_full_id(m)
    try:
        (s, w), (n, e) = m.get_bounds()
        bounds = {"_southWest": {"lat": s, "lng": w}, "_northEast": {"lat": n, "lng": e}}
    except AttributeError:
        bounds = {"_southWest": {"lat": None, "lng": None}, "_northEast": {"lat": None, "lng": None}}
    defaults = dict.fromkeys(
        (
            "last_clicked",
            "last_object_clicked",
            "last_object_clicked_count",
            "last_object_clicked_tooltip",
            "last_object_clicked_popup",
            "all_drawings",
            "last_active_drawing",
        )
    )
    defaults.update(bounds=bounds, zoom=m.options.get("zoom"))
    defaults.update(
        dict.fromkeys(
            (
                "last_circle_radius",
                "last_circle_polygon",
                "selected_layers",
                "selected_tags",
                "last_geocoder_result",
            )
        )
    )
    if returned_objects is not None:
        defaults = {k: v for k, v in defaults.items() if k in returned_objects}

    # (st_folium also adds d3 from the web for a branca ColorMap; the atlas draws none, and would
    # serve it locally if it did.)
    def walk(el):
        if isinstance(el, folium.elements.JSCSSMixin):
            yield el
        for child in getattr(el, "_children", {}).values():
            yield from walk(child)

    css_links: list[str] = []
    js_links: list[str] = []
    for el in walk(m):
        css_links.extend(href for _, href in getattr(el, "default_css", []))
        js_links.extend(src for _, src in getattr(el, "default_js", []))
    return {
        "script": leaflet,
        "header": header,
        "html": html,
        "id": m_id,
        "key": generate_js_hash(leaflet, key, False),
        "returned_objects": list(returned_objects) if returned_objects is not None else None,
        "default": defaults,
        "zoom": None,
        "center": None,
        "feature_group": None,
        "return_on_hover": False,
        "layer_control": None,
        "pixelated": False,
        "css_links": list(dict.fromkeys(css_links)),
        "js_links": list(dict.fromkeys(js_links)),
        "wrap_longitude": False,
    }


# Defined once in the map's frame: replaces the selection's layers (clusters, legend, layer control,
# fitted view) without reloading the frame. Everything the selection's code adds to the map is
# recorded and removed on the next swap; the base map (outline, basemap, helpers) stays.
_SWAP_JS = """
window.atlasMap.swap = function (token, add) {
  var A = window.atlasMap, map = A.map;
  if (A.shown === token) { return; }
  (A.added || []).forEach(function (x) { try { x.remove(); } catch (e) {} });
  var added = [], addTo = L.Control.prototype.addTo, addLayer = map.addLayer;
  L.Control.prototype.addTo = function (m) { added.push(this); return addTo.call(this, m); };
  map.addLayer = function (layer) { added.push(layer); return addLayer.call(this, layer); };
  try { add(); } finally { L.Control.prototype.addTo = addTo; map.addLayer = addLayer; }
  A.added = added; A.shown = token;
  A.announce();
};
// Once per frame, after the first selection is painted: if the app holds its filters back for the
// map (draw_filters' placeholder is on the page), a component value, so that Streamlit reruns the app
// and draws them. The frame is served by the app itself (same origin), so it can see the page.
window.atlasMap.announce = function () {
  var A = window.atlasMap;
  if (A.announced) { return; }
  A.announced = true;
  requestAnimationFrame(function () {
    setTimeout(function () {
      var waiting = false;
      try { waiting = !!window.parent.document.querySelector(FILTERS_WAIT_SELECTOR); } catch (e) {}
      if (!waiting) { return; }
      window.parent.postMessage({
        isStreamlitMessage: true, type: "streamlit:setComponentValue", dataType: "json",
        value: {last_object_clicked: null, last_object_clicked_count: 0, drawn: true}
      }, "*");
    }, 0);
  });
};
""".replace("FILTERS_WAIT_SELECTOR", json.dumps(f".st-key-{FILTERS_WAIT_KEY}"))
_DYNAMIC = "/*atlas-selection*/"


class _Marker(MacroElement):
    """Marks where the selection's part of the map script begins."""

    _template = Template("{% macro script(this, kwargs) %}" + _DYNAMIC + "{% endmacro %}")


def atlas_map_args(m, key: str, token: str) -> dict:
    """Component arguments for the atlas map ``m`` (from mapping.build_map) that let the browser
    keep the map's frame when the selection changes.

    st_folium keys its component by a hash of the whole map script, so every filter change made a
    new frame that loaded Leaflet, the plugins and the outline again (most of the 1.4 s the browser
    took to show a new selection). Here the component key depends only on ``key``; the base map is
    the ``script`` (run once per frame) and the selection's layers are st_folium's ``feature_group``
    code, which the frame evaluates whenever it changes: ``window.atlasMap.swap`` removes the
    previous selection's layers and adds these (``token`` names the selection).
    """
    children = list(m._children.items())
    first = next((i for i, (_, c) in enumerate(children) if isinstance(c, mapping.DataPointCluster)), None)
    if first is None:  # nothing selection-specific: the map as st_folium sends it
        return folium_component_args(m, key, MAP_RETURNED)
    base = list(children[:first])
    rest = []
    for kv in children[first:]:  # the fullscreen button belongs to the base map
        (base if isinstance(kv[1], mapping._Fullscreen) else rest).append(kv)
    marker = _Marker()
    marker._parent = m
    m._children = OrderedDict([*base, (marker.get_name(), marker), *rest])
    args = folium_component_args(m, key, MAP_RETURNED)
    script = args["script"]
    cut = script.index(_DYNAMIC)
    args["script"] = script[:cut] + _SWAP_JS
    args["feature_group"] = (
        f"window.atlasMap.swap({json.dumps(token)}, function () {{\n{script[cut + len(_DYNAMIC) :]}\n}});\n"
    )
    args["key"] = generate_js_hash("atlas-map", key, False)
    args["returned_objects"] = [*MAP_RETURNED, "last_object_clicked_count"]
    args["default"] = {"last_object_clicked": None, "last_object_clicked_count": 0}
    return args


@st.cache_data(show_spinner=False, max_entries=64)
def _atlas_map_args(_points, key: str, lang: str, map_key: str) -> dict:
    # The data-driven layer at every size: about 7x less server time than one folium object per
    # marker (see bench/).
    m = mapping.build_map(_points, lang=lang, assets="served", layer="data")
    return atlas_map_args(m, map_key, key)


def atlas_map(ctx: Context, key: str, height: int) -> dict:
    """The map of the selection's points: what ``st_folium(build_map(...), key=key, height=height,
    use_container_width=True, returned_objects=["last_object_clicked"])`` shows and returns, built
    once per selection and language, and redrawn in the same frame when the selection changes.

    A click is reported only under the selection it was made in (as with st_folium, whose new
    frame after a filter change forgot the click)."""
    from streamlit_folium import _component_func

    token = ctx.cache_key
    args = _atlas_map_args(ctx.selection.points, token, ctx.lang, key)
    hash_key = args["key"]

    def _on_change() -> None:  # as st_folium: the value is also kept under the caller's key
        st.session_state[key] = st.session_state.get(hash_key, {})

    state = _component_func(**args, height=height, width=None, on_change=_on_change) or {}
    count = state.get("last_object_clicked_count") or 0
    seen = st.session_state.get(f"_{key}_click")
    if seen is None or seen[0] != count:
        seen = (count, token)
        st.session_state[f"_{key}_click"] = seen
    clicked = state.get("last_object_clicked") if seen[1] == token else None
    return {"last_object_clicked": clicked}
