"""Typed records for every data file (pydantic). Streamlit-free.

Cross-file checks (does a source id exist, is a country in the vocabulary) live in
``dashboard.core.data``; these models check what one entry can check on its own.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from geocoding.records import (  # noqa: F401 (re-exported: the records every layer shares)
    EARLIEST_YEAR,
    LATEST_YEAR,
    PRECISIONS,
    SLUG,
    DatePrecision,
    Geocoded,
    NonEmpty,
    PartialDate,
    Precision,
    Slug,
    Strict,
    parse_partial_date,
)


def _check_url(value: str) -> str:
    if not re.match(r"^https?://[^\s<>\"'`]+$", value):
        raise ValueError("is not an http(s) address")  # the value is shown beside it, cut short
    return value


Url = Annotated[str, AfterValidator(_check_url)]


def popup_fields(model: type[Strict]) -> tuple[str, ...]:
    """The fields of ``model`` marked ``json_schema_extra={"popup": True}``: the map's popup shows each as a
    row of text labelled with the catalogue's ``field_<name>`` (a new column shown in the popup: this
    mark, and the label in every catalogue)."""
    return tuple(
        name
        for name, info in model.model_fields.items()
        if isinstance(info.json_schema_extra, dict) and info.json_schema_extra.get("popup")
    )


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
            raise ValueError("is not a seed file name like 000_0123456789abcdef.txt")
        return v


# ---------------------------------------------------------------- vocabulary.yaml
class Label(Strict):
    """A vocabulary term's labels: English and Japanese always, any further language beside them
    (``fr: ...``): adding a language to the atlas adds a label here (see TRANSLATION_GUIDE.md)."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True, cache_strings=False)
    en: NonEmpty
    ja: NonEmpty

    @model_validator(mode="after")
    def _languages(self) -> Label:
        for key, value in (self.model_extra or {}).items():
            if not re.fullmatch(r"[a-z]{2,3}", key) or not isinstance(value, str) or not value.strip():
                raise ValueError(f"{key[:40]!r} is not a known field or a language code with a label")
        return self


class CountryLabel(Label):
    region: Slug  # where the country's places are, unless a row says one of other_regions
    other_regions: list[Slug] = []  # e.g. Russia: europe, and north-asia for Tomsk


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
    member_kinds: dict[str, Label] = {}  # city, prefecture, ngo ... (member lists' member_kind)
    member_statuses: dict[str, Label] = {}  # active, inactive, former (member lists' status)

    @field_validator("countries")
    @classmethod
    def _alpha2(cls, v: dict[str, CountryLabel]) -> dict[str, CountryLabel]:
        bad = [k for k in v if not re.match(r"^[A-Z]{2}$", k)]
        if bad:
            shown = ", ".join(b[:20] for b in bad[:10])
            shown += f" and {len(bad) - 10} more" if len(bad) > 10 else ""
            raise ValueError(f"not ISO 3166-1 alpha-2 codes: {shown}")
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


class Alternative(Strict):
    """What another source says about the same field, kept beside the value the atlas shows:
    ``Secretariat(city="Bonn", since="2010", alternatives=[{field: since, value: "2009", ...}])``
    is shown as "2010 (2009 according to ...)" wherever the date is shown."""

    field: Literal["date", "since", "until", "as_of", "value", "place"]
    value: str
    source: Slug
    note: str | None = None


class Founded(Strict):
    date: PartialDate
    place: Place | None = None
    note: Text | None = None
    source: Slug
    alternatives: list[Alternative] = []


class Secretariat(Strict):
    city: NonEmpty
    city_ja: str | None = None
    country: NonEmpty
    since: PartialDate | None = None
    until: PartialDate | None = None
    source: Slug
    note: str | None = None
    alternatives: list[Alternative] = []


class Status(Strict):
    value: Literal["active", "suspended", "merged", "ended"]
    as_of: PartialDate
    source: Slug
    note: str | None = None
    alternatives: list[Alternative] = []


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
    governance: list[Text] = []  # governing bodies
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
    since: PartialDate | None = None  # when the office opened, where a source says
    until: PartialDate | None = None  # when it closed or moved away: a former office
    as_of: PartialDate | None = None
    source: Slug
    note: str | None = None
    # the address with the source's typos fixed (see note); shown in the map's popup as it is
    address_corrected: str | None = Field(default=None, json_schema_extra={"popup": True})
    names_by: Literal["source", "atlas"] = "source"  # "atlas": a name in the other language is ours


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
    member: str | None = None  # the member's own name when it is not just the city
    member_ja: str | None = None
    member_kind: Slug | None = None  # vocabulary.member_kinds
    status: Slug | None = None  # vocabulary.member_statuses (empty: active)
    network_region: str | None = None  # the network's own regional grouping, as it writes it


