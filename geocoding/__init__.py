"""Geocoding for the atlas: manual overrides, Nominatim through geopy, an offline gazetteer.

Run ``python -m geocoding`` (``--offline`` on a machine with no network). The pieces are
importable so that the notebook and the tests can hand in their own geocoder, clock and sleep.
"""

from .cache import Cache, CacheError, Entry, atomic_write_text
from .gazetteer import BBox, City, Gazetteer, distance_km
from .online import (
    NetworkUnavailableError,
    OnlineGeocoder,
    RetryPolicy,
    location_precision,
    nominatim_geocode,
)
from .overrides import Override, OverrideError, load_overrides
from .pipeline import (
    InputError,
    Outcome,
    Pipeline,
    Report,
    Target,
    format_summary,
    read_targets,
    write_geocoded,
)
from .text import Query, build_queries, clean_address

__all__ = [
    "BBox",
    "Cache",
    "CacheError",
    "City",
    "Entry",
    "Gazetteer",
    "InputError",
    "NetworkUnavailableError",
    "OnlineGeocoder",
    "Outcome",
    "Override",
    "OverrideError",
    "Pipeline",
    "Query",
    "Report",
    "RetryPolicy",
    "Target",
    "atomic_write_text",
    "build_queries",
    "clean_address",
    "distance_km",
    "format_summary",
    "load_overrides",
    "location_precision",
    "nominatim_geocode",
    "read_targets",
    "write_geocoded",
]
