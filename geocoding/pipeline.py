"""The geocoding run: read offices and members, geocode each row, write ``geocoded.csv``.

Providers, in order: manual overrides (always win), Nominatim (online, through ``OnlineGeocoder``;
its cached answers are used offline too), then the offline gazetteer (city precision). Every
result is checked before it is kept: inside the expected country's bounding box, in the country
the provider names, and near the gazetteer's city.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import paths
from .cache import Cache, Entry
from .files import atomic_write_text
from .gazetteer import City, Gazetteer, distance_km
from .overrides import Override
from .records import PRECISIONS, Geocoded, city_key
from .text import Query, build_queries, fold, precision_rank

if TYPE_CHECKING:
    from .online import OnlineGeocoder

# .online (geopy, ~0.15 s to import) is imported only when Nominatim is asked: not offline.

DEFAULT_MAX_KM = 50.0  # an address this far from its city's GeoNames point is another place
COLUMNS = list(Geocoded.model_fields)


class InputError(Exception):
    """An input file is missing or a row cannot be geocoded as written (names file, row, field)."""


@dataclass(frozen=True)
class Target:
    """One row to geocode: an office (with its address) or a member city."""

    id: str
    file: str  # offices.csv or members.csv
    line: int  # line in that file (the header is line 1)
    city: str
    country: str  # ISO 3166-1 alpha-2
    address: str | None = None
    city_ja: str | None = None


@dataclass
class Outcome:
    target: Target
    row: dict[str, Any] | None = None  # a geocoded.csv row, None when no coordinates
    failure: str | None = None
    rejected: list[str] = field(default_factory=list)  # candidates that failed the checks
    kept_previous: bool = False


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # the network went away, unknown override ids...

    @property
    def missing(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.row is None]

    def counts(self, column: str) -> Counter:
        return Counter(o.row[column] for o in self.outcomes if o.row is not None)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def iso_utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------- inputs
def read_targets(data_dir: Path, gazetteer: Gazetteer) -> list[Target]:
    """Offices, members, then the member lists' cities, in file order. Raises InputError naming
    file, row and field."""
    targets: list[Target] = []
    seen: dict[str, str] = {}
    for name, has_address in ((paths.OFFICES, True), (paths.MEMBERS, False)):
        path = data_dir / name
        if not path.exists():
            raise InputError(
                f"{path}: file not found (the geocoder reads {paths.OFFICES} and {paths.MEMBERS})"
            )
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in ("id", "city", "country") if c not in (reader.fieldnames or [])]
            if missing:
                raise InputError(f"{path}: no column {', '.join(missing)} in the header")
            for row in reader:
                line = reader.line_num
                for col in ("id", "city", "country"):
                    if not (row.get(col) or "").strip():
                        raise InputError(f"{path}, row {line}, field {col}: empty")
                rid = row["id"].strip()
                if rid in seen:
                    raise InputError(f"{path}, row {line}, field id: {rid} is already used in {seen[rid]}")
                seen[rid] = f"{name} row {line}"
                iso = gazetteer.country_code(row["country"])
                if iso is None:
                    raise InputError(
                        f"{path}, row {line}, field country: {row['country']!r} is not a country "
                        "(write an ISO 3166-1 alpha-2 code such as JP)"
                    )
                targets.append(
                    Target(
                        id=rid,
                        file=name,
                        line=line,
                        city=row["city"].strip(),
                        country=iso,
                        address=((row.get("address") or "").strip() or None) if has_address else None,
                        city_ja=(row.get("city_ja") or "").strip() or None,
                    )
                )
    targets.extend(_member_list_targets(data_dir, gazetteer))
    return targets


def _member_list_targets(data_dir: Path, gazetteer: Gazetteer) -> list[Target]:
    """The cities of the member lists (``member-lists/*.csv``) whose rows give no coordinates: one
    target per city (``city_key``), however many lists and rows name it."""
    targets: dict[str, Target] = {}
    for path in paths.member_list_files(data_dir):
        label = f"{paths.MEMBER_LISTS}/{path.name}"
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in ("city", "country") if c not in (reader.fieldnames or [])]
            if missing:
                raise InputError(f"{path}: no column {', '.join(missing)} in the header")
            for row in reader:
                line = reader.line_num
                if (row.get("latitude") or "").strip() or not any((v or "").strip() for v in row.values()):
                    continue  # placed by the list itself, or a blank line
                for col in ("city", "country"):
                    if not (row.get(col) or "").strip():
                        raise InputError(f"{path}, row {line}, field {col}: empty")
                iso = gazetteer.country_code(row["country"])
                if iso is None:
                    raise InputError(
                        f"{path}, row {line}, field country: {row['country']!r} is not a country "
                        "(write an ISO 3166-1 alpha-2 code such as JP)"
                    )
                key = city_key(row["city"], iso)
                if key not in targets:
                    city_ja = (row.get("city_ja") or "").strip() or None
                    targets[key] = Target(key, label, line, row["city"].strip(), iso, None, city_ja)
    return list(targets.values())


def read_previous(path: Path) -> dict[str, dict[str, str]]:
    """The rows of an existing geocoded.csv by id (empty when missing or unreadable)."""
    if not path.exists():
        return {}
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            return {r["id"]: r for r in csv.DictReader(fh) if r.get("id")}
    except (OSError, csv.Error, KeyError):
        return {}


def write_geocoded(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    """Write geocoded.csv atomically, every row checked against the ``Geocoded`` model first."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    n = 0
    for row in rows:
        Geocoded.model_validate(row)
        writer.writerow({k: ("" if row.get(k) is None else row[k]) for k in COLUMNS})
        n += 1
    atomic_write_text(path, buf.getvalue())
    return n


# ---------------------------------------------------------------- the run
class Pipeline:
    """Geocode targets with overrides, Nominatim (``online``, None when offline) and the gazetteer."""

    def __init__(
        self,
        *,
        cache: Cache,
        gazetteer: Gazetteer,
        overrides: dict[str, Override] | None = None,
        online: OnlineGeocoder | None = None,
        refresh: bool = False,
        max_km: float = DEFAULT_MAX_KM,
        timeout: float = 10.0,
        now: Callable[[], dt.datetime] = utc_now,
        log: Callable[[str], Any] = lambda _msg: None,
    ) -> None:
        self.cache = cache
        self.gazetteer = gazetteer
        self.overrides = overrides or {}
        self.online = online
        self.refresh = refresh
        self.max_km = max_km
        self.timeout = timeout
        self.now = now
        self.log = log
        self.notes: list[str] = []

    # ------------------------------------------------------------ one row
    def geocode(self, target: Target) -> Outcome:
        outcome = Outcome(target)
        override = self.overrides.get(target.id)
        if override is not None:
            return self._manual(target, override, outcome)

        city = self.gazetteer.city(target.city, target.country, target.city_ja)
        best: tuple[Entry, Query] | None = None
        queries = self.queries(target, city)
        for i, query in enumerate(queries):
            entry = self._nominatim(target, query)
            if entry is None or not entry.found:
                continue
            entry = _capped(entry, query.precision)
            reason = self.check(entry, target, city)
            if reason:
                outcome.rejected.append(f"nominatim {query.display!r}: {reason}")
                continue
            if best is None or entry.rank > best[0].rank:
                best = (entry, query)
            following = queries[i + 1] if i + 1 < len(queries) else None
            if following is None or best[0].rank >= precision_rank(following.precision):
                break
        if best is not None and best[0].rank >= precision_rank("city"):
            outcome.row = self._row(target, best[0], best[1].display, city)
            return outcome

        gaz = self._gazetteer(target, city)
        if gaz is not None:
            outcome.row = self._row(target, gaz, gaz.query, city)
            return outcome
        if best is not None:  # coarser than a city, but checked and better than nothing
            outcome.row = self._row(target, best[0], best[1].display, city)
            return outcome
        outcome.failure = self._why_not(target, city, outcome)
        return outcome

    def queries(self, target: Target, city: City | None) -> list[Query]:
        g = self.gazetteer
        return build_queries(
            address=target.address,
            city=target.city,
            country_name=g.country_name(target.country),
            postcode_regex=g.postcode_regex(target.country),
            city_aliases=[*(g.city_aliases(city) if city else [])],
            country_aliases=g.country_aliases(target.country),
        )

    def check(self, entry: Entry, target: Target, city: City | None) -> str | None:
        """Why a result cannot be kept, or None: outside the country, or too far from the city."""
        lat, lon = entry.latitude, entry.longitude
        assert lat is not None
        assert lon is not None
        name = self.gazetteer.country_name(target.country)
        if entry.country_code and entry.country_code != target.country:
            return f"the provider places it in {entry.country_code}, not {target.country} ({name})"
        box = self.gazetteer.bbox(target.country)
        if box is not None and not box.contains(lat, lon):
            return f"({lat:.5f}, {lon:.5f}) lies outside the bounding box of {name}"
        if city is not None and entry.rank >= precision_rank("city"):
            km = distance_km(lat, lon, city.latitude, city.longitude)
            if km > self.max_km:
                return f"({lat:.5f}, {lon:.5f}) is {km:.0f} km from {city.name}, more than {self.max_km:g} km"
        return None

    # ------------------------------------------------------------ providers
    def _manual(self, target: Target, override: Override, outcome: Outcome) -> Outcome:
        entry = Entry(
            provider="manual",
            query=f"override {target.id} ({override.source})",
            found=True,
            checked_at=override.as_of or iso_utc(self.now()),
            latitude=override.latitude,
            longitude=override.longitude,
            precision=override.precision,
            place=None,
        )
        box = self.gazetteer.bbox(target.country)
        if box is not None and not box.contains(override.latitude, override.longitude):
            outcome.failure = (
                f"override ({override.latitude}, {override.longitude}) lies outside the bounding box of "
                f"{self.gazetteer.country_name(target.country)}: latitude and longitude swapped?"
            )
            return outcome
        city = self.gazetteer.city(target.city, target.country, target.city_ja)
        outcome.row = self._row(target, entry, entry.query, city)
        return outcome

    def _nominatim(self, target: Target, query: Query) -> Entry | None:
        cached = self.cache.get("nominatim", query.key)
        if self.online is None or (cached is not None and not self.refresh):
            return cached
        from .online import (
            GeocoderQueryError,
            GeocoderServiceError,
            NetworkUnavailableError,
            location_country,
            location_detail,
            location_precision,
            nominatim_kwargs,
        )

        try:
            location = self.online(query.value, **nominatim_kwargs(target.country, self.timeout))
        except GeocoderQueryError as exc:  # not retried, not cached
            self.notes.append(f"{target.id}: Nominatim refused the query {query.display!r} ({exc})")
            return cached
        except (NetworkUnavailableError, GeocoderServiceError) as exc:  # not cached; go on offline
            self.online = None
            self.notes.append(
                f"Nominatim unreachable from {target.id} on ({exc}); the offline gazetteer filled in the rest"
            )
            return cached
        except (TypeError, ValueError, AttributeError, KeyError) as exc:  # geopy could not parse it
            return self._unreadable(target, cached, exc)
        stamp = iso_utc(self.now())
        if location is None:
            entry = Entry("nominatim", query.display, found=False, checked_at=stamp)
        else:
            try:
                raw = location.raw if isinstance(location.raw, dict) else {}
                lat, lon = float(raw["lat"]), float(raw["lon"])  # geopy turns missing ones into 0, 0
                if not (-90 <= lat <= 90 and -180 <= lon <= 180):  # also false for NaN
                    raise ValueError(f"coordinates out of range ({lat}, {lon})")
                entry = Entry(
                    "nominatim",
                    query.display,
                    found=True,
                    checked_at=stamp,
                    latitude=round(lat, 7),
                    longitude=round(lon, 7),
                    precision=location_precision(location),
                    place=location.address,
                    country_code=location_country(location),
                    detail=location_detail(location),
                )
            except (TypeError, ValueError, AttributeError, KeyError) as exc:
                return self._unreadable(target, cached, exc)
        return self.cache.put("nominatim", query.key, entry)

    def _unreadable(self, target: Target, cached: Entry | None, exc: Exception) -> Entry | None:
        """An answer that is not Nominatim's format: not cached, and no more asking this run."""
        self.online = None
        self.notes.append(
            f"Nominatim sent an answer that cannot be read, for {target.id} ({type(exc).__name__}: {exc}); "
            "the offline gazetteer filled in the rest"
        )
        return cached

    def _gazetteer(self, target: Target, city: City | None) -> Entry | None:
        key = f"city={fold(target.city)};country={target.country.lower()}"
        cached = self.cache.get("gazetteer", key)
        if cached is not None and cached.found and not self.refresh:
            return cached
        if city is None:
            return None  # "not found" in the gazetteer is not cached: a newer package may know it
        entry = Entry(
            "gazetteer",
            f"{target.city}, {target.country}",
            found=True,
            checked_at=iso_utc(self.now()),
            latitude=city.latitude,
            longitude=city.longitude,
            precision="city",
            place=city.name,
            country_code=city.country,
            detail=f"geonames {city.geonameid} ({self.gazetteer.version})",
        )
        if cached is not None and (cached.latitude, cached.longitude, cached.place) == (
            entry.latitude,
            entry.longitude,
            entry.place,
        ):
            return cached  # unchanged: keep its date
        # found again in microseconds if a run is cut short: written with the next online answer or at
        # the end of the run, not once per row (Cache.flush)
        return self.cache.put("gazetteer", key, entry, save=False)

    def _why_not(self, target: Target, city: City | None, outcome: Outcome) -> str:
        parts = []
        if outcome.rejected:
            parts.append(f"{len(outcome.rejected)} result(s) rejected")
        if city is None:
            parts.append(
                f"the gazetteer has no place called {target.city!r}"
                + (f" or {target.city_ja!r}" if target.city_ja else "")
                + f" in {target.country}"
            )
        if self.online is None:
            parts.append("offline (no Nominatim answer cached)")
        else:
            parts.append("Nominatim found nothing that passed the checks")
        return "; ".join(parts) + f": add an entry to {paths.GEOCODING_OVERRIDES} with its source"

    def _row(self, target: Target, entry: Entry, query: str, city: City | None) -> dict[str, Any]:
        """A geocoded.csv row; ``geonameid`` is the gazetteer's id for the target's city, which makes
        a city one identity across networks (whichever provider gave the coordinates)."""
        return {
            "id": target.id,
            "latitude": round(float(entry.latitude), 6),
            "longitude": round(float(entry.longitude), 6),
            "precision": entry.precision,
            "provider": entry.provider,
            "query": query,
            "place": entry.place,
            "geocoded_at": entry.checked_at,
            "geonameid": city.geonameid if city is not None else None,
        }

    # ------------------------------------------------------------ all rows
    def run(self, targets: list[Target], *, progress: bool = False, previous: dict | None = None) -> Report:
        report = Report()
        known = {t.id for t in targets}
        for oid in sorted(set(self.overrides) - known):
            report.notes.append(
                f"{paths.GEOCODING_OVERRIDES}: id {oid} is neither an office nor a member (ignored)"
            )
        bar = _progress(targets, progress)
        for target in bar:
            outcome = self.geocode(target)
            if outcome.row is None and previous and target.id in previous:
                outcome.row = dict(previous[target.id])
                outcome.kept_previous = True
            report.outcomes.append(outcome)
        self.cache.flush()
        report.notes.extend(self.notes)
        return report


def _capped(entry: Entry, precision: str) -> Entry:
    """A result can be no more precise than its query (a city query gives a city)."""
    return entry if entry.rank <= precision_rank(precision) else replace(entry, precision=precision)


def _progress(targets: list[Target], enabled: bool):
    if not enabled:
        return targets
    from tqdm import tqdm

    return tqdm(targets, desc="geocoding", unit="row", file=sys.stderr, dynamic_ncols=True)


def format_summary(report: Report) -> str:
    """The end summary: counts per provider and precision, then every failure with its reason."""
    done = [o for o in report.outcomes if o.row is not None]
    lines = [f"geocoded {len(done)} of {len(report.outcomes)} rows"]
    providers = report.counts("provider")
    lines.append("  by provider:  " + (", ".join(f"{k} {providers[k]}" for k in sorted(providers)) or "none"))
    precisions = report.counts("precision")
    lines.append(
        "  by precision: "
        + (", ".join(f"{p} {precisions[p]}" for p in PRECISIONS if precisions[p]) or "none")
    )
    rejected = [(o.target.id, r) for o in report.outcomes for r in o.rejected]
    if rejected:
        lines.append(f"rejected {len(rejected)} result(s) that failed the checks:")
        lines.extend(f"  {rid}: {why}" for rid, why in rejected)
    kept = [o for o in report.outcomes if o.kept_previous]
    if kept:
        lines.append(f"kept the previous coordinates of {len(kept)} row(s) that failed this time:")
        lines.extend(f"  {o.target.id}: {o.failure}" for o in kept)
    missing = report.missing
    if missing:
        lines.append(f"FAILED: {len(missing)} row(s) without coordinates:")
        for o in missing:
            t = o.target
            lines.append(f"  {t.id} ({t.file} row {t.line}, {t.city}, {t.country}): {o.failure}")
    if report.notes:
        lines.append("notes:")
        lines.extend(f"  {n}" for n in report.notes)
    return "\n".join(lines)
