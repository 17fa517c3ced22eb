"""Load a large member list (thousands of rows) as map points. Streamlit-free.

A CSV (UTF-8) with a header and one row per member::

    name,country,city,latitude,longitude,precision,name_ja,city_ja,as_of
    City of Bonn,DE,Bonn,,,,,,2025-01
    Some NGO,Kenya,,-1.2921,36.8219,address,,,2025-01

* ``name`` and ``country`` (ISO 3166-1 alpha-2 code or an English country name) are required;
* either ``city`` — its coordinates then come from the geocoder's offline GeoNames gazetteer,
  precision ``city`` — or ``latitude`` and ``longitude`` with their ``precision`` (one of
  ``address, street, postcode, city, country``: the loader never guesses how exact they are);
  coordinates given win over the city;
* optional: ``name_ja``, ``city_ja``, ``as_of`` (a row's own date; else the ``as_of`` argument).

Every row becomes a row of ``dashboard.core.data.POINT_COLUMNS`` with ``point_type`` "member", the
organisation's names from the atlas, and the file as its ``source``. A bad row is left out and
reported as a ``Problem`` naming the file, the line and the field; the other rows still load.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from dashboard.core.data import POINT_COLUMNS, Atlas, Problem, _read_text, _short

if TYPE_CHECKING:
    from geocoding import Gazetteer

PRECISIONS = ("address", "street", "postcode", "city", "country")
REQUIRED = ("name", "country")
KNOWN = (
    "name", "country", "city", "latitude", "longitude", "precision", "name_ja", "city_ja", "as_of",
)  # fmt: skip
PROVIDER_FILE = "member list"  # coordinates as given in the file
PROVIDER_GAZETTEER = "gazetteer"


def _cell(row: dict[str, str | None], key: str) -> str | None:
    value = row.get(key)
    if value is None:
        return None
    value = value.strip()
    return value or None


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


class _LazyGazetteer:
    """The geocoder's gazetteer, loaded (a few seconds) only when a row needs a city or a country name."""

    def __init__(self, gazetteer: Gazetteer | None) -> None:
        self._g = gazetteer

    def get(self) -> Gazetteer:
        if self._g is None:
            from geocoding import Gazetteer

            self._g = Gazetteer()
        return self._g


