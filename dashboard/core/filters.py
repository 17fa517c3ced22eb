"""The filters every page shares, their URL form, and what they select. Streamlit-free.

A copied link reopens the same view: ``to_query_params`` writes the filters into the URL and
``from_query_params`` reads them back, ignoring (and reporting) anything malformed or unknown.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import pandas as pd

from dashboard.core.data import Atlas
from dashboard.core.places import restrict
from dashboard.core.schema import PAGES, YEAR_MAX, YEAR_MIN, Scene
from dashboard.core.text import DEFAULT_LANG, LANGS, t

__all__ = ["PAGES", "YEAR_MAX", "YEAR_MIN", "Filters", "Parsed", "Selection", "from_query_params",
           "scene_filters", "select", "to_query_params"]  # fmt: skip
# The one parameter the app receives in place of a link Streamlit dropped as too long (see
# dashboard/shell/streamlit_private.py): "fields.<count>.<limit>" or "length.<characters>.<limit>".
LINK_DROPPED = "_atlas_link_dropped"
_DROPPED = re.compile(r"^(fields|length)\.(\d{1,12})\.(\d{1,12})$")


@dataclass(frozen=True)
class Filters:
    years: tuple[int, int] = (YEAR_MIN, YEAR_MAX)
    regions: tuple[str, ...] = ()  # empty: every region
    kinds: tuple[str, ...] = ()  # empty: every kind of organisation
    organisations: tuple[str, ...] = ()  # empty: every organisation
    lang: str = DEFAULT_LANG
    present: bool = False  # presentation mode (projector)
    compare: tuple[str, ...] = ()  # organisations chosen on the Compare page
    scene: str | None = None  # the briefing scene shown (data/scenes.yaml), if any

    def view(self) -> Filters:
        """What these filters select and show, whatever the presenting (the key of every cache)."""
        return replace(self, present=False, scene=None)


@dataclass
class Parsed:
    filters: Filters
    notices: list[str] = field(default_factory=list)


def _values(params: Mapping[str, str | Sequence[str]], key: str) -> list[str]:
    raw = params.get(key)
    if raw is None:
        return []
    items = [raw] if isinstance(raw, str) else list(raw)
    out: list[str] = []
    for item in items:
        out.extend(v.strip() for v in str(item).split(",") if v.strip())
    return out


class Notice(str):
    """A notice about the link, in English as a string, and in either language with ``text(lang)``.

    ``what`` (if given) is a catalogue key naming the parameter; the other values are shown as given.
    """

    key: str
    values: dict[str, str]

    def __new__(cls, key: str, **values: str) -> Notice:
        obj = super().__new__(cls, _notice_text(key, values, "en"))
        obj.key, obj.values = key, values
        return obj

    def text(self, lang: str) -> str:
        return _notice_text(self.key, self.values, lang)


def _notice_text(key: str, values: dict[str, str], lang: str) -> str:
    shown = {k: (t(v, lang) if k == "what" else v) for k, v in values.items()}
    return t(key, lang, **shown)


def _pick(
    params: Mapping, key: str, allowed: Sequence[str], notices: list[str], what: str
) -> tuple[str, ...]:
    chosen, unknown = [], []
    for v in _values(params, key):
        (chosen if v in allowed else unknown).append(v)
    if unknown:
        notices.append(Notice("notice_unknown", what=what, values=", ".join(sorted(set(unknown)))[:200]))
    return tuple(dict.fromkeys(chosen))


def scene_filters(scene: Scene, lang: str = DEFAULT_LANG, present: bool = True) -> Filters:
    """The filters a scene shows (its page and map view are the app's to apply)."""
    return Filters(
        years=tuple(scene.years) if scene.years else (YEAR_MIN, YEAR_MAX),
        regions=tuple(scene.region),
        kinds=tuple(scene.kind),
        organisations=tuple(scene.org),
        lang=lang,
        present=present,
        compare=tuple(scene.compare),
        scene=scene.id,
    )


SCENE_ZOOM = 4  # a map scene with a center and no zoom: a region's view


def scene_view(scene: Scene) -> dict | None:
    """A map scene's view for the map (``center`` and ``zoom``), or None: the map fits its points."""
    if scene.page != "map" or scene.center is None:
        return None
    return {"center": scene.center, "zoom": scene.zoom or SCENE_ZOOM}


def from_query_params(params: Mapping[str, str | Sequence[str]], atlas: Atlas) -> Parsed:
    """Read filters from URL parameters; never raises. Bad values are dropped with a notice.

    ``scene=<id>`` starts from that scene's filters (data/scenes.yaml); a filter the link also gives
    replaces the scene's."""
    notices: list[str] = []
    marker = _values(params, LINK_DROPPED)
    dropped = _DROPPED.match(marker[0]) if marker else None
    if dropped:  # Streamlit read nothing of the link: say so, as for any other malformed link
        kind, n, limit = dropped.group(1), int(dropped.group(2)), int(dropped.group(3))
        key = "notice_link_fields" if kind == "fields" else "notice_link_length"
        notices.append(Notice(key, n=f"{n:,}", limit=f"{limit:,}"))
        params = {k: v for k, v in params.items() if k != LINK_DROPPED}
    raw_scene = _values(params, "scene")[:1]
    scenes = {sc.id: sc for sc in atlas.scenes}
    scene = scenes.get(raw_scene[0]) if raw_scene else None
    if raw_scene and scene is None:
        notices.append(Notice("notice_scene", values=raw_scene[0][:80]))
    base = scene_filters(scene) if scene else Filters()
    years = base.years
    raw_years = _values(params, "years")
    if raw_years:
        try:
            lo, hi = (int(float(x)) for x in raw_years[:2]) if len(raw_years) >= 2 else (None, None)
            if lo is None:
                raise ValueError
            clamped = (max(YEAR_MIN, min(lo, hi, YEAR_MAX)), min(YEAR_MAX, max(lo, hi, YEAR_MIN)))
            if clamped != (lo, hi):
                notices.append(Notice("notice_years_adjusted", lo=str(clamped[0]), hi=str(clamped[1])))
            years = clamped
        except (ValueError, OverflowError, TypeError):
            notices.append(Notice("notice_years_malformed", values=",".join(raw_years)[:80]))

    def given(key: str, allowed: Sequence[str], what: str, default: tuple[str, ...]) -> tuple[str, ...]:
        return _pick(params, key, allowed, notices, what) if key in params else default

    regions = given("region", list(atlas.vocabulary.regions), "what_region", base.regions)
    kinds = given("kind", list(atlas.vocabulary.organisation_kinds), "what_kind", base.kinds)
    org_ids = list(atlas.organisation_records)
    orgs = given("org", org_ids, "what_org", base.organisations)
    compare = given("compare", org_ids, "what_compare", base.compare)
    if len(compare) > 4:
        notices.append(Notice("notice_compare_four", values=", ".join(compare[4:])[:200]))
    raw_lang = _values(params, "lang")
    lang = next((v for v in raw_lang if v in LANGS), DEFAULT_LANG)  # the first language the atlas has
    bad_lang = [v for v in raw_lang if v not in LANGS]
    if bad_lang:
        notices.append(Notice("notice_lang", values=", ".join(bad_lang)[:40]))
    raw_present = _values(params, "present")[:1]
    present = raw_present == ["1"]
    if raw_present and raw_present[0] not in ("0", "1"):
        notices.append(Notice("notice_present", values=raw_present[0][:40]))
    known = {"years", "region", "kind", "org", "compare", "lang", "present", "scene"}
    extra = sorted(k for k in params if k not in known)
    if extra:
        notices.append(Notice("notice_settings", values=", ".join(extra)[:200]))
    filters = Filters(years, regions, kinds, orgs, lang, present, compare[:4], scene.id if scene else None)
    return Parsed(filters, notices)


def to_query_params(f: Filters) -> dict[str, str]:
    """The URL form of the filters; default values are left out so links stay short."""
    out: dict[str, str] = {}
    if f.years != (YEAR_MIN, YEAR_MAX):
        out["years"] = f"{f.years[0]},{f.years[1]}"
    for key, values in (("region", f.regions), ("kind", f.kinds), ("org", f.organisations),
                        ("compare", f.compare)):  # fmt: skip
        if values:
            out[key] = ",".join(values)
    out["lang"] = f.lang
    if f.present:
        out["present"] = "1"
    if f.scene:
        out["scene"] = f.scene
    return out


@dataclass(frozen=True)
class Selection:
    """What the filters select, table by table."""

    filters: Filters
    organisations: pd.DataFrame
    points: pd.DataFrame  # the places on the map (dashboard.core.places.POINT_COLUMNS)
    offices: pd.DataFrame
    members: pd.DataFrame  # one row per membership (dashboard.core.places.memberships_frame)
    membership: pd.DataFrame
    events: pd.DataFrame  # the selected organisations' events plus world milestones in the year range

    @property
    def org_ids(self) -> list[str]:
        return list(self.organisations["id"])

    @property
    def empty(self) -> bool:
        return self.organisations.empty


def _region_match(regions: list[str], wanted: set[str]) -> bool:
    return not wanted or "global" in regions or bool(wanted & set(regions))


def select(atlas: Atlas, f: Filters) -> Selection:
    """Apply the filters.

    An organisation is selected when its founding year lies in the year range (one whose founding
    date no source gives stays selected), it works in a chosen region (global networks work in
    every region), it is of a chosen kind and among the chosen organisations. Map points must
    also lie in a chosen region themselves.
    """
    orgs = atlas.organisations
    lo, hi = f.years
    wanted_regions = set(f.regions)
    keep = orgs["founded_year"].isna() | orgs["founded_year"].between(lo, hi)
    keep &= orgs["regions"].map(lambda r: _region_match(r, wanted_regions)).astype(bool)
    if f.kinds:
        keep &= orgs["kind"].isin(f.kinds)
    if f.organisations:
        keep &= orgs["id"].isin(f.organisations)
    selected = orgs[keep.fillna(False).astype(bool)].reset_index(drop=True)
    ids = set(selected["id"])

    def by_org(df: pd.DataFrame, regional: bool = False) -> pd.DataFrame:
        mask = df["organisation"].isin(ids)
        if regional and wanted_regions:
            mask &= df["region"].isin(wanted_regions)
        return df[mask].reset_index(drop=True)

    points = restrict(atlas.points, ids)  # a place in several networks keeps the selected ones
    if wanted_regions and not points.empty:
        points = points[points["region"].isin(wanted_regions)].reset_index(drop=True)

    ev = atlas.events
    world = ev["organisation"].isna() & ev["year"].between(lo, hi)
    events = ev[ev["organisation"].isin(ids) | world].reset_index(drop=True)
    return Selection(
        filters=f,
        organisations=selected,
        points=points,
        offices=by_org(atlas.offices, regional=True),
        members=by_org(atlas.members, regional=True),
        membership=by_org(atlas.membership),
        events=events,
    )
