"""The small vocabulary the geocoder shares with the atlas: partial dates, ids, coordinate
precisions and the rows of ``geocoded.csv``.

Defined here, at the bottom, so that ``dashboard`` builds on ``geocoding`` and never the other way.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

SLUG = r"^[a-z0-9][a-z0-9-]*$"
_PARTIAL_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
EARLIEST_YEAR = 1980  # data about the networks starts in the 1980s
LATEST_YEAR = max(2026, dt.date.today().year)  # today's year: nothing is dated in the future

# How precise a coordinate is, best first (``precision`` in geocoded.csv, member lists, overrides).
Precision = Literal["address", "street", "postcode", "city", "country"]
PRECISIONS: tuple[str, ...] = get_args(Precision)
Provider = Literal["nominatim", "gazetteer", "manual"]
DatePrecision = Literal["year", "month", "day"]


def parse_partial_date(value: str, *, bounded: bool = True) -> tuple[dt.date, DatePrecision]:
    """Parse ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` into (first day covered, precision).

    Raises ValueError with a message fit for a user when the text is not such a date,
    is not a real calendar date, or (``bounded``, for data) lies outside EARLIEST_YEAR..LATEST_YEAR.
    """
    m = _PARTIAL_DATE.match(value.strip()) if isinstance(value, str) else None
    if not m:
        raise ValueError(f"{str(value)[:40]!r} is not a date written YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = int(m[1]), int(m[2] or 1), int(m[3] or 1)
    try:
        start = dt.date(year, month, day)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a real date ({exc})") from None
    if bounded and not EARLIEST_YEAR <= year <= LATEST_YEAR:
        raise ValueError(f"{value!r} lies outside {EARLIEST_YEAR}-{LATEST_YEAR}")
    precision: DatePrecision = "day" if m[3] else "month" if m[2] else "year"
    return start, precision


def _check_date(value: str) -> str:
    parse_partial_date(value)
    return value.strip()


PartialDate = Annotated[str, AfterValidator(_check_date)]
Slug = Annotated[str, Field(pattern=SLUG)]
NonEmpty = Annotated[str, Field(min_length=1)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Geocoded(Strict):
    """One row of ``geocoded.csv``: where an office, a member or a member list's city is."""

    id: Slug  # an office or member id, or a member list's city key (``city_key``)
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    precision: Precision
    provider: Provider
    query: NonEmpty
    place: str | None = None
    geocoded_at: NonEmpty
    geonameid: int | None = None  # the GeoNames id of the city (one identity across networks)


def slugify(text: str) -> str:
    """Lower-case ASCII letters and digits joined by hyphens ('São Paulo' -> 'sao-paulo')."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    # a name with no Latin letters at all gets a stable digest of itself
    return slug or "u" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]


def city_key(city: str, country: str) -> str:
    """The ``geocoded.csv`` id of a member list's city: ``city-jp-kitakyushu``."""
    return f"city-{country.strip().lower()}-{slugify(city)}"
