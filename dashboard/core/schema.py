"""Typed records for every data file (pydantic). Streamlit-free.

Cross-file checks (does a source id exist, is a country in the vocabulary) live in
``dashboard.core.data``; these models check what one entry can check on its own.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

SLUG = r"^[a-z0-9][a-z0-9-]*$"
_PARTIAL_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
EARLIEST_YEAR = 1980  # data about the networks starts in the 1980s
LATEST_YEAR = 2026  # today's year: nothing is dated in the future

Precision = Literal["year", "month", "day"]


def parse_partial_date(value: str) -> tuple[dt.date, Precision]:
    """Parse ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` into (first day covered, precision).

    Raises ValueError with a message fit for a user when the text is not such a date,
    is not a real calendar date, or lies outside EARLIEST_YEAR..LATEST_YEAR.
    """
    m = _PARTIAL_DATE.match(value.strip()) if isinstance(value, str) else None
    if not m:
        raise ValueError(f"{value!r} is not a date written YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = int(m[1]), int(m[2] or 1), int(m[3] or 1)
    try:
        start = dt.date(year, month, day)
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a real date ({exc})") from None
    if not EARLIEST_YEAR <= year <= LATEST_YEAR:
        raise ValueError(f"{value!r} lies outside {EARLIEST_YEAR}-{LATEST_YEAR}")
    precision: Precision = "day" if m[3] else "month" if m[2] else "year"
    return start, precision


def _check_date(value: str) -> str:
    parse_partial_date(value)
    return value.strip()


def _check_url(value: str) -> str:
    if not re.match(r"^https?://[^\s<>\"'`]+$", value):
        raise ValueError(f"{value!r} is not an http(s) address")
    return value


