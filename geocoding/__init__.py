"""Geocoding for the atlas: manual overrides, Nominatim through geopy, an offline gazetteer.

Run ``python -m geocoding`` (``--offline`` on a machine with no network). The pieces are
importable so that the notebook and the tests can hand in their own geocoder, clock and sleep.

The names below are imported on first use (PEP 562), so that ``python -m geocoding --offline``
does not pay for geopy, which only the online part needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_WHERE = {
    "Cache": "cache",
    "CacheError": "cache",
    "Entry": "cache",
    "atomic_write_text": "files",
    "BBox": "gazetteer",
    "City": "gazetteer",
    "Gazetteer": "gazetteer",
    "distance_km": "gazetteer",
    "NetworkUnavailableError": "online",
    "OnlineGeocoder": "online",
    "RetryPolicy": "online",
    "location_precision": "online",
    "nominatim_geocode": "online",
    "Override": "overrides",
    "OverrideError": "overrides",
    "load_overrides": "overrides",
    "InputError": "pipeline",
    "Outcome": "pipeline",
    "Pipeline": "pipeline",
    "Report": "pipeline",
    "Target": "pipeline",
    "format_summary": "pipeline",
    "read_targets": "pipeline",
    "write_geocoded": "pipeline",
    "Query": "text",
    "build_queries": "text",
    "clean_address": "text",
}

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
assert sorted(__all__) == sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_WHERE})


if TYPE_CHECKING:
    from .cache import Cache, CacheError, Entry
    from .files import atomic_write_text
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
