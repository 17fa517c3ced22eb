"""The comparison app for figure 1: a minimal Streamlit page with one st_folium map of the atlas's
map-page points (the default filters), one folium CircleMarker per point in a marker cluster.

Leaflet and the plugin are served from /app/static like the atlas (there is no internet here);
otherwise it is folium as its documentation shows it. Run: ``streamlit run bench/minimal_app.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import folium  # noqa: E402
import folium.plugins  # noqa: E402
import streamlit as st  # noqa: E402
from streamlit_folium import st_folium  # noqa: E402

from dashboard.atlasmap import assets  # noqa: E402
from dashboard.atlasmap.builder import _set_asset_links  # noqa: E402
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
m.options["maxZoom"] = 18  # the marker cluster needs it when there is no tile layer (no network here)
_set_asset_links(m, "served")
cluster = folium.plugins.MarkerCluster()
_set_asset_links(cluster, "served")
for rec in pts.itertuples():
    folium.CircleMarker([rec.lat, rec.lon], radius=7, fill=True, popup=str(rec.name_en)).add_to(cluster)
cluster.add_to(m)
m.fit_bounds([[pts.lat.min(), pts.lon.min()], [pts.lat.max(), pts.lon.max()]])
st.title("Minimal map")
st_folium(m, height=640, use_container_width=True, returned_objects=[])
