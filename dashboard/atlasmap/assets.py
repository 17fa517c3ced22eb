"""The map's browser files: Leaflet, supercluster, the atlas's own JavaScript and CSS, the world outline.
Streamlit-free.

* Leaflet comes from the PyPI package ``xstatic-leaflet``;
* ``supercluster`` (the clustering index, npm, ISC licence) is vendored in ``browser/vendor/`` with its
  ORIGIN and LICENSE;
* ``atlas-map.js`` and ``atlas-map.css`` (``browser/``) are the atlas's own map code: the legend, the
  popups, the clusters, the clicks (``window.atlasMap``), linted with ESLint in ``make test``;
* the world outline is committed in ``browser/`` (see its ORIGIN file).

Two ways to use them:

* served: :func:`ensure_static_assets` copies exactly these files into ``dashboard/static/`` (not in
  git), with two bundles of them (:data:`BUNDLES`: the app's map loads one script and one stylesheet),
  which Streamlit serves at ``/app/static/<name>`` when ``server.enableStaticServing`` is on.
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

import xstatic.pkg.leaflet as xs_leaflet

from dashboard.core import paths
from dashboard.core.safety import style_code
from geocoding.files import atomic_write_bytes

STATIC_URL = "/app/static"  # where Streamlit serves paths.STATIC_DIR
WORLD_OUTLINE = "world-110m.json"
BROWSER_DIR = paths.ASSETS_DIR  # dashboard/atlasmap/browser
VENDOR_DIR = BROWSER_DIR / "vendor"

_LEAFLET = Path(xs_leaflet.BASE_DIR)

# Served name -> source file. Only these are ever copied into the served folder.
ASSET_SOURCES: dict[str, Path] = {
    "leaflet.js": _LEAFLET / "leaflet.js",
    "leaflet.css": _LEAFLET / "leaflet.css",
    "images/layers.png": _LEAFLET / "images" / "layers.png",
    "images/layers-2x.png": _LEAFLET / "images" / "layers-2x.png",
    "supercluster.min.js": VENDOR_DIR / "supercluster.min.js",
    "atlas-map.js": BROWSER_DIR / "atlas-map.js",
    "atlas-map.css": BROWSER_DIR / "atlas-map.css",
    WORLD_OUTLINE: BROWSER_DIR / WORLD_OUTLINE,
}

# In load order. "leaflet" and "leaflet_css" are folium's own names: they replace its CDN defaults.
JS_ASSETS: list[tuple[str, str]] = [
    ("leaflet", "leaflet.js"),
    ("supercluster", "supercluster.min.js"),
    ("atlas_map", "atlas-map.js"),
]
CSS_ASSETS: list[tuple[str, str]] = [
    ("leaflet_css", "leaflet.css"),
    ("atlas_map_css", "atlas-map.css"),
]

# What the app's map frame loads: one script (the JS_ASSETS joined in load order) and one stylesheet
# (the CSS_ASSETS). streamlit-folium's frame loads its scripts one after another, each waiting for the
# last; one file instead of three took one request and its wait off the way to the markers (bench/,
# "Map page"). Written by ensure_static_assets next to the files they join (leaflet.css's images
# resolve the same way).
BUNDLES: dict[str, tuple[str, ...]] = {
    "atlas-map.bundle.js": tuple(f for _, f in JS_ASSETS),
    "atlas-map.bundle.css": tuple(f for _, f in CSS_ASSETS),
}
SERVED: tuple[str, ...] = (*ASSET_SOURCES, *BUNDLES)  # every file the served folder holds


def _supercluster_version() -> str:
    origin = VENDOR_DIR / "supercluster.ORIGIN"
    match = re.search(r"version:\s*(\S+)", origin.read_text(encoding="utf-8")) if origin.exists() else None
    return match.group(1) if match else "unknown"


VERSIONS = {
    "leaflet": xs_leaflet.VERSION,
    "supercluster": _supercluster_version(),
}


def served_url(name: str) -> str:
    """Absolute URL of a served asset, e.g. ``/app/static/leaflet.js``."""
    if name not in SERVED:
        raise KeyError(f"{name!r} is not a map asset (known: {', '.join(SERVED)})")
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
    for name in BUNDLES:
        content = bundle_bytes(name)
        dest = target / name
        if not (dest.is_file() and dest.stat().st_size == len(content) and dest.read_bytes() == content):
            atomic_write_bytes(dest, content)
    for path in target.rglob("*"):  # files an older version served: the folder holds the assets only
        if path.is_file() and str(path.relative_to(target)) not in SERVED and not path.name.endswith(".tmp"):
            path.unlink(missing_ok=True)
    return target


def bundle_bytes(name: str) -> bytes:
    """The content of a bundle (see BUNDLES): its files in order, each on its own lines (a script's
    last statement ended with a semicolon, so the next file cannot continue it)."""
    sep = b"\n;\n" if name.endswith(".js") else b"\n"
    return sep.join(ASSET_SOURCES[f].read_bytes().rstrip() for f in BUNDLES[name]) + b"\n"


@functools.lru_cache(maxsize=None)
def asset_text(name: str) -> str:
    """The text of an asset (JavaScript, CSS or the outline JSON), for inlining."""
    if name not in ASSET_SOURCES:
        raise KeyError(f"{name!r} is not a map asset")
    return ASSET_SOURCES[name].read_text(encoding="utf-8")


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
    return style_code(text)


def world_outline_text() -> str:
    """The committed world outline (GeoJSON FeatureCollection) as text."""
    return asset_text(WORLD_OUTLINE)