class MemberListRow(Strict):
    """One row of a member list in ``data/member-lists/`` (one CSV per list, any number of rows).

    The columns named first are required in the header; coordinates may be empty (the geocoder
    then places the city: ``python -m geocoding``), and when given need all three."""

    organisation: Slug
    city: NonEmpty
    country: NonEmpty  # ISO 3166-1 alpha-2
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    precision: Precision | None = None
    since: PartialDate | None = None
    until: PartialDate | None = None
    as_of: PartialDate | None = None
    source: Slug
    note: str | None = None
    # optional columns
    city_ja: str | None = None
    member: str | None = None
    member_ja: str | None = None
    member_kind: Slug | None = None
    status: Slug | None = None
    network_region: str | None = None
    region: Slug | None = None  # only where the country has other_regions (Tomsk: north-asia)
    role: str | None = None

    @model_validator(mode="after")
    def _coordinates_whole(self) -> MemberListRow:
        given = [f for f in ("latitude", "longitude", "precision") if getattr(self, f) is not None]
        if given and len(given) < 3:
            missing = ", ".join(f for f in ("latitude", "longitude", "precision") if f not in given)
            raise ValueError(f"coordinates need latitude, longitude and precision together ({missing} empty)")
        return self


# The header a member list must have (the optional columns may follow in any order).
MEMBER_LIST_REQUIRED = (
    "organisation", "city", "country", "latitude", "longitude", "precision",
    "since", "until", "as_of", "source", "note",
)  # fmt: skip


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


EVENT_LABEL_MAX_JA, EVENT_LABEL_MAX_EN = 16, 32  # characters of an event's short label


class Event(Strict):
    id: Slug
    date: PartialDate
    precision: DatePrecision
    end_date: PartialDate | None = None
    organisation: Slug | None = None  # empty for world milestones
    kind: Slug  # vocabulary.event_kinds
    title_ja: NonEmpty
    title_en: NonEmpty
    status: Literal["seed", "confirmed", "secondary", "conflicting"]
    source: Slug
    note: str | None = None
    # a short label shown beside the event on the timeline (key events: foundings, renames,
    # secretariat moves, world milestones); the title stays in the hover and the table
    label_ja: str | None = Field(default=None, max_length=EVENT_LABEL_MAX_JA)
    label_en: str | None = Field(default=None, max_length=EVENT_LABEL_MAX_EN)


# ---------------------------------------------------------------- scenes.yaml
YEAR_MIN, YEAR_MAX = 1987, 2025  # the founding-year filter's range (dashboard.core.filters)
PAGES = ("overview", "map", "timeline", "membership", "compare", "sources")  # the app's pages, by URL path
Page = Literal["overview", "map", "timeline", "membership", "compare", "sources"]
Ids = Annotated[
    list[Slug],
    BeforeValidator(lambda v: [x.strip() for x in v.split(",") if x.strip()] if isinstance(v, str) else v),
]


def _years(value: object) -> object:
    """'1990,2010' (as in a link) or [1990, 2010]."""
    if isinstance(value, str):
        return [x.strip() for x in value.split(",")]
    return value


class Scene(Strict):
    """One saved view of a briefing: a page with the filters a link would carry (``years``,
    ``region``, ``kind``, ``org``, ``compare``), on the map a ``center`` and ``zoom``, and presenter
    notes. Values are ids, as in the app's links (``region: [east-asia]`` or ``region: east-asia``);
    whether they exist is checked against the vocabulary and organisations (dashboard.core.data)."""

    id: Slug
    title_ja: NonEmpty
    title_en: NonEmpty
    page: Page
    years: Annotated[tuple[int, int] | None, BeforeValidator(_years)] = None
    region: Ids = []
    kind: Ids = []
    org: Ids = []
    compare: Ids = Field(default=[], max_length=4)
    center: tuple[Annotated[float, Field(ge=-90, le=90)], Annotated[float, Field(ge=-180, le=180)]] | None = (
        None
    )
    zoom: int | None = Field(default=None, ge=1, le=18)
    notes_ja: str | None = None
    notes_en: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Scene:
        if self.years is not None:
            lo, hi = self.years
            if not YEAR_MIN <= lo <= hi <= YEAR_MAX:
                raise ValueError(
                    f"years {lo},{hi}: two years, the first not after the second, in {YEAR_MIN}-{YEAR_MAX}"
                )
        if (self.center is not None or self.zoom is not None) and self.page != "map":
            raise ValueError("center and zoom belong to a scene of the map page")
        if len(self.compare) == 1:
            raise ValueError("compare needs two to four organisations")
        return self