PartialDate = Annotated[str, AfterValidator(_check_date)]
Url = Annotated[str, AfterValidator(_check_url)]
Slug = Annotated[str, Field(pattern=SLUG)]
NonEmpty = Annotated[str, Field(min_length=1)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# ---------------------------------------------------------------- sources.yaml
class Source(Strict):
    id: Slug
    title: NonEmpty
    publisher: NonEmpty
    language: Literal["ja", "en", "de", "ko", "other"]
    seed: str | None = None  # file name in shared/seeds
    url: Url | None = None
    published: PartialDate | None = None
    accessed: PartialDate | None = None
    note: str | None = None

    @field_validator("seed")
    @classmethod
    def _seed_name(cls, v: str | None) -> str | None:
        if v is not None and not re.match(r"^\d{3}_[0-9a-f]{16}\.txt$", v):
            raise ValueError(f"{v!r} is not a seed file name like 000_0123456789abcdef.txt")
        return v


# ---------------------------------------------------------------- vocabulary.yaml
class Label(Strict):
    en: NonEmpty
    ja: NonEmpty


class CountryLabel(Label):
    region: Slug


class Vocabulary(Strict):
    """Controlled vocabularies, each term with its English and Japanese label."""

    organisation_kinds: dict[str, Label]
    office_kinds: dict[str, Label]
    event_kinds: dict[str, Label]
    themes: dict[str, Label]
    regions: dict[str, Label]
    countries: dict[str, CountryLabel]  # ISO 3166-1 alpha-2
    relations: dict[str, Label]
    qualifiers: dict[str, Label]

    @field_validator("countries")
    @classmethod
    def _alpha2(cls, v: dict[str, CountryLabel]) -> dict[str, CountryLabel]:
        bad = [k for k in v if not re.match(r"^[A-Z]{2}$", k)]
        if bad:
            raise ValueError(f"not ISO 3166-1 alpha-2 codes: {', '.join(bad)}")
        return v


# ---------------------------------------------------------------- organisations.yaml
class Text(Strict):
    """A statement as a source makes it: Japanese as written, English as translated.

    ``translation`` says who wrote the English: ``atlas`` (this project's faithful translation
    of the Japanese) or ``source`` (the source's own English).
    """

    ja: str | None = None
    en: str | None = None
    translation: Literal["atlas", "source"] = "atlas"
    source: Slug


class Place(Strict):
    en: str | None = None
    ja: str | None = None
    city: str | None = None
    country: str | None = None


class Founded(Strict):
    date: PartialDate
    place: Place | None = None
    note: Text | None = None
    source: Slug


class Secretariat(Strict):
    city: NonEmpty
    city_ja: str | None = None
    country: NonEmpty
    since: PartialDate | None = None
    until: PartialDate | None = None
    source: Slug


class Status(Strict):
    value: Literal["active", "suspended", "merged", "ended"]
    as_of: PartialDate
    source: Slug


class Relation(Strict):
    organisation: Slug
    type: Slug  # vocabulary.relations
    since: PartialDate | None = None
    source: Slug


class Names(Strict):
    en: NonEmpty
    ja: NonEmpty
    short_en: NonEmpty
    short_ja: NonEmpty
    former: list[Text] = []


class Organisation(Strict):
    id: Slug
    name: Names
    kind: Slug  # vocabulary.organisation_kinds
    parent: Relation | None = None  # e.g. CAN-Japan: national node of CAN
    relations: list[Relation] = []
    founded: Founded | None = None
    secretariat: list[Secretariat] = []
    regions: list[Slug] = Field(min_length=1)
    status: Status
    website: Url | None = None
    mission: list[Text] = []
    vision: list[Text] = []
    goals: list[Text] = []
    activities: list[Text] = []
    unfccc: list[Text] = []  # relation to the UNFCCC
    themes: list[Slug] = Field(min_length=1)
    notes: list[Text] = []  # disagreements between sources, corrections
    sources: list[Slug] = Field(min_length=1)


# ---------------------------------------------------------------- CSV rows
class Office(Strict):
    id: Slug
    organisation: Slug
    name: NonEmpty  # as the source writes it
    name_ja: str | None = None
    kind: Slug  # vocabulary.office_kinds
    address: str | None = None  # as written in the source
    city: NonEmpty
    city_ja: str | None = None
    country: NonEmpty
    region: Slug
    website: Url | None = None
    as_of: PartialDate | None = None
    source: Slug


class Member(Strict):
    id: Slug
    organisation: Slug
    city: NonEmpty
    city_ja: str | None = None
    country: NonEmpty
    region: Slug
    role: str | None = None  # founding member, COP29 session host, ...
    since: PartialDate | None = None
    until: PartialDate | None = None
    as_of: PartialDate | None = None
    source: Slug
    note: str | None = None


class MembershipCount(Strict):
    id: Slug
    organisation: Slug
    as_of: PartialDate | None = None  # empty only for an undated source; then ``note`` says why
    members: int | None = Field(default=None, ge=0)
    qualifier: Slug | None = None  # vocabulary.qualifiers
    member_kind: str | None = None
    countries: int | None = Field(default=None, ge=0)
    offices: int | None = Field(default=None, ge=0)
    staff: int | None = Field(default=None, ge=0)
    value_as_written: NonEmpty
    status: Literal["seed", "confirmed", "secondary", "conflicting"]
    source: Slug
    note: str | None = None


class Event(Strict):
    id: Slug
    date: PartialDate
    precision: Precision
    end_date: PartialDate | None = None
    organisation: Slug | None = None  # empty for world milestones
    kind: Slug  # vocabulary.event_kinds
    title_ja: NonEmpty
    title_en: NonEmpty
    status: Literal["seed", "confirmed", "secondary", "conflicting"]
    source: Slug
    note: str | None = None


class Geocoded(Strict):
    id: Slug  # an office or member id
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    precision: Literal["address", "street", "postcode", "city", "country"]
    provider: Literal["nominatim", "gazetteer", "manual"]
    query: NonEmpty
    place: str | None = None
    geocoded_at: NonEmpty
