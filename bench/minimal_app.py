"""The comparison app for figure 1: a minimal Streamlit page with one st_folium map of the atlas's
map-page points (the default filters), as cheaply as folium draws many points: one GeoJson layer of
circle markers, with the name as a tooltip.

Folium as its documentation shows it, with two changes for a machine with no internet: Leaflet comes
from /app/static like the atlas's, and folium's other default CDN scripts (jQuery, Bootstrap) are left
out, as the atlas leaves them out. No clustering: Leaflet.markercluster is no longer shipped (the atlas
clusters with supercluster inside its own map code) and from a CDN it would not load offline. One
folium CircleMarker per point would be a weaker baseline: folium renders each through its own template,
about 0.5 s per run at 313 points (the GeoJson layer: 30 ms). Run: ``streamlit run bench/minimal_app.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import folium  # noqa: E402
import streamlit as st  # noqa: E402
from streamlit_folium import st_folium  # noqa: E402

from dashboard.atlasmap import assets  # noqa: E402
from dashboard.core.data import load_atlas_partial  # noqa: E402
from dashboard.core.filters import Filters, select  # noqa: E402

# Streamlit serves the static/ folder next to the main script: bench/static (not in git).
assets.ensure_static_assets(Path(__file__).resolve().parent / "static")


@st.cache_resource
def points():
    atlas, _ = load_atlas_partial()
    return select(atlas, Filters()).points


pts = points()
m = folium.Map(location=[20, 10], zoom_start=2, tiles=None)
m.default_js = [("leaflet", assets.served_url("leaflet.js"))]
m.default_css = [("leaflet_css", assets.served_url("leaflet.css"))]
features = [
    {
        "type": "Feature",
        "properties": {"name": str(r.name_en)},
        "geometry": {"type": "Point", "coordinates": [r.lon, r.lat]},
    }
    for r in pts.itertuples()
]
folium.GeoJson(
    {"type": "FeatureCollection", "features": features},
    marker=folium.CircleMarker(radius=7, fill=True),
    tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False),
).add_to(m)
m.fit_bounds([[pts.lat.min(), pts.lon.min()], [pts.lat.max(), pts.lon.max()]])
st.title("Minimal map")
st_folium(m, height=640, use_container_width=True, returned_objects=[])
