"""The atlas map: a folium map of offices and member cities that works with no network. Streamlit-free.

:func:`build_map` takes the points DataFrame built by the loader and returns a ``folium.Map``:

* every point a small circle coloured by organisation (:mod:`dashboard.core.colours`), one clustered
  layer per organisation, switchable in the layer control, a legend, a fullscreen control that needs
  no plugin download, fitted to the points;
* underneath, the country outlines (Natural Earth 1:110m, committed in ``dashboard/assets``) so the
  map still shows where things are offline; online, a light basemap (CARTO Positron, OpenStreetMap
  data) drawn over them as an optional layer that simply fails quietly with no network;
* a popup and a tooltip per point in the chosen language. All data text is escaped: it never
  becomes HTML or script. Websites are linked only when they are http(s).

Up to ``threshold`` points (default 300) every marker is its own folium object (``CircleMarker``
with folium's ``Popup`` and ``Tooltip``); above it the map switches to a data-driven layer: one
compact JSON array per organisation from which the browser creates the circle markers, and builds
the popups and tooltips on demand with the same labels, escaping every value in JavaScript.

Assets: ``assets="served"`` links Leaflet, the marker-cluster plugin and jQuery at absolute
``/app/static/...`` URLs (see :func:`dashboard.atlasmap.assets.ensure_static_assets`); ``assets="inline"``
puts their code into the page, for a standalone HTML file (:func:`standalone_html`).
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Mapping
from typing import Any, Literal

import folium
import folium.plugins
import pandas as pd
from branca.element import Element, MacroElement
from folium.template import Template

from dashboard.atlasmap import assets as atlas_assets
from dashboard.core.colours import org_colour, text_colour

Lang = Literal["ja", "en"]
AssetMode = Literal["served", "inline"]
LayerMode = Literal["auto", "objects", "data"]

DATA_LAYER_THRESHOLD = 300  # above this many points, use the data-driven layer
MAX_ZOOM = 18
DEFAULT_CENTER = (20.0, 10.0)  # whole world, used when there is no point
DEFAULT_ZOOM = 2
SINGLE_POINT_ZOOM = 6
FIT_MAX_ZOOM = 8
MARKER_RADIUS = 7  # <= 10: Leaflet then reports the marker's own position on click

POINT_COLUMNS: tuple[str, ...] = (
    "id", "point_type", "organisation", "org_name_en", "org_name_ja", "org_short_en",
    "org_short_ja", "founded_year", "name_en", "name_ja", "kind_en", "kind_ja", "address",
    "city", "city_ja", "country", "country_en", "country_ja", "region", "website", "lat", "lon",
    "precision", "source", "source_title", "as_of",
)  # fmt: skip

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "organisation": "Organisation",
        "kind": "Kind",
        "address": "Address (as written)",
        "place": "Place",
        "website": "Website",
        "founded": "Organisation founded",
        "precision": "Coordinates",
        "source": "Source",
        "as_of": "as of",
        "legend": "Organisations",
        "outline": "Country outlines",
        "basemap": "Basemap (online only)",
        "fullscreen": "Full screen",
        "points": "points",
    },
    "ja": {
        "organisation": "組織",
        "kind": "種別",
        "address": "住所(原文どおり)",
        "place": "所在地",
        "website": "ウェブサイト",
        "founded": "組織の設立",
        "precision": "座標の精度",
        "source": "出典",
        "as_of": "時点",
        "legend": "組織",
        "outline": "国境線",
        "basemap": "背景地図(オンライン時のみ)",
        "fullscreen": "全画面表示",
        "points": "地点",
    },
}

PRECISION_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "address": "exact address",
        "street": "street",
        "postcode": "postcode area",
        "city": "city centre (approximate)",
        "country": "country (very approximate)",
    },
    "ja": {
        "address": "住所(正確)",
        "street": "通り",
        "postcode": "郵便番号の区域",
        "city": "市の中心(おおよそ)",
        "country": "国(大まかな位置)",
    },
}

POINT_TYPE_LABELS: dict[str, dict[str, str]] = {
    "en": {"office": "office", "member": "member city"},
    "ja": {"office": "事務所", "member": "会員都市"},
}

_URL = re.compile(r"^https?://[^\s<>\"'`\\]+$", re.IGNORECASE)
_HEX = re.compile(r"^#[0-9A-Fa-f]{6}$")
_JINJA_OPEN = re.compile(r"\{(?=[{%#])")

BASEMAP_URL = "https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}{r}.png"
BASEMAP_ATTRIBUTION = (
    '&copy; <a href="https://www.openstreetmap.org/copyright" rel="noopener">OpenStreetMap</a>'
    ' contributors &copy; <a href="https://carto.com/attributions" rel="noopener">CARTO</a>'
)
OUTLINE_ATTRIBUTION = "Outlines: Natural Earth (public domain)"


# ---------------------------------------------------------------- escaping
def _clean(value: Any) -> str | None:
    """Text of a cell, or None when it is missing (None, NaN, pd.NA) or blank."""
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def escape_text(value: Any) -> str:
    """Data as literal text for HTML that folium may also put into a JavaScript template literal.

    ``html.escape`` (``& < > " '``) plus entities for the backtick, ``$`` and the backslash, so
    the text can neither open a tag nor leave (or interpolate into) a JS template literal, and for
    ``{`` and ``}``: branca parses every element's rendered script again as a Jinja template, so
    ``{{ ... }}`` in data would otherwise be evaluated on the server.
    """
    text = _clean(value)
    if text is None:
        return ""
    return (
        html.escape(text, quote=True)
        .replace("`", "&#96;")
        .replace("$", "&#36;")
        .replace("\\", "&#92;")
        .replace("{", "&#123;")
        .replace("}", "&#125;")
    )


def safe_url(value: Any) -> str | None:
    """The address if it is a plain http(s) URL, else None (``javascript:``, ``data:`` ... dropped)."""
    text = _clean(value)
    if text is None or not _URL.match(text):
        return None
    return text


def _js_json(value: Any) -> str:
    """JSON that is safe inside a ``<script>`` element (no ``</script>``, no ``<!--``).

    Also no ``{{``, ``{%`` or ``{#`` (Jinja syntax, see escape_text): in JSON such a sequence can
    only occur inside a string, where ``\\u007b`` means the same ``{``.
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    text = _JINJA_OPEN.sub("\\\\u007b", text)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("`", "\\u0060")  # only ever inside strings: same text, and the page
        .replace("$", "\\u0024")  # then holds no template-literal syntax at all
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


# ---------------------------------------------------------------- labels
def _other(lang: Lang) -> Lang:
    return "en" if lang == "ja" else "ja"


def _pick(row: Mapping[str, Any], base: str, lang: Lang) -> str | None:
    """``base_ja`` / ``base_en`` in the chosen language, falling back to the other one."""
    return _clean(row.get(f"{base}_{lang}")) or _clean(row.get(f"{base}_{_other(lang)}"))


def _names(row: Mapping[str, Any], lang: Lang) -> tuple[str | None, str | None]:
    """(name in the chosen language, name in the other language if different)."""
    first = _clean(row.get(f"name_{lang}"))
    second = _clean(row.get(f"name_{_other(lang)}"))
    if first is None:
        first, second = second, None
    if second == first:
        second = None
    return first, second


def _org_short(row: Mapping[str, Any], lang: Lang) -> str:
    return _pick(row, "org_short", lang) or _clean(row.get("organisation")) or "?"


def _place(row: Mapping[str, Any], lang: Lang) -> str | None:
    city = _clean(row.get("city_ja")) if lang == "ja" else None
    city = city or _clean(row.get("city"))
    country = _pick(row, "country", lang) or _clean(row.get("country"))
    parts = [p for p in (city, country) if p]
    return (", " if lang == "en" else "、").join(parts) or None


def _kind(row: Mapping[str, Any], lang: Lang) -> str | None:
    kind = _pick(row, "kind", lang)
    point_type = POINT_TYPE_LABELS[lang].get(_clean(row.get("point_type")) or "")
    if kind and point_type and kind.casefold() != point_type.casefold():
        return f"{kind} ({point_type})"
    return kind or point_type


def popup_html(row: Mapping[str, Any], lang: Lang = "en") -> str:
    """The popup of one point as HTML in which every data value is escaped."""
    lab = LABELS[lang]
    first, second = _names(row, lang)
    parts = [f'<div class="atlas-popup" lang="{lang}">']
    parts.append(f'<div class="atlas-name">{escape_text(first or row.get("id"))}</div>')
    if second:
        parts.append(f'<div class="atlas-name2" lang="{_other(lang)}">{escape_text(second)}</div>')
    org = _pick(row, "org_name", lang)
    short = _org_short(row, lang)
    org_text = f"{org} ({short})" if org and short and short != org else (org or short)
    rows: list[tuple[str, str]] = [(lab["organisation"], escape_text(org_text))]
    kind = _kind(row, lang)
    if kind:
        rows.append((lab["kind"], escape_text(kind)))
    address = _clean(row.get("address"))
    if address:
        rows.append((lab["address"], escape_text(address)))
    place = _place(row, lang)
    if place:
        rows.append((lab["place"], escape_text(place)))
    url = safe_url(row.get("website"))
    if url:
        link = (
            f'<a href="{escape_text(url)}" target="_blank" rel="noopener noreferrer">{escape_text(url)}</a>'
        )
        rows.append((lab["website"], link))
    founded = _clean(row.get("founded_year"))
    if founded:
        rows.append((lab["founded"], escape_text(founded)))
    precision = _clean(row.get("precision"))
    if precision:
        shown = PRECISION_LABELS[lang].get(precision, precision)
        rows.append((lab["precision"], escape_text(shown)))
    source = _clean(row.get("source_title")) or _clean(row.get("source"))
    if source:
        as_of = _clean(row.get("as_of"))
        text = escape_text(source)
        if as_of:
            text += f" ({escape_text(lab['as_of'])} {escape_text(as_of)})"
        rows.append((lab["source"], text))
    parts.append("<table>")
    parts.extend(f"<tr><th>{escape_text(k)}</th><td>{v}</td></tr>" for k, v in rows)
    parts.append("</table></div>")
    return "".join(parts)


def tooltip_html(row: Mapping[str, Any], lang: Lang = "en") -> str:
    """The tooltip of one point: names in both languages, organisation and kind, escaped."""
    first, second = _names(row, lang)
    text = f"<b>{escape_text(first or row.get('id'))}</b>"
    if second:
        text += f"<br>{escape_text(second)}"
    text += f"<br>{escape_text(_org_short(row, lang))}"
    kind = _kind(row, lang)
    if kind:
        text += f" · {escape_text(kind)}"
    return text


# ---------------------------------------------------------------- map elements
_HELPER_JS = r"""
window.atlasMap = window.atlasMap || {};
(function (A) {
  A.esc = function (v) {
    if (v === null || v === undefined) { return ""; }
    return String(v).replace(/[&<>"'`$\\]/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;",
              "`": "&#96;", "$": "&#36;", "\\": "&#92;"}[c];
    });
  };
  A.safeUrl = function (v) {
    return (typeof v === "string" && /^https?:\/\/[^\s<>"'`\\]+$/i.test(v)) ? v : null;
  };
  A.clusterIcon = function (colour, ink) {
    return function (cluster) {
      var n = cluster.getChildCount();
      var size = n < 10 ? 30 : n < 100 ? 36 : n < 1000 ? 42 : 48;
      return L.divIcon({
        html: '<div style="background:' + colour + ';color:' + ink + '"><span>' + n + '</span></div>',
        className: "marker-cluster atlas-cluster",
        iconSize: L.point(size, size)
      });
    };
  };
  /* Open the popup of the point with this id (zooming into its cluster); false if absent. */
  A.openPoint = function (id) {
    var found = null;
    A.map.eachLayer(function (l) {
      if (!found && l instanceof L.MarkerClusterGroup) {
        l.eachLayer(function (m) { if (!found && m.options.pointId === id) { found = [l, m]; } });
      }
    });
    if (!found) { return false; }
    var cl = found[0], m = found[1], map = A.map, tries = 0;
    /* Step by step: zoom into the cluster until the marker is drawn or, at the last zoom,
       spiderfy it. (markercluster's zoomToShowLayer waits for an _icon: circles have none.) */
    var step = function () {
      if (map.hasLayer(m)) { m.openPopup(); return; }
      if (++tries > 40) { return; }
      if (cl._inZoomAnimation) { setTimeout(step, 150); return; }
      var p = cl.getVisibleParent(m);
      if (p && p !== m && map.getZoom() >= map.getMaxZoom() && p.spiderfy) {
        cl.once("spiderfied", function () { m.openPopup(); });
        p.spiderfy();
        return;
      }
      if (p && p !== m && p.zoomToBounds) { p.zoomToBounds(); }
      else { map.setView(m.getLatLng(), map.getMaxZoom()); }
      setTimeout(step, 400);
    };
    step();
    return true;
  };
  A.css = function (text) {
    if (document.getElementById("atlas-map-css")) { return; }
    var s = document.createElement("style");
    s.id = "atlas-map-css";
    s.textContent = text;
    document.head.appendChild(s);
  };
  /* Data-driven layer: row = [lat, lon, id, name_ja, name_en, kind_ja, kind_en, point_type,
     address, city, city_ja, country_ja, country_en, website, precision, source, as_of] */
  A.rowName = function (r, lang) {
    var first = lang === "ja" ? (r[3] || r[4]) : (r[4] || r[3]);
    var second = lang === "ja" ? r[4] : r[3];
    if (!first) { first = r[2]; }
    if (second === first) { second = null; }
    return [first, second];
  };
  A.rowKind = function (r, t) {
    var kind = t.lang === "ja" ? (r[5] || r[6]) : (r[6] || r[5]);
    var pt = t.pointTypes[r[7]];
    if (kind && pt && kind.toLowerCase() !== pt.toLowerCase()) { return kind + " (" + pt + ")"; }
    return kind || pt || null;
  };
  A.tooltip = function (layer) {
    var r = layer._atlasRow, o = layer._atlasOrg, t = A.texts;
    var nm = A.rowName(r, t.lang);
    var s = "<b>" + A.esc(nm[0]) + "</b>";
    if (nm[1]) { s += "<br>" + A.esc(nm[1]); }
    s += "<br>" + A.esc(o.short);
    var kind = A.rowKind(r, t);
    if (kind) { s += " \u00b7 " + A.esc(kind); }
    return s;
  };
  A.popup = function (layer) {
    var r = layer._atlasRow, o = layer._atlasOrg, t = A.texts, L_ = t.labels, E = A.esc;
    var nm = A.rowName(r, t.lang);
    var h = '<div class="atlas-popup" lang="' + t.lang + '"><div class="atlas-name">' + E(nm[0]) + "</div>";
    if (nm[1]) { h += '<div class="atlas-name2">' + E(nm[1]) + "</div>"; }
    var rows = [[L_.organisation, E(o.label)]];
    var kind = A.rowKind(r, t);
    if (kind) { rows.push([L_.kind, E(kind)]); }
    if (r[8]) { rows.push([L_.address, E(r[8])]); }
    var city = t.lang === "ja" ? (r[10] || r[9]) : r[9];
    var country = t.lang === "ja" ? (r[11] || r[12]) : (r[12] || r[11]);
    var place = [city, country].filter(function (x) { return x; }).join(t.lang === "ja" ? "\u3001" : ", ");
    if (place) { rows.push([L_.place, E(place)]); }
    var url = A.safeUrl(r[13]);
    if (url) {
      rows.push([L_.website, '<a href="' + E(url) + '" target="_blank" rel="noopener noreferrer">' +
        E(url) + "</a>"]);
    }
    if (o.founded) { rows.push([L_.founded, E(o.founded)]); }
    if (r[14]) { rows.push([L_.precision, E(t.precisions[r[14]] || r[14])]); }
    if (r[15]) {
      var src = E(r[15]);
      if (r[16]) { src += " (" + E(L_.as_of) + " " + E(r[16]) + ")"; }
      rows.push([L_.source, src]);
    }
    h += "<table>";
    for (var i = 0; i < rows.length; i++) {
      h += "<tr><th>" + E(rows[i][0]) + "</th><td>" + rows[i][1] + "</td></tr>";
    }
    return h + "</table></div>";
  };
})(window.atlasMap);
"""

_CSS = """
.leaflet-container { background: #f4f8fb; }
.atlas-cluster div { border-radius: 50%; border: 2px solid #fff; box-shadow: 0 0 0 1px #555;
  width: 100%; height: 100%; margin: 0; display: flex; align-items: center; justify-content: center;
  font: bold 13px/1 system-ui, sans-serif; box-sizing: border-box; }
.atlas-cluster { background: transparent; }
.atlas-popup { font: 13px/1.35 system-ui, sans-serif; max-height: 18em; overflow-y: auto;
  overflow-wrap: anywhere; }
.atlas-popup .atlas-name { font-weight: bold; font-size: 14px; }
.atlas-popup .atlas-name2 { color: #444; margin-bottom: 4px; }
.atlas-popup table { border-collapse: collapse; }
.atlas-popup th { text-align: left; vertical-align: top; color: #555; font-weight: normal;
  padding: 1px 8px 1px 0; white-space: nowrap; }
.atlas-popup td { padding: 1px 0; }
.atlas-legend { background: rgba(255,255,255,0.92); padding: 6px 10px; border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0,0,0,0.3); font: 13px/1.5 system-ui, sans-serif;
  max-height: 40vh; overflow-y: auto; }
.atlas-legend .atlas-swatch { display: inline-block; width: 12px; height: 12px; border-radius: 50%;
  border: 1px solid #333; margin-right: 6px; vertical-align: -1px; }
.atlas-legend .atlas-count { color: #555; }
.atlas-fullscreen a { font-size: 18px; line-height: 30px; text-align: center; cursor: pointer; }
.leaflet-tooltip { overflow-wrap: anywhere; max-width: 24em; white-space: normal; }
"""


class _Raw(Element):
    """Already rendered code, inserted as is (branca would parse an ``Element`` as a template)."""

    def __init__(self, code: str):
        super().__init__()
        self.code = code

    def render(self, **kwargs: Any) -> str:  # noqa: ARG002 (branca passes kwargs)
        return self.code


class _RawScriptMacro(MacroElement):
    """A MacroElement whose rendered script is not parsed again as a Jinja template.

    branca's ``MacroElement.render`` wraps the script in ``Element(script)``, which compiles it
    as a template: slow for a large data layer (seconds at 100,000 points) and a template
    injection if data holds ``{{ }}``. Only the ``script`` macro is supported.
    """

    def render(self, **kwargs: Any) -> None:
        figure = self.get_root()
        script = self._template.module.__dict__.get("script")
        if script is not None:
            figure.script.add_child(_Raw(script(self, kwargs)), name=self.get_name())
        for child in self._children.values():
            child.render(**kwargs)


class _Helpers(_RawScriptMacro):
    """Shared JavaScript (escaping, popup builders, cluster icons) and CSS, emitted once per map."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this.js }}
        window.atlasMap.texts = {{ this.texts }};
        window.atlasMap.map = {{ this._parent.get_name() }};
        window.atlasMap.css({{ this.css }});
        {{ this._parent.get_name() }}.getContainer().style.background = "#f4f8fb";
        {% endmacro %}
        """
    )

    def __init__(self, lang: Lang):
        super().__init__()
        self._name = "AtlasHelpers"
        self.js = _HELPER_JS
        self.css = _js_json(_CSS)
        self.texts = _js_json(
            {
                "lang": lang,
                "labels": LABELS[lang],
                "precisions": PRECISION_LABELS[lang],
                "pointTypes": POINT_TYPE_LABELS[lang],
            }
        )


class _WorldOutline(_RawScriptMacro):
    """Country outlines in a pane under the tiles: visible offline, covered by the basemap online."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
          var map = {{ this._parent.get_name() }};
          var pane = map.createPane("atlas-land");
          pane.style.zIndex = 150;
          pane.style.pointerEvents = "none";
          var layer = L.geoJSON(null, {
            pane: "atlas-land", interactive: false, attribution: {{ this.attribution }},
            style: {color: "#a0a0a0", weight: 0.7, fillColor: "#e4e4e4", fillOpacity: 1}
          }).addTo(map);
          {%- if this.data %}
          layer.addData({{ this.data }});
          {%- else %}
          fetch({{ this.url }}).then(function (r) { return r.ok ? r.json() : null; })
            .then(function (d) { if (d) { layer.addData(d); } })
            .catch(function () {});
          {%- endif %}
        })();
        {% endmacro %}
        """
    )

    def __init__(self, inline: bool):
        super().__init__()
        self._name = "AtlasWorldOutline"
        self.attribution = _js_json(OUTLINE_ATTRIBUTION)
        self.data = atlas_assets.script_safe(atlas_assets.world_outline_text().strip()) if inline else None
        self.url = _js_json(atlas_assets.served_url(atlas_assets.WORLD_OUTLINE))


class _Legend(_RawScriptMacro):
    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
          var legend = L.control({position: "bottomleft"});
          legend.onAdd = function () {
            var div = L.DomUtil.create("div", "atlas-legend leaflet-control");
            div.innerHTML = {{ this.html }};
            L.DomEvent.disableClickPropagation(div);
            L.DomEvent.disableScrollPropagation(div);
            return div;
          };
          legend.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, legend_html: str):
        super().__init__()
        self._name = "AtlasLegend"
        self.html = _js_json(legend_html)


class _Fullscreen(_RawScriptMacro):
    """A fullscreen button that needs no plugin: ``requestFullscreen`` on the map's container.

    Inside the streamlit-folium iframe (which Streamlit allows to go fullscreen) it fills the
    screen with the map; if the browser refuses, it tries the iframe element itself.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
          var map = {{ this._parent.get_name() }};
          var title = {{ this.title }};
          var ICON = '<svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true" ' +
            'style="vertical-align:-3px" fill="none" stroke="#333" stroke-width="2">' +
            '<path d="M1 6V1h5M10 1h5v5M15 10v5h-5M6 15H1v-5"/></svg>';
          function enter() {
            var el = map.getContainer();
            var req = el.requestFullscreen || el.webkitRequestFullscreen;
            var fallback = function () {
              try {
                var fr = window.frameElement;
                if (fr && fr.requestFullscreen) { fr.requestFullscreen(); }
              } catch (e) {}
            };
            if (!req) { fallback(); return; }
            try {
              var p = req.call(el);
              if (p && p.catch) { p.catch(fallback); }
            } catch (e) { fallback(); }
          }
          function toggle() {
            var d = document;
            if (d.fullscreenElement || d.webkitFullscreenElement) {
              (d.exitFullscreen || d.webkitExitFullscreen).call(d);
            } else { enter(); }
          }
          var Control = L.Control.extend({
            options: {position: "topleft"},
            onAdd: function () {
              var div = L.DomUtil.create("div", "leaflet-bar leaflet-control atlas-fullscreen");
              var a = L.DomUtil.create("a", "", div);
              a.href = "#"; a.title = title; a.setAttribute("role", "button");
              a.setAttribute("aria-label", title); a.innerHTML = ICON;
              L.DomEvent.disableClickPropagation(div);
              L.DomEvent.on(a, "click", function (e) { L.DomEvent.preventDefault(e); toggle(); });
              return div;
            }
          });
          new Control().addTo(map);
          document.addEventListener("fullscreenchange", function () {
            setTimeout(function () { map.invalidateSize(); }, 100);
          });
        })();
        {% endmacro %}
        """
    )

    def __init__(self, title: str):
        super().__init__()
        self._name = "AtlasFullscreen"
        self.title = _js_json(title)


_DATA_ROW_FIELDS = (
    "id", "name_ja", "name_en", "kind_ja", "kind_en", "point_type", "address", "city",
    "city_ja", "country_ja", "country_en", "website", "precision", "source_title", "as_of",
)  # fmt: skip


class DataPointCluster(folium.plugins.MarkerCluster, _RawScriptMacro):
    """One organisation's points as a compact JSON array; the browser makes the circle markers.

    A folium Layer (so it appears in the LayerControl) and a marker-cluster group. Popups and
    tooltips are built in the browser only when opened, escaping every value
    (``window.atlasMap.popup``/``tooltip``).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.markerClusterGroup({{ this.options|tojavascript }});
        {{ this.get_name() }}.options.iconCreateFunction = {{ this.icon_create_function }};
        (function () {
          var org = {{ this.org }};
          var rows = /*atlas-points*/{{ this.rows }};
          var style = {{ this.style }};
          var A = window.atlasMap, markers = new Array(rows.length);
          for (var i = 0; i < rows.length; i++) {
            var r = rows[i];
            var mk = L.circleMarker([r[0], r[1]], style);
            mk.options.pointId = r[2];
            mk._atlasRow = r; mk._atlasOrg = org;
            mk.bindTooltip(A.tooltip, {sticky: true});
            mk.bindPopup(A.popup, {maxWidth: 340});
            markers[i] = mk;
          }
          {{ this.get_name() }}.addLayers(markers);
        })();
        {% endmacro %}
        """
    )

    def __init__(self, rows: list[list[Any]], org: dict[str, Any], style: dict[str, Any], **kwargs):
        super().__init__(**kwargs)
        self._name = "DataPointCluster"
        self.n_points = len(rows)
        self.rows = _js_json(rows)
        self.org = _js_json(org)
        self.style = _js_json(style)


# ---------------------------------------------------------------- assets on the map
def _served_links() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    js = [(n, atlas_assets.served_url(f)) for n, f in atlas_assets.JS_ASSETS]
    css = [(n, atlas_assets.served_url(f)) for n, f in atlas_assets.CSS_ASSETS]
    return js, css


def _set_asset_links(element: Any, mode: AssetMode) -> None:
    """Replace folium's CDN links on one element (instance attributes; streamlit-folium reads them too)."""
    if mode == "inline":
        element.default_js, element.default_css = [], []
        return
    js, css = _served_links()
    if isinstance(element, folium.plugins.MarkerCluster):
        element.default_js = [x for x in js if x[0] == "markerclusterjs"]
        element.default_css = [x for x in css if x[0].startswith("markercluster")]
    else:  # the Map
        element.default_js = [x for x in js if x[0] in ("leaflet", "jquery")]
        element.default_css = [x for x in css if x[0] == "leaflet_css"]


def _inline_assets_html() -> str:
    css = "\n".join(atlas_assets.inline_css(f) for _, f in atlas_assets.CSS_ASSETS)
    scripts = "\n".join(
        f"<script>/* {f} */\n{atlas_assets.script_safe(atlas_assets.asset_text(f))}\n</script>"
        for _, f in atlas_assets.JS_ASSETS
    )
    return f"<style>\n{css}\n</style>\n{scripts}"


# ---------------------------------------------------------------- the map
def _bounds(points: pd.DataFrame) -> tuple[list[list[float]] | None, tuple[float, float], int]:
    """(bounds to fit or None, centre, zoom) for the points."""
    if points.empty:
        return None, DEFAULT_CENTER, DEFAULT_ZOOM
    lat_min, lat_max = float(points["lat"].min()), float(points["lat"].max())
    lon_min, lon_max = float(points["lon"].min()), float(points["lon"].max())
    centre = ((lat_min + lat_max) / 2, (lon_min + lon_max) / 2)
    if lat_min == lat_max and lon_min == lon_max:
        return None, centre, SINGLE_POINT_ZOOM
    return [[lat_min, lon_min], [lat_max, lon_max]], centre, DEFAULT_ZOOM


def _with_coordinates(points: pd.DataFrame) -> pd.DataFrame:
    """Rows with usable coordinates only (the loader should already have dropped the others)."""
    if points.empty:
        return points
    lat = pd.to_numeric(points["lat"], errors="coerce")
    lon = pd.to_numeric(points["lon"], errors="coerce")
    ok = lat.between(-90, 90) & lon.between(-180, 180)
    out = points.loc[ok].copy()
    out["lat"], out["lon"] = lat[ok].astype(float), lon[ok].astype(float)
    return out


def _check_columns(points: pd.DataFrame) -> None:
    missing = [c for c in ("id", "organisation", "lat", "lon") if c not in points.columns]
    if missing:
        raise ValueError(f"points table lacks column(s) {', '.join(missing)} (see mapping.POINT_COLUMNS)")


def _org_order(points: pd.DataFrame, lang: Lang) -> list[tuple[str, pd.DataFrame]]:
    groups = [(str(org), group) for org, group in points.groupby("organisation", sort=False, dropna=False)]
    return sorted(groups, key=lambda g: (_org_short(g[1].iloc[0], lang).casefold(), g[0]))


def _legend_html(entries: list[tuple[str, str, str, int]], lang: Lang) -> str:
    """entries: (colour, short name, full name, count). Names are escaped here."""
    lab = LABELS[lang]
    lines = [f"<b>{escape_text(lab['legend'])}</b>"]
    for colour, short, full, count in entries:
        lines.append(
            f'<div title="{escape_text(full)}"><span class="atlas-swatch" style="background:{colour}">'
            f'</span>{escape_text(short)} <span class="atlas-count">({count})</span></div>'
        )
    return "".join(lines)


def _text_column(points: pd.DataFrame, field: str) -> list[str | None]:
    """A column as stripped text, None for missing or blank cells; fast at 100,000 rows
    (each distinct value is cleaned once)."""
    if field not in points.columns:
        return [None] * len(points)
    values = points[field].to_numpy(dtype=object, na_value=None)
    cache: dict[Any, str | None] = {}
    out: list[str | None] = []
    for v in values:
        if v is None:
            out.append(None)
            continue
        try:
            out.append(cache[v])
        except KeyError:
            cache[v] = _clean(v)
            out.append(cache[v])
        except TypeError:  # unhashable
            out.append(_clean(v))
    return out


def _data_layer_rows(points: pd.DataFrame) -> list[list[Any]]:
    """One compact row per point for DataPointCluster (order: see _HELPER_JS)."""
    columns: list[list[Any]] = [
        points["lat"].round(6).tolist(),
        points["lon"].round(6).tolist(),
    ]
    for field in _DATA_ROW_FIELDS:
        values = _text_column(points, field)
        if field == "website":
            checked = {v: safe_url(v) for v in set(values) if v is not None}
            values = [checked.get(v) if v is not None else None for v in values]
        elif field == "source_title":
            fallback = _text_column(points, "source")
            values = [v if v is not None else f for v, f in zip(values, fallback, strict=True)]
        columns.append(values)
    return [list(row) for row in zip(*columns, strict=True)]


def build_map(
    points: pd.DataFrame,
    *,
    lang: Lang = "en",
    assets: AssetMode = "served",
    layer: LayerMode = "auto",
    threshold: int = DATA_LAYER_THRESHOLD,
    basemap: bool = True,
    colours: Mapping[str, str] | None = None,
    height: str | int = "100%",
) -> folium.Map:
    """Build the atlas map of ``points`` (one row per office or member city, see POINT_COLUMNS).

    lang: labels and data language ("ja" or "en"; the other language's name is shown too).
    assets: "served" links /app/static/... (call assets.ensure_static_assets() at app start);
        "inline" embeds Leaflet, the plugin, jQuery and the outline (standalone file, no network).
    layer: "objects" (one folium object per marker), "data" (data-driven layer) or "auto":
        objects up to ``threshold`` points, data above.
    basemap: add the online basemap as an optional layer (it fails quietly offline).
    colours: org id -> "#RRGGBB" to override dashboard.core.colours for some organisations.
    Rows without valid coordinates are left out. Raises ValueError if a needed column is missing.
    """
    if lang not in LABELS:
        raise ValueError(f"lang must be 'ja' or 'en', not {lang!r}")
    if assets not in ("served", "inline"):
        raise ValueError(f"assets must be 'served' or 'inline', not {assets!r}")
    if layer not in ("auto", "objects", "data"):
        raise ValueError(f"layer must be 'auto', 'objects' or 'data', not {layer!r}")
    _check_columns(points)
    points = _with_coordinates(points)
    lab = LABELS[lang]
    use_data = layer == "data" or (layer == "auto" and len(points) > threshold)

    bounds, centre, zoom = _bounds(points)
    m = folium.Map(
        location=list(centre),
        zoom_start=zoom,
        tiles=None,
        min_zoom=1,
        max_zoom=MAX_ZOOM,
        control_scale=False,  # a world map of networks needs no scale bar; it collided with the attribution
        width="100%",
        height=height,
    )
    m.options["maxZoom"] = MAX_ZOOM  # MarkerCluster needs it when there is no tile layer
    _set_asset_links(m, assets)
    if assets == "inline":
        m.get_root().header.add_child(Element(_inline_assets_html()), name="atlas_inline_assets")
    m.add_child(_Helpers(lang))
    m.add_child(_WorldOutline(inline=assets == "inline"))
    if basemap:
        folium.TileLayer(
            tiles=BASEMAP_URL,
            attr=BASEMAP_ATTRIBUTION,
            name=escape_text(lab["basemap"]),
            overlay=True,
            control=True,
            show=True,
            max_zoom=MAX_ZOOM,
            subdomains="abcd",
        ).add_to(m)

    legend: list[tuple[str, str, str, int]] = []
    style_base = {"radius": MARKER_RADIUS, "weight": 1.5, "color": "#ffffff", "fillOpacity": 0.9}
    for org_id, group in _org_order(points, lang):
        first = group.iloc[0]
        colour = (colours or {}).get(org_id) or org_colour(org_id)
        if not _HEX.match(colour):
            colour = org_colour(org_id)
        short = _org_short(first, lang)
        full = _pick(first, "org_name", lang) or short
        legend.append((colour, short, full, len(group)))
        swatch = f'<span class="atlas-swatch" style="background:{colour}"></span>'
        cluster_kwargs = {
            "name": f"{swatch}{escape_text(short)} ({len(group)})",
            "overlay": True,
            "control": True,
            "show": True,
            "icon_create_function": f"window.atlasMap.clusterIcon({colour!r}, {text_colour(colour)!r})",
            "options": {"showCoverageOnHover": False, "maxClusterRadius": 45, "chunkedLoading": True},
        }
        style = dict(style_base, fillColor=colour)
        if use_data:
            founded = _clean(first.get("founded_year"))
            org_label = f"{full} ({short})" if full != short else short
            cluster = DataPointCluster(
                _data_layer_rows(group),
                {"id": org_id, "short": short, "label": org_label, "founded": founded},
                style,
                **cluster_kwargs,
            )
        else:
            cluster = folium.plugins.MarkerCluster(**cluster_kwargs)
            for rec in group.to_dict("records"):
                marker = folium.CircleMarker(
                    location=[float(rec["lat"]), float(rec["lon"])],
                    popup=folium.Popup(popup_html(rec, lang), max_width=340),
                    tooltip=folium.Tooltip(tooltip_html(rec, lang), sticky=True),
                    **style,
                )
                marker.options["pointId"] = str(rec["id"])  # read back by a click handler
                marker.add_to(cluster)
        _set_asset_links(cluster, assets)
        cluster.add_to(m)

    m.add_child(_Legend(_legend_html(legend, lang)))
    m.add_child(_Fullscreen(lab["fullscreen"]))
    folium.LayerControl(collapsed=True, position="topright").add_to(m)
    if bounds is not None:
        m.fit_bounds(bounds, padding=(30, 30), max_zoom=FIT_MAX_ZOOM)
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
    """The clicked row (e.g. from st_folium's ``last_object_clicked``), or None.

    >>> row = point_at(points, clicked["lat"], clicked["lng"])
    """
    found = points_at(points, lat, lng, tolerance=tolerance)
    return None if found.empty else found.iloc[0]


def marker_count(page: str) -> int:
    """How many point markers a rendered map page holds (objects and data-driven layers)."""
    objects = page.count("L.circleMarker(")  # one per folium CircleMarker ...
    helper = page.count("var mk = L.circleMarker(")  # ... minus the loop in each data layer
    return objects - helper + _data_rows(page)


def _data_rows(page: str) -> int:
    total = 0
    for match in re.finditer(r"/\*atlas-points\*/(\[.*?\]);\n", page):
        total += len(json.loads(match.group(1)))
    return total
