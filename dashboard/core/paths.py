"""Every path the atlas uses, derived from the repository root (one module knows them all).

The data folder and its file names come from ``geocoding.paths`` (the bottom layer, which the
geocoder shares); this module adds the dashboard's own paths. Set ``ATLAS_DATA_DIR`` to point the
whole atlas (loader, dashboard, geocoder, tests) at another data folder, ``ATLAS_LOCALES_DIR`` to
add a folder of interface catalogues (see ``dashboard.core.text``).
"""

from __future__ import annotations

from geocoding.paths import (  # noqa: F401 (re-exported: the data folder's layout)
    EVENTS,
    GAZETTEER_INDEX,
    GEOCODED,
    GEOCODING_CACHE,
    GEOCODING_OVERRIDES,
    MEMBER_LISTS,
    MEMBERS,
    MEMBERSHIP,
    OFFICES,
    ORGANISATIONS,
    ROOT,
    SCENES,
    SHIPPED_DATA_DIR,
    SOURCES,
    VOCABULARY,
    data_dir,
    member_list_files,
)

DASHBOARD_DIR = ROOT / "dashboard"
STATIC_DIR = DASHBOARD_DIR / "static"  # served by Streamlit at /app/static/ (filled at start, not in git)
# the map's committed browser files, copied into STATIC_DIR
ASSETS_DIR = DASHBOARD_DIR / "atlasmap" / "browser"
LOCALES_DIR = DASHBOARD_DIR / "core" / "locales"  # one interface catalogue per language
TEMPLATES_DIR = DASHBOARD_DIR / "outputs" / "templates"
SEEDS_DIR = ROOT.parent / "shared" / "seeds"
EXTERNAL_FACTS = ROOT.parent / "shared" / "reference" / "external-facts.csv"
