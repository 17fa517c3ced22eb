"""Offline map assets: Leaflet, its marker-cluster plugin, jQuery and the world outline. Streamlit-free.

The JavaScript and CSS come from the PyPI packages ``xstatic-leaflet``, ``xstatic-leaflet-markercluster``
and ``xstatic-jquery``; the world outline is committed in ``dashboard/atlasmap/browser/``
(see its ORIGIN file).

Two ways to use them:

* served: :func:`ensure_static_assets` copies exactly these files into ``dashboard/static/`` (not in
  git), which Streamlit serves at ``/app/static/<name>`` when ``server.enableStaticServing`` is on.
  Links must be absolute (:func:`served_url`): the map runs inside the streamlit-folium component's
  iframe, where a relative link would resolve against the component's own URL and 404.
* inline: :func:`asset_text` / :func:`inline_css` return the file contents for a standalone HTML file
  that works from ``file://`` with no network (the CSS's images become ``data:`` URIs).
"""

from __future__ import annotations

import base64
import functools
import re
from pathlib import Path

import xstatic.pkg.jquery as xs_jquery
import xstatic.pkg.leaflet as xs_leaflet
import xstatic.pkg.leaflet_markercluster as xs_markercluster

from dashboard.core import paths
from geocoding.files import atomic_write_bytes

STATIC_URL = "/app/static"  # where Streamlit serves paths.STATIC_DIR
WORLD_OUTLINE = "world-110m.json"

_LEAFLET = Path(xs_leaflet.BASE_DIR)
_CLUSTER = Path(xs_markercluster.BASE_DIR)
_JQUERY = Path(xs_jquery.BASE_DIR)

# Served name -> source file. Only these are ever copied into the served folder.
ASSET_SOURCES: dict[str, Path] = {
    "leaflet.js": _LEAFLET / "leaflet.js",
    "leaflet.css": _LEAFLET / "leaflet.css",
    "images/layers.png": _LEAFLET / "images" / "layers.png",
    "images/layers-2x.png": _LEAFLET / "images" / "layers-2x.png",
    "leaflet.markercluster.js": _CLUSTER / "leaflet.markercluster.js",
    "MarkerCluster.css": _CLUSTER / "MarkerCluster.css",
    "MarkerCluster.Default.css": _CLUSTER / "MarkerCluster.Default.css",
    "jquery.min.js": _JQUERY / "jquery.min.js",
    WORLD_OUTLINE: paths.ASSETS_DIR / WORLD_OUTLINE,
}

# In load order. Names are folium's own, so they replace its CDN defaults one for one.
JS_ASSETS: list[tuple[str, str]] = [
    ("leaflet", "leaflet.js"),
    ("jquery", "jquery.min.js"),
    ("markerclusterjs", "leaflet.markercluster.js"),
]
CSS_ASSETS: list[tuple[str, str]] = [
    ("leaflet_css", "leaflet.css"),
    ("markerclustercss", "MarkerCluster.css"),
    ("markerclusterdefaultcss", "MarkerCluster.Default.css"),
]

VERSIONS = {
    "leaflet": xs_leaflet.VERSION,
    "leaflet.markercluster": xs_markercluster.VERSION,
    "jquery": xs_jquery.VERSION,
}


def served_url(name: str) -> str:
    """Absolute URL of a served asset, e.g. ``/app/static/leaflet.js``."""
    if name not in ASSET_SOURCES:
        raise KeyError(f"{name!r} is not a map asset (known: {', '.join(ASSET_SOURCES)})")
    return f"{STATIC_URL}/{name}"


def _up_to_date(src: Path, dest: Path) -> bool:
    try:
        s, d = src.stat(), dest.stat()
    except FileNotFoundError:
        return False
    return s.st_size == d.st_size and s.st_mtime_ns == d.st_mtime_ns


def ensure_static_assets(static_dir: Path | None = None) -> Path:
    """Copy the map assets into ``static_dir`` (default ``paths.STATIC_DIR``) and return it.

    Idempotent and cheap when up to date (one ``stat`` per file; a file is copied again only if its
    size or modification time differs from the source). Safe to call from several sessions at once.
    Raises FileNotFoundError naming the missing source if a package or the outline is missing.
    """
    target = Path(static_dir) if static_dir is not None else paths.STATIC_DIR
    for name, src in ASSET_SOURCES.items():
        if not src.is_file():
            raise FileNotFoundError(
                f"map asset {name!r} not found at {src}; reinstall the xstatic packages "
                "(make install) or rebuild the outline (dashboard/atlasmap/browser/build_world.py)"
            )
        dest = target / name
        if not _up_to_date(src, dest):
            # atomic: a concurrent reader (another session) never sees half a file
            atomic_write_bytes(dest, src.read_bytes(), mtime_ns=src.stat().st_mtime_ns)
    return target


@functools.lru_cache(maxsize=None)
def asset_text(name: str) -> str:
    """The text of an asset (JavaScript, CSS or the outline JSON), for inlining."""
    if name not in ASSET_SOURCES:
        raise KeyError(f"{name!r} is not a map asset")
    return ASSET_SOURCES[name].read_text(encoding="utf-8")


def script_safe(code: str) -> str:
    """Make code safe to place between ``<script>`` tags (no early ``</script``, no ``<!--``)."""
    code = re.sub(r"</(script)", r"<\\/\1", code, flags=re.IGNORECASE)
    return code.replace("<!--", "<\\!--")


def _data_uri(match: re.Match[str], base: Path) -> str:
    rel = match.group(2)
    path = (base / rel).resolve()
    if path.suffix.lower() != ".png" or not path.is_file():
        return match.group(0)
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f"url(data:image/png;base64,{data})"


@functools.lru_cache(maxsize=None)
def inline_css(name: str) -> str:
    """A stylesheet's text with its relative image URLs turned into ``data:`` URIs."""
    text = asset_text(name)
    base = ASSET_SOURCES[name].parent
    text = re.sub(r"url\((['\"]?)([^)'\":]+\.png)\1\)", lambda m: _data_uri(m, base), text)
    return text.replace("</style", "<\\/style")


def world_outline_text() -> str:
    """The committed world outline (GeoJSON FeatureCollection) as text."""
    return asset_text(WORLD_OUTLINE)
