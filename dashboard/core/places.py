"""The places on the map: offices, former offices and member places, each one point. Streamlit-free.

A member city is one identity across networks: its GeoNames id (from ``geocoded.csv``, which the geocoder
fills from its gazetteer), else its name and country (``city-jp-kitakyushu``). Every membership that
names the city (``members.csv`` and every member list in ``member-lists/``) becomes an entry of that one
point's ``memberships``; the same organisation named twice for one place is one membership with every
source. A member that is not the city itself (its ``member_kind`` is one of ``OWN_PLACE_KINDS``: an
NGO, an association...) is its own point, at its city's coordinates.

The table has one row per point and the columns of :data:`POINT_COLUMNS`; ``memberships`` holds tuples
of :class:`Membership`. Display text (labels in a language, source titles) is not stored here: the
pages, the map and the briefing pack take it from the catalogue and the vocabulary when they draw.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

import pandas as pd

from dashboard.core.schema import Member, MemberListRow, Office, Vocabulary, parse_partial_date, popup_fields
from dashboard.core.text import localized, second_language, t
from geocoding.records import city_key, slugify

# Kinds of member that are not the city they sit in: each is a point of its own.
OWN_PLACE_KINDS = frozenset({"ngo", "association", "institution", "company", "network", "university"})
# Statuses that mean the membership is over (as does an ``until`` date).
ENDED_STATUSES = frozenset({"former"})

# The office fields the map's popup shows as plain text, marked in the schema (a new one needs no code here).
POPUP_FIELDS: tuple[str, ...] = popup_fields(Office)
# The columns of the places table, in order: the one definition (the map, the tables, the briefing
# pack, the notebook and the benchmarks read these).
POINT_COLUMNS: tuple[str, ...] = tuple(dict.fromkeys((
    "id", "point_type", "organisation", "organisations", "n_networks",
    "name_en", "name_ja", "names_by", "kind", "member_kind",
    "address", "city", "city_ja", "country", "region", "website",
    "lat", "lon", "precision", "provider", "geonameid",
    "since", "until", "source", "as_of", "note", "memberships", *POPUP_FIELDS,
)))  # fmt: skip
POINT_TYPES = ("office", "former-office", "member")


class Membership(NamedTuple):
    """One organisation's membership of one place, as every source that names it says. (A named tuple:
    hashed and compared in C, so 100,000 points group fast.)"""

    organisation: str
    member: str | None = None  # the member's own name when it is not just the city ("Dhaka North")
    member_ja: str | None = None
    member_kind: str | None = None
    since: str | None = None
    until: str | None = None
    status: str | None = None  # vocabulary.member_statuses; None: active
    role: str | None = None
    network_region: str | None = None
    as_of: str | None = None
    sources: tuple[str, ...] = ()
    note: str | None = None

    @property
    def current(self) -> bool:
        return self.until is None and self.status not in ENDED_STATUSES

    @property
    def source(self) -> str | None:
        return self.sources[0] if self.sources else None


@dataclass(frozen=True)
class MemberRecord:
    """A membership row from members.csv or a member list, with where it came from."""

    record: Member | MemberListRow
    origin: str  # "members.csv, line 4"
    geo_id: str | None  # the geocoded.csv id that places it (None: the row gives coordinates)


def _earliest(a: str | None, b: str | None) -> str | None:
    if not a or not b:
        return a or b
    return a if parse_partial_date(a)[0] <= parse_partial_date(b)[0] else b


def _latest(a: str | None, b: str | None) -> str | None:
    if not a or not b:
        return a or b
    return a if parse_partial_date(a)[0] >= parse_partial_date(b)[0] else b


def _merge(old: Membership, new: Membership) -> Membership:
    """Two rows naming the same organisation for the same place: one membership, every source."""
    ended = (old.until is not None or old.status in ENDED_STATUSES) and (
        new.until is not None or new.status in ENDED_STATUSES
    )
    notes = [n for n in (old.note, new.note) if n]
    return old._replace(
        member=old.member or new.member,
        member_ja=old.member_ja or new.member_ja,
        member_kind=old.member_kind or new.member_kind,
        since=_earliest(old.since, new.since),
        until=_latest(old.until, new.until) if ended else None,
        status=old.status if old.status == new.status else (old.status or new.status),
        role=old.role or new.role,
        network_region=old.network_region or new.network_region,
        as_of=_latest(old.as_of, new.as_of),
        sources=tuple(dict.fromkeys((*old.sources, *new.sources))),
        note=" / ".join(dict.fromkeys(notes)) or None,
    )


def _region(rec: Member | MemberListRow | Office, vocabulary: Vocabulary) -> str | None:
    given = getattr(rec, "region", None)
    if given:
        return given
    country = vocabulary.countries.get(rec.country)
    return country.region if country else None


def place_identity(rec: Member | MemberListRow, geonameid: int | None) -> str:
    """The id of the point a membership row belongs to (see the module)."""
    if rec.member and rec.member_kind in OWN_PLACE_KINDS:
        return f"member-{rec.country.lower()}-{slugify(rec.member)}"
    if geonameid is not None:
        return f"gn{geonameid}"
    return city_key(rec.city, rec.country)


def _coordinates(rec: Any, geo: pd.DataFrame, geo_id: str | None) -> dict[str, Any] | None:
    if geo_id is None:  # a member list's row that gives its own coordinates
        return {
            "lat": float(rec.latitude),
            "lon": float(rec.longitude),
            "precision": rec.precision,
            "provider": "member list",
            "geonameid": None,
        }
    if geo_id not in geo.index:
        return None
    g = geo.loc[geo_id]
    geonameid = g.get("geonameid")
    return {
        "lat": float(g["latitude"]),
        "lon": float(g["longitude"]),
        "precision": g["precision"],
        "provider": g["provider"],
        "geonameid": None if pd.isna(geonameid) else int(geonameid),
    }


def office_points(offices: Iterable[Office], geo: pd.DataFrame, vocabulary: Vocabulary) -> list[dict]:
    """One point per office with coordinates; a former office (``until``) is its own point type."""
    rows = []
    for o in offices:
        where = _coordinates(o, geo, o.id)
        if where is None:
            continue
        rows.append(
            {
                **where,
                "id": o.id,
                "point_type": "former-office" if o.until else "office",
                "organisation": o.organisation,
                "organisations": (o.organisation,),
                "n_networks": 1,
                "name_en": o.name,
                "name_ja": o.name_ja or o.name,
                "names_by": o.names_by,
                "kind": o.kind,
                "member_kind": None,
                "address": o.address,
                **{f: getattr(o, f) for f in POPUP_FIELDS},
                "city": o.city,
                "city_ja": o.city_ja,
                "country": o.country,
                "region": _region(o, vocabulary),
                "website": o.website,
                "since": o.since,
                "until": o.until,
                "source": o.source,
                "as_of": o.as_of,
                "note": o.note,
                "memberships": (),
            }
        )
    return rows


def member_points(
    records: Iterable[MemberRecord], geo: pd.DataFrame, vocabulary: Vocabulary
) -> tuple[list[dict], list[MemberRecord]]:
    """One point per member place (see the module), and the records that have no coordinates yet."""
    places: dict[str, dict[str, Any]] = {}
    unplaced: list[MemberRecord] = []
    for item in records:
        rec = item.record
        where = _coordinates(rec, geo, item.geo_id)
        if where is None:
            unplaced.append(item)
            continue
        pid = place_identity(rec, where["geonameid"])
        membership = Membership(
            organisation=rec.organisation,
            member=rec.member,
            member_ja=rec.member_ja,
            member_kind=rec.member_kind,
            since=rec.since,
            until=rec.until,
            status=rec.status,
            role=rec.role,
            network_region=rec.network_region,
            as_of=rec.as_of,
            sources=(rec.source,),
            note=rec.note,
        )
        place = places.get(pid)
        if place is None:
            own = pid.startswith("member-")
            place = places[pid] = {
                **where,
                "id": pid,
                "point_type": "member",
                "name_en": rec.member if own else rec.city,
                "name_ja": (rec.member_ja or rec.member) if own else (rec.city_ja or rec.city),
                "names_by": "source",
                "kind": "member",
                "member_kind": rec.member_kind,
                "address": None,
                **dict.fromkeys(POPUP_FIELDS),
                "city": rec.city,
                "city_ja": rec.city_ja,
                "country": rec.country,
                "region": _region(rec, vocabulary),
                "website": None,
                "since": None,
                "until": None,
                "note": None,
                "_memberships": {},
            }
        elif rec.city_ja and not place["city_ja"]:
            place["city_ja"] = rec.city_ja
            if place["name_ja"] == place["city"]:
                place["name_ja"] = rec.city_ja
        known = place["_memberships"]
        old = known.get(rec.organisation)
        known[rec.organisation] = membership if old is None else _merge(old, membership)
    rows = []
    for place in places.values():
        memberships = tuple(place.pop("_memberships").values())
        rows.append(_with_memberships(place, memberships))
    return rows, unplaced


# The fields of a member point that come from its memberships (_with_memberships).
_MEMBERSHIP_FIELDS = ("organisation", "organisations", "n_networks", "source", "as_of", "memberships")


def _with_memberships(place: dict[str, Any], memberships: tuple[Membership, ...]) -> dict[str, Any]:
    """A member point's organisation fields from its memberships (current ones first)."""
    ordered = tuple(sorted(memberships, key=lambda m: not m.current))
    first = ordered[0]
    return {
        **place,
        "organisation": first.organisation,
        "organisations": tuple(m.organisation for m in ordered),
        "n_networks": len({m.organisation for m in ordered if m.current}),
        "source": first.source,
        "as_of": first.as_of,
        "memberships": ordered,
    }