def load_member_list(
    path: str | Path,
    organisation: str,
    atlas: Atlas,
    *,
    as_of: str | None = None,
    gazetteer: Gazetteer | None = None,
) -> tuple[pd.DataFrame, list[Problem]]:
    """Read a member list CSV into map points for ``organisation`` (an organisation id of ``atlas``).

    Returns (points with the columns of ``dashboard.core.data.POINT_COLUMNS``, problems). Rows with a
    problem are left out; a file-level problem (missing file, not UTF-8, no name/country column,
    unknown organisation) returns no points. ``as_of`` dates rows that have no ``as_of`` cell;
    rows with neither get a warning (the atlas shows every row's date). ``gazetteer``: a
    ``geocoding.Gazetteer`` to reuse (tests hand in a fake); loaded only if a row needs one.
    """
    path = Path(path)
    name = path.name
    problems: list[Problem] = []
    empty = pd.DataFrame(columns=POINT_COLUMNS)
    if organisation not in atlas.organisation_records:
        known = ", ".join(sorted(atlas.organisation_records))
        problems.append(
            Problem(name, "", "organisation", f"unknown organisation id (known: {known})", organisation)
        )
        return empty, problems
    text = _read_text(path, problems)
    if text is None:
        return empty, problems

    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        problems.append(Problem(name, "line 1", ", ".join(missing), "required column is missing"))
    if "city" not in header and not {"latitude", "longitude"} <= set(header):
        problems.append(
            Problem(name, "line 1", "city", "needs a city column or latitude and longitude columns")
        )
    unknown = [c for c in header if c not in KNOWN]
    if unknown:
        problems.append(
            Problem(
                name,
                "line 1",
                ", ".join(unknown),
                f"unknown column, ignored (known: {', '.join(KNOWN)})",
                severity="warning",
            )
        )
    if any(p.severity == "error" for p in problems):
        return empty, problems

    org = atlas.organisations.set_index("id").loc[organisation]
    vocab = atlas.vocabulary.countries
    gaz = _LazyGazetteer(gazetteer)
    country_cache: dict[str, str | None] = {}
    rows: list[dict[str, Any]] = []
    undated = 0

    def country_code(value: str) -> str | None:
        if value not in country_cache:
            upper = value.upper()
            if len(value) == 2 and upper in vocab:
                country_cache[value] = upper
            else:
                country_cache[value] = gaz.get().country_code(value)
        return country_cache[value]

    try:
        for row in reader:
            line = reader.line_num
            where = f"line {line}"
            if None in row:
                problems.append(Problem(name, where, "", "row has more cells than the header has columns"))
                continue
            if not any((v or "").strip() for v in row.values()):
                continue
            bad = len(problems)
            member = _cell(row, "name")
            country_raw = _cell(row, "country")
            city = _cell(row, "city")
            lat_raw, lon_raw = _cell(row, "latitude"), _cell(row, "longitude")
            precision = _cell(row, "precision")
            if member is None:
                problems.append(Problem(name, where, "name", "is required"))
            iso = None
            if country_raw is None:
                problems.append(Problem(name, where, "country", "is required"))
            else:
                iso = country_code(country_raw)
                if iso is None:
                    problems.append(
                        Problem(
                            name,
                            where,
                            "country",
                            "is not a country (write an ISO 3166-1 alpha-2 code such as JP)",
                            _short(country_raw),
                        )
                    )
            lat = lon = None
            if lat_raw is not None or lon_raw is not None:
                for fld, raw, lo, hi in (("latitude", lat_raw, -90, 90), ("longitude", lon_raw, -180, 180)):
                    if raw is None:
                        problems.append(
                            Problem(name, where, fld, "is required when the other coordinate is given")
                        )
                        continue
                    value = _number(raw)
                    if value is None or not lo <= value <= hi:
                        problems.append(
                            Problem(name, where, fld, f"must be a number from {lo} to {hi}", _short(raw))
                        )
                    elif fld == "latitude":
                        lat = value
                    else:
                        lon = value
                if precision is None:
                    problems.append(
                        Problem(
                            name,
                            where,
                            "precision",
                            f"is required with latitude/longitude (one of {', '.join(PRECISIONS)})",
                        )
                    )
                elif precision not in PRECISIONS:
                    problems.append(
                        Problem(
                            name,
                            where,
                            "precision",
                            f"must be one of {', '.join(PRECISIONS)}",
                            _short(precision),
                        )
                    )
            elif city is None:
                problems.append(Problem(name, where, "city", "give a city, or latitude and longitude"))
            if len(problems) > bad:
                continue

            provider = PROVIDER_FILE
            if lat is None:
                hit = gaz.get().city(city, iso, _cell(row, "city_ja"))
                if hit is None:
                    problems.append(
                        Problem(
                            name,
                            where,
                            "city",
                            f"not found in the offline gazetteer in {iso}: "
                            "give latitude, longitude and precision",
                            _short(city),
                        )
                    )
                    continue
                lat, lon, precision, provider = hit.latitude, hit.longitude, "city", PROVIDER_GAZETTEER
            row_as_of = _cell(row, "as_of") or as_of
            undated += row_as_of is None
            country = vocab.get(iso)
            rows.append(
                {
                    "id": f"{organisation}-{path.stem}-{line}",
                    "point_type": "member",
                    "organisation": organisation,
                    "org_name_en": org["name_en"],
                    "org_name_ja": org["name_ja"],
                    "org_short_en": org["short_en"],
                    "org_short_ja": org["short_ja"],
                    "org_kind": org["kind"],
                    "founded_year": org["founded_year"],
                    "name_en": member,
                    "name_ja": _cell(row, "name_ja") or member,
                    "kind": "member",
                    "kind_en": "Member",
                    "kind_ja": "会員",
                    "address": None,
                    "city": city,
                    "city_ja": _cell(row, "city_ja"),
                    "country": iso,
                    "country_en": country.en if country else gaz.get().country_name(iso),
                    "country_ja": country.ja if country else None,
                    "region": country.region if country else None,
                    "website": None,
                    "lat": float(lat),
                    "lon": float(lon),
                    "precision": precision,
                    "provider": provider,
                    "source": name,
                    "source_title": name,
                    "as_of": row_as_of,
                }
            )
    except csv.Error as exc:
        problems.append(Problem(name, f"line {reader.line_num}", "", f"is not valid CSV: {exc}"))

    if undated:
        problems.append(
            Problem(
                name,
                "",
                "as_of",
                f"{undated} row(s) have no as-of date: add an as_of column or pass as_of=",
                severity="warning",
            )
        )
    df = pd.DataFrame(rows, columns=POINT_COLUMNS)
    df["founded_year"] = df["founded_year"].astype("Int64")
    return df, problems