def points_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=list(POINT_COLUMNS))
    df["geonameid"] = df["geonameid"].astype("Int64")
    df["n_networks"] = df["n_networks"].astype("int64")
    return df


def restrict(points: pd.DataFrame, org_ids: set[str]) -> pd.DataFrame:
    """The points of these organisations: an office of one of them, or a member place with at least one
    of their memberships, which then lists only theirs."""
    if points.empty:
        return points.reset_index(drop=True)
    keep = points["organisations"].map(lambda orgs: any(o in org_ids for o in orgs)).astype(bool)
    out = points[keep].copy()
    others = out["organisations"].map(lambda orgs: any(o not in org_ids for o in orgs)).astype(bool)
    changed = others & (out["point_type"] == "member")
    if changed.any():
        # one assignment per column, not per cell (that was most of a filter change's time at 2,800 points)
        idx = out.index[changed]
        updated = [
            _with_memberships({}, tuple(m for m in ms if m.organisation in org_ids))
            for ms in out.loc[changed, "memberships"]
        ]
        for key in _MEMBERSHIP_FIELDS:
            out.loc[idx, key] = pd.Series([u[key] for u in updated], index=idx, dtype=out[key].dtype)
    return out.reset_index(drop=True)


def memberships_frame(points: pd.DataFrame) -> pd.DataFrame:
    """One row per membership of the member points: place id, organisation, the place's name, city and
    country, and the membership's own fields (for tables, counts and the several-networks view)."""
    rows = []
    for p in points[points["point_type"] == "member"].itertuples(index=False):
        for m in p.memberships:
            rows.append(
                {
                    "place": p.id,
                    "organisation": m.organisation,
                    "name_en": p.name_en,
                    "name_ja": p.name_ja,
                    "city": p.city,
                    "city_ja": p.city_ja,
                    "country": p.country,
                    "region": p.region,
                    "member": m.member,
                    "member_ja": m.member_ja,
                    "member_kind": m.member_kind,
                    "since": m.since,
                    "until": m.until,
                    "status": m.status,
                    "current": m.current,
                    "as_of": m.as_of,
                    "source": m.source,
                    "sources": m.sources,
                    "note": m.note,
                }
            )
    columns = [
        "place", "organisation", "name_en", "name_ja", "city", "city_ja", "country", "region",
        "member", "member_ja", "member_kind", "since", "until", "status", "current", "as_of", "source",
        "sources", "note",
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def names_for(row: Any, lang: str) -> tuple[str, str | None]:
    """A place's name in ``lang`` and in the other language (None when the same), a Japanese name that
    no source writes (``names_by: atlas``) marked as the atlas's own rendering."""
    name = localized(row, "name", lang) or str(row["id"])
    other = localized(row, "name", second_language(lang)) or None
    ja = row.get("name_ja") if hasattr(row, "get") else row["name_ja"]
    if row["names_by"] == "atlas" and ja and ja != row["name_en"]:
        marker = f" ({t('names_by_atlas', lang)})"
        name = name + marker if name == ja else name
        other = other + marker if other == ja else other
    return name, (other if other != name else None)
