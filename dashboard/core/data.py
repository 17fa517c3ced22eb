"""Read every data file into typed records and DataFrames, and check them across files.

Streamlit-free: the dashboard, the notebook, the geocoder and the tests all load data through
``load_atlas``. Every problem found is reported at once, each naming the file, the line or entry,
the field and the bad value (``AtlasDataError``); ``python -m dashboard validate`` prints them.
"""

from __future__ import annotations

import csv
import io
import reprlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, TypeVar

import pandas as pd
from pydantic import BaseModel, ValidationError

from dashboard.core import paths, text
from dashboard.core.places import MemberRecord, member_points, memberships_frame, office_points, points_frame
from dashboard.core.schema import (
    MEMBER_LIST_REQUIRED,
    Event,
    Geocoded,
    Member,
    MemberListRow,
    MembershipCount,
    Office,
    Organisation,
    Scene,
    Source,
    Vocabulary,
    parse_partial_date,
)
from geocoding.files import (
    MAX_CSV_BYTES,
    MAX_YAML_BYTES,
    FileProblem,
    YamlDuplicate,
    decode_utf8,
    load_yaml_limited,
    read_bytes_limited,
)
from geocoding.records import city_key

Severity = Literal["error", "warning"]
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the data, located precisely enough to fix it."""

    file: str
    where: str  # "line 12", "entry 3 (id: can)", or "" for the whole file
    field: str
    message: str
    value: str = ""
    severity: Severity = "error"
    whole_file: bool = False  # the file could not be used at all (its rows are all left out)

    def __post_init__(self) -> None:
        # Bounded, whatever the caller passed: a problem never carries (or prints) a huge value.
        for name, limit in (("where", 200), ("field", 200), ("message", 400), ("value", 200)):
            text = getattr(self, name)
            if not isinstance(text, str) or len(text) > limit:
                object.__setattr__(self, name, _short(text, limit))

    def __str__(self) -> str:
        loc = ", ".join(
            p for p in (self.file, self.where, f"field '{self.field}'" if self.field else "") if p
        )
        value = f" (value: {self.value!r})" if self.value else ""
        tag = "" if self.severity == "error" else "warning: "
        return f"{loc}: {tag}{self.message}{value}"


class AtlasDataError(Exception):
    """The data folder has problems; ``problems`` lists every one."""

    def __init__(self, problems: list[Problem], data_dir: Path):
        self.problems = problems
        self.data_dir = data_dir
        lines = "\n".join(f"- {p}" for p in problems)
        super().__init__(f"{len(problems)} problem(s) in the data in {data_dir}:\n{lines}")


# ---------------------------------------------------------------------------------- reading
# Past this many problems in one file, the rest are counted, not listed (a file that is not CSV at
# all would otherwise list a problem per line). Every row with an error is still left out.
MAX_PROBLEMS_PER_FILE = 200

_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxtuple, _REPR.maxdict, _REPR.maxset = 3, 5, 5, 5, 5
_REPR.maxstring = _REPR.maxother = 60


def _short(value: Any, limit: int = 80) -> str:
    """At most ``limit`` characters saying what ``value`` is. Never formats more than a bounded
    prefix: a string is cut before anything else, a list or mapping is shown a few items and
    levels deep (a YAML alias bomb or a 10 MB list costs nothing here)."""
    if value is None:
        return ""
    if isinstance(value, str):
        text = value[: limit + 1]
    elif isinstance(value, (bytes, bytearray)):
        text = repr(bytes(value[: limit + 1]))
    else:
        try:
            text = _REPR.repr(value)
        except Exception:  # e.g. an integer too long to write out
            text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def file_label(path: Path) -> str:
    """How problems name a data file: its name, with the folder for a member list."""
    return f"{paths.MEMBER_LISTS}/{path.name}" if path.parent.name == paths.MEMBER_LISTS else path.name


def _file_problem(name: str, exc: FileProblem) -> Problem:
    return Problem(name, f"line {exc.line}" if exc.line else "", "", exc.reason, whole_file=True)


def _read_text(path: Path, problems: list[Problem], limit: int) -> str | None:
    """The file as text (UTF-8, a byte-order mark tolerated), read with limits (geocoding.files):
    a regular file of at most ``limit`` bytes. None, with one problem naming it, otherwise."""
    name = file_label(path)
    try:
        text = decode_utf8(read_bytes_limited(path, limit), path)
    except FileProblem as exc:
        problems.append(_file_problem(name, exc))
        return None
    if not text.strip():
        problems.append(Problem(name, "", "", "file is empty", whole_file=True))
        return None
    return text


def _pydantic_problems(
    exc: ValidationError, file: str, where: str, severity: Severity = "error"
) -> Iterator[Problem]:
    errors = exc.errors(include_url=False, include_context=False)
    for err in errors[:MAX_FIELD_PROBLEMS]:
        loc = _short(".".join(_short(p, 60) for p in err["loc"]), 120)
        msg = _short(err["msg"].removeprefix("Value error, "), 300)
        if err["type"] == "extra_forbidden":
            msg = "is not a known field (check the spelling)"
        elif err["type"] == "missing":
            msg = "is required"
        value = "" if err["type"] == "missing" else _short(err.get("input"))
        yield Problem(file, where, loc, msg, value, severity)
    if len(errors) > MAX_FIELD_PROBLEMS:
        yield Problem(
            file, where, "", f"and {len(errors) - MAX_FIELD_PROBLEMS} more field problem(s)", "", severity
        )


MAX_FIELD_PROBLEMS = 20  # per entry or row


def _blank_to_none(row: dict[str, str]) -> dict[str, Any]:
    return {k: (v.strip() if v is not None and v.strip() else None) for k, v in row.items()}


def read_csv_records(
    path: Path, model: type[M], problems: list[Problem], required_header: Iterable[str] = ()
) -> list[tuple[int, M]]:
    """Read a CSV whose columns are ``model``'s fields; return (line number, record) pairs.

    The header must hold every required field of ``model`` and every column of
    ``required_header`` (a member list's fixed columns, even those that may be empty)."""
    text = _read_text(path, problems, MAX_CSV_BYTES)
    if text is None:
        return []
    name = file_label(path)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = reader.fieldnames or []
    except csv.Error as exc:
        problems.append(Problem(name, "line 1", "", f"is not valid CSV: {exc}", whole_file=True))
        return []
    faults = _header_faults(header, model, required_header)
    if faults:  # one message per fault of the header, none per row
        problems.extend(Problem(name, "line 1", fld, msg, whole_file=True) for fld, msg in faults)
        return []
    out: list[tuple[int, M]] = []
    csv_errors = 0
    while csv_errors < 20:  # past that the file is not CSV at all: the first errors say enough
        line = reader.line_num + 1  # where the next record starts
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(Problem(name, f"line {line}", "", f"is not valid CSV: {exc}"))
            csv_errors += 1
            continue
        if None in row:  # more cells than columns
            problems.append(
                Problem(name, f"line {line}", "", "row has more cells than the header has columns")
            )
            continue
        if any(v is None for v in row.values()):  # fewer cells: a truncated row
            absent = ", ".join(k for k, v in row.items() if v is None)
            msg = "row has fewer cells than the header has columns (truncated?)"
            problems.append(Problem(name, f"line {line}", absent, msg))
            continue
        if not any((v or "").strip() for v in row.values()):
            continue  # a blank line
        try:
            out.append((line, model.model_validate(_blank_to_none(row))))
        except ValidationError as exc:
            problems.extend(_pydantic_problems(exc, name, f"line {line}"))
    return out


def _header_faults(
    header: list[str], model: type[BaseModel], required_header: Iterable[str]
) -> list[tuple[str, str]]:
    """What is wrong with a CSV header, as (field, message) pairs: a column with no name, a column
    named twice (a later one would silently replace the first in every row), a required column
    missing, an unknown column. Empty when it is right."""
    expected = list(model.model_fields)
    required = [f for f, info in model.model_fields.items() if info.is_required()]
    required += [c for c in required_header if c not in required]
    faults: list[tuple[str, str]] = []
    blank = [str(i) for i, c in enumerate(header, start=1) if not c.strip()]
    if blank:
        faults.append(("", f"column {', '.join(blank[:10])} has no name in the header"))
    positions: dict[str, list[int]] = {}
    for i, c in enumerate(header, start=1):
        if c.strip():
            positions.setdefault(c, []).append(i)
    for col, where in positions.items():
        if len(where) > 1:
            at = " and ".join(str(i) for i in where[:5])
            faults.append((col, f"column is named {len(where)} times (columns {at}): rename the one meant"))
    missing = [c for c in required if c not in header]
    if missing:
        faults.append((", ".join(missing), "required column is missing"))
    unknown = [c for c in positions if c not in expected]
    if unknown:
        faults.append((", ".join(unknown[:20]), "unknown column (check the spelling)"))
    return faults


def _read_yaml(path: Path, problems: list[Problem]) -> tuple[Any, list[YamlDuplicate]]:
    """The YAML document in ``path``, read with limits (geocoding.files: size, nesting, aliases), and
    the keys given twice in one mapping. (None, []) with one problem naming the file otherwise."""
    text = _read_text(path, problems, MAX_YAML_BYTES)
    if text is None:
        return None, []
    try:
        return load_yaml_limited(text, path)
    except FileProblem as exc:
        problems.append(_file_problem(path.name, exc))
        return None, []


def _duplicate_problem(file: str, where: str, dup: YamlDuplicate) -> Problem:
    msg = f"is given twice (line {dup.first_line}, again on line {dup.line}): keep one"
    return Problem(file, where, dup.key, msg)


def _entry_where(i: int, entry: Any) -> str:
    ident = entry.get("id") if isinstance(entry, dict) else None
    return f"entry {i}" + (f" (id: {_short(ident, 60)})" if ident else "")


def read_yaml_list(path: Path, model: type[M], problems: list[Problem]) -> list[tuple[str, M]]:
    """Read a YAML file holding a list of entries; return (location, record) pairs."""
    doc, duplicates = _read_yaml(path, problems)
    if doc is None:
        return []
    if not isinstance(doc, list):
        problems.append(
            Problem(
                path.name, "", "", "must be a list of entries (each starting with '- id:')", whole_file=True
            )
        )
        return []
    twice: dict[int, list[YamlDuplicate]] = {}
    for dup in duplicates:
        if dup.entry is None:
            problems.append(_duplicate_problem(path.name, f"line {dup.line}", dup))
        else:
            twice.setdefault(dup.entry, []).append(dup)
    out = []
    for i, entry in enumerate(doc, start=1):
        where = _entry_where(i, entry)
        if not isinstance(entry, dict):
            problems.append(Problem(path.name, where, "", "must be a mapping of fields", _short(entry)))
            continue
        if i in twice:  # which of the two values was meant is not ours to guess: the entry is left out
            problems.extend(_duplicate_problem(path.name, where, d) for d in twice[i])
            continue
        try:
            out.append((where, model.model_validate(entry)))
        except ValidationError as exc:
            problems.extend(_pydantic_problems(exc, path.name, where))
        except (RecursionError, ValueError, TypeError) as exc:  # pragma: no cover (nesting is bounded)
            problems.append(Problem(path.name, where, "", f"cannot be read ({type(exc).__name__})"))
    return out


def _list_geo_id(rec: MemberListRow) -> str | None:
    """The geocoded.csv id that places a member list's row: its city's key, or None when the row
    gives its own coordinates."""
    return None if rec.latitude is not None else city_key(rec.city, rec.country)


def _unplaced_warnings(records: list[MemberRecord]) -> list[Problem]:
    """The member rows the geocoder has not placed yet: members.csv's by id, a member list's once per
    file (a large list just dropped in would otherwise give thousands)."""
    msg = "has no coordinates yet: run `python -m geocoding`"
    by_file: dict[str, list[MemberRecord]] = {}
    out = []
    for m in records:
        file, where = m.origin.split(", ", 1)
        if file == paths.MEMBERS:
            out.append(Problem(file, where, "id", msg, m.record.id, "warning"))
        else:
            by_file.setdefault(file, []).append(m)
    for file, items in by_file.items():
        first = items[0]
        where = first.origin.split(", ", 1)[1] if len(items) == 1 else f"{len(items)} rows"
        cities = sorted({m.record.city for m in items})
        shown = ", ".join(cities[:5]) + (f" and {len(cities) - 5} more" if len(cities) > 5 else "")
        out.append(Problem(file, where, "city", msg, _short(shown), "warning"))
    return out


# ---------------------------------------------------------------------------------- the atlas
@dataclass(frozen=True)
class Atlas:
    data_dir: Path
    vocabulary: Vocabulary
    source_records: dict[str, Source]
    organisation_records: dict[str, Organisation]
    sources: pd.DataFrame
    organisations: pd.DataFrame
    offices: pd.DataFrame
    members: pd.DataFrame
    membership: pd.DataFrame
    events: pd.DataFrame
    geocoded: pd.DataFrame
    points: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)  # errors (entries left out) and warnings
    scenes: list[Scene] = field(default_factory=list)  # the briefing's scenes (scenes.yaml), valid ones

    def org(self, org_id: str) -> Organisation:
        return self.organisation_records[org_id]

    def scene(self, scene_id: str | None) -> Scene | None:
        """The scene with this id (None for no id or an unknown one)."""
        return next((sc for sc in self.scenes if sc.id == scene_id), None)

    def label(self, vocab: str, term: str | None, lang: str = "en") -> str:
        """The display label of a vocabulary term (``vocab`` is e.g. 'regions', 'themes')."""
        if term is None:
            return ""
        entry = getattr(self.vocabulary, vocab).get(term)
        return text.label(entry, lang) if entry else term

    def source_title(self, source_id: str) -> str:
        src = self.source_records.get(source_id)
        return src.title if src else source_id


def _records_frame(records: Iterable[BaseModel], model: type[BaseModel]) -> pd.DataFrame:
    rows = [r.model_dump() for r in records]
    return pd.DataFrame(rows, columns=list(model.model_fields))


def nn(value: Any) -> Any:
    """``value``, or None when it is missing (None, NaN or pandas' NA)."""
    return None if value is None or (not isinstance(value, (list, dict)) and pd.isna(value)) else value


def _year(value: str | None) -> int | None:
    return parse_partial_date(value)[0].year if value else None


def _organisations_frame(orgs: dict[str, Organisation]) -> pd.DataFrame:
    rows = []
    for o in orgs.values():
        latest = o.secretariat[-1] if o.secretariat else None
        # the list is in time order: the last place is the current one unless it has an end date
        current = [latest] if latest is not None and latest.until is None else []
        rows.append(
            {
                "id": o.id,
                "name_en": o.name.en,
                "name_ja": o.name.ja,
                "short_en": o.name.short_en,
                "short_ja": o.name.short_ja,
                "kind": o.kind,
                "parent": o.parent.organisation if o.parent else None,
                "parent_relation": o.parent.type if o.parent else None,
                "founded": o.founded.date if o.founded else None,
                "founded_precision": parse_partial_date(o.founded.date)[1] if o.founded else None,
                "founded_year": _year(o.founded.date) if o.founded else None,
                "founded_place_en": o.founded.place.en if o.founded and o.founded.place else None,
                "founded_place_ja": o.founded.place.ja if o.founded and o.founded.place else None,
                "secretariat": "; ".join(f"{s.city} ({s.country})" for s in (current or [])) or None,
                "secretariat_city": latest.city if latest else None,
                "secretariat_country": latest.country if latest else None,
                "regions": list(o.regions),
                "status": o.status.value,
                "status_as_of": o.status.as_of,
                "website": o.website,
                "themes": list(o.themes),
                "sources": list(o.sources),
            }
        )
    df = pd.DataFrame(rows)
    if not df.empty:
        df["founded_year"] = df["founded_year"].astype("Int64")
    return df


def _collect_source_refs(obj: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every (field path, source id) inside a record: fields named 'source' or 'sources'."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            sub = f"{path}.{k}" if path else k
            if k == "source" and isinstance(v, str):
                yield sub, v
            elif k == "sources" and isinstance(v, list):
                for i, s in enumerate(v):
                    yield f"{sub}.{i}", s
            else:
                yield from _collect_source_refs(v, sub)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _collect_source_refs(v, f"{path}.{i}")


def _cross_check(
    vocab: Vocabulary | None,
    sources: list[tuple[str, Source]],
    orgs: list[tuple[str, Organisation]],
    tables: dict[str, list[tuple[str, BaseModel]]],
    geocoded: list[tuple[str, Geocoded]],
    problems: list[Problem],
    broken: set[str] = frozenset(),
) -> None:
    """Checks across files. A file in ``broken`` (unreadable as a whole) is not checked against: its
    problem already names it, and its absence says nothing about the rows that refer to it."""

    def unique(file: str, items: Iterable[tuple[str, Any]]) -> set[str]:
        seen: dict[str, str] = {}
        for where, rec in items:
            if rec.id in seen:
                problems.append(Problem(file, where, "id", f"duplicate id (first at {seen[rec.id]})", rec.id))
            else:
                seen[rec.id] = where
        return set(seen)

    source_ids = unique(paths.SOURCES, sources)
    org_ids = unique(paths.ORGANISATIONS, orgs)
    unique(paths.GEOCODED, geocoded)  # a row given twice is an error (and left out), not two places
    place_ids: dict[str, str] = {}
    for file, rows in tables.items():
        if not is_member_list(file):  # a member list's rows have no id
            ids = unique(file, rows)
        if file in (paths.OFFICES, paths.MEMBERS):
            for where, rec in rows:
                if rec.id in place_ids and place_ids[rec.id] != file:
                    problems.append(
                        Problem(file, where, "id", f"id is also used in {place_ids[rec.id]}", rec.id)
                    )
            place_ids.update(dict.fromkeys(ids, file))

    if paths.SEEDS_DIR.is_dir():
        for where, s in sources:
            if s.seed and not (paths.SEEDS_DIR / s.seed).exists():
                problems.append(Problem(paths.SOURCES, where, "seed", "no such file in shared/seeds", s.seed))

    def check(file: str, where: str, fld: str, value: str | None, allowed: Iterable[str], what: str) -> None:
        if value is not None and value not in allowed:
            problems.append(Problem(file, where, fld, f"unknown {what}", value))

    # source references everywhere
    if paths.SOURCES not in broken:
        for where, o in orgs:
            for fld, sid in _collect_source_refs(o.model_dump()):
                check(paths.ORGANISATIONS, where, fld, sid, source_ids, "source id (not in sources.yaml)")
        for file, rows in tables.items():
            for where, rec in rows:
                check(file, where, "source", rec.source, source_ids, "source id (not in sources.yaml)")

    # organisation references
    if paths.ORGANISATIONS not in broken:
        for where, o in orgs:
            rels = ([o.parent] if o.parent else []) + list(o.relations)
            for i, rel in enumerate(rels):
                fld = "parent.organisation" if (o.parent and i == 0) else "relations.organisation"
                check(paths.ORGANISATIONS, where, fld, rel.organisation, org_ids, "organisation id")
        for file, rows in tables.items():
            for where, rec in rows:
                check(file, where, "organisation", rec.organisation, org_ids, "organisation id")

    city_keys = {
        city_key(rec.city, rec.country)
        for file, rows in tables.items()
        if is_member_list(file)
        for _, rec in rows
        if rec.latitude is None
    }
    places_broken = any(f in broken for f in (paths.OFFICES, paths.MEMBERS)) or any(
        is_member_list(f) for f in broken
    )
    for where, g in [] if places_broken else geocoded:
        if g.id not in city_keys:
            what = "office or member id, or a member list's city"
            check(paths.GEOCODED, where, "id", g.id, place_ids, what)

    # dates that must agree with each other
    for file, rows in tables.items():
        for where, rec in rows:
            since, until = getattr(rec, "since", None), getattr(rec, "until", None)
            if since and until and parse_partial_date(since)[0] > parse_partial_date(until)[0]:
                problems.append(Problem(file, where, "until", f"is before since ({since})", until))
            if isinstance(rec, Event):
                actual = parse_partial_date(rec.date)[1]
                if actual != rec.precision:
                    msg = f"date {rec.date!r} is written to {actual} precision"
                    problems.append(Problem(file, where, "precision", msg, rec.precision))
            if isinstance(rec, MembershipCount) and rec.as_of is None and not rec.note:
                problems.append(
                    Problem(file, where, "note", "an undated count needs a note saying what date it implies")
                )
            if isinstance(rec, MembershipCount) and rec.members is not None and rec.qualifier is None:
                problems.append(Problem(file, where, "qualifier", "is required when members is given"))

    if vocab is None:
        return
    countries, regions = vocab.countries, vocab.regions
    for code, c in countries.items():
        for r in (c.region, *c.other_regions):
            check(paths.VOCABULARY, f"countries.{code}", "region", r, regions, "region")
    for where, o in orgs:
        f = paths.ORGANISATIONS
        check(f, where, "kind", o.kind, vocab.organisation_kinds, "organisation kind")
        for theme in o.themes:
            check(f, where, "themes", theme, vocab.themes, "theme")
        for r in o.regions:
            check(f, where, "regions", r, regions, "region")
        for rel in ([o.parent] if o.parent else []) + list(o.relations):
            check(f, where, "relations.type", rel.type, vocab.relations, "relation")
        for s in o.secretariat:
            check(f, where, "secretariat.country", s.country, countries, "country code")
        if o.founded and o.founded.place and o.founded.place.country:
            check(f, where, "founded.place.country", o.founded.place.country, countries, "country code")
    for file, rows in tables.items():
        for where, rec in rows:
            if hasattr(rec, "country"):
                check(file, where, "country", rec.country, countries, "country code (see vocabulary.yaml)")
                check(file, where, "region", rec.region, regions, "region")
                c = countries.get(rec.country)
                allowed = [c.region, *c.other_regions] if c else []
                if c and rec.region in regions and rec.region not in allowed:
                    msg = f"{rec.country} is in region {' or '.join(repr(r) for r in allowed)}"
                    problems.append(Problem(file, where, "region", msg, rec.region))
            if isinstance(rec, (Member, MemberListRow)):
                check(file, where, "member_kind", rec.member_kind, vocab.member_kinds, "member kind")
                check(file, where, "status", rec.status, vocab.member_statuses, "member status")
            if isinstance(rec, Office):
                check(file, where, "kind", rec.kind, vocab.office_kinds, "office kind")
            if isinstance(rec, Event):
                check(file, where, "kind", rec.kind, vocab.event_kinds, "event kind")
            if isinstance(rec, MembershipCount):
                check(file, where, "qualifier", rec.qualifier, vocab.qualifiers, "qualifier")


def _check_scenes(
    scenes: list[tuple[str, Scene]], vocab: Vocabulary | None, org_ids: set[str], problems: list[Problem]
) -> None:
    """What a scene names must exist: its id once, its regions, kinds and organisations (one with a
    bad value is left out with a message; the other scenes still work)."""
    seen: dict[str, str] = {}
    for where, sc in scenes:
        if sc.id in seen:
            problems.append(
                Problem(paths.SCENES, where, "id", f"duplicate id (first at {seen[sc.id]})", sc.id)
            )
        seen.setdefault(sc.id, where)
        allowed = {
            "region": (vocab.regions if vocab else {}, "region"),
            "kind": (vocab.organisation_kinds if vocab else {}, "kind of organisation"),
            "org": (org_ids, "organisation id"),
            "compare": (org_ids, "organisation id"),
        }
        for fld, (known, what) in allowed.items():
            for value in getattr(sc, fld):
                if value not in known:
                    problems.append(Problem(paths.SCENES, where, fld, f"unknown {what}", value))


def is_member_list(file: str) -> bool:
    """Whether a file label (see file_label) names a member list."""
    return file.startswith(f"{paths.MEMBER_LISTS}/")


def _read_vocabulary(path: Path, problems: list[Problem]) -> Vocabulary | None:
    doc, duplicates = _read_yaml(path, problems)
    problems.extend(_duplicate_problem(path.name, f"line {d.line}", d) for d in duplicates)
    if doc is None:
        return None
    try:
        return Vocabulary.model_validate(doc)
    except ValidationError as exc:
        found = list(_pydantic_problems(exc, path.name, ""))
        problems.extend(replace(p, whole_file=True) for p in found)
        return None
    except (RecursionError, ValueError, TypeError) as exc:  # pragma: no cover (nesting is bounded)
        problems.append(Problem(path.name, "", "", f"cannot be read ({type(exc).__name__})", whole_file=True))
        return None


# Without a readable vocabulary the atlas still shows its rows: terms as written, no region filter.
_NO_VOCABULARY = {key: {} for key in Vocabulary.model_fields}


def _cap(problems: list[Problem]) -> list[Problem]:
    """At most MAX_PROBLEMS_PER_FILE problems listed per file; the rest counted in one line."""
    shown: dict[str, int] = {}
    over: dict[str, list[Problem]] = {}
    out = []
    for p in problems:
        if shown.get(p.file, 0) < MAX_PROBLEMS_PER_FILE:
            shown[p.file] = shown.get(p.file, 0) + 1
            out.append(p)
        else:
            over.setdefault(p.file, []).append(p)
    for file, rest in over.items():
        errors = sum(p.severity == "error" for p in rest)
        severity: Severity = "error" if errors else "warning"
        msg = f"and {len(rest)} more problem(s) in this file ({errors} error(s)); fix the ones above first"
        out.append(Problem(file, "", "", msg, severity=severity))
    return out


def _load(data_dir: Path) -> tuple[Atlas | None, list[Problem]]:
    problems: list[Problem] = []
    vocab = _read_vocabulary(data_dir / paths.VOCABULARY, problems)
    sources = read_yaml_list(data_dir / paths.SOURCES, Source, problems)
    orgs = read_yaml_list(data_dir / paths.ORGANISATIONS, Organisation, problems)
    tables: dict[str, list[tuple[str, Any]]] = {}
    for file, model in (
        (paths.OFFICES, Office),
        (paths.MEMBERS, Member),
        (paths.MEMBERSHIP, MembershipCount),
        (paths.EVENTS, Event),
    ):
        tables[file] = [(f"line {n}", rec) for n, rec in read_csv_records(data_dir / file, model, problems)]
    for path in paths.member_list_files(data_dir):
        rows = read_csv_records(path, MemberListRow, problems, required_header=MEMBER_LIST_REQUIRED)
        tables[file_label(path)] = [(f"line {n}", rec) for n, rec in rows]

    # geocoded.csv is produced by `python -m geocoding`; gaps are warnings (the map leaves those rows out).
    geo_problems: list[Problem] = []
    geo_path = data_dir / paths.GEOCODED
    geocoded = (
        [(f"line {n}", g) for n, g in read_csv_records(geo_path, Geocoded, geo_problems)]
        if geo_path.exists()
        else []
    )
    problems.extend(geo_problems)
    # A file that could not be read at all is named once; what refers to it is not checked against
    # it (a broken sources.yaml does not make every row's source "unknown"), and its rows are out.
    broken = {p.file for p in problems if p.whole_file}
    _cross_check(vocab, sources, orgs, tables, geocoded, problems, broken)
    scenes_path = data_dir / paths.SCENES
    scenes = read_yaml_list(scenes_path, Scene, problems) if scenes_path.exists() else []  # optional
    _check_scenes(scenes, vocab, {o.id for _, o in orgs}, problems)

    # For the partial atlas: set aside every entry with an error, then whatever depends on one
    # that was set aside (a member of an organisation with an error), saying so as a warning.
    bad = {(p.file, p.where) for p in problems if p.severity == "error"}
    sources = [(w, r) for w, r in sources if (paths.SOURCES, w) not in bad]
    orgs = [(w, r) for w, r in orgs if (paths.ORGANISATIONS, w) not in bad]
    kept_orgs = {o.id for _, o in orgs}
    scenes = [(w, sc) for w, sc in scenes if (paths.SCENES, w) not in bad]
    for where, sc in scenes:
        for org_id in sorted(set(sc.org + sc.compare) - kept_orgs):
            msg = f"left out: organisation {org_id!r} has errors"
            problems.append(Problem(paths.SCENES, where, "org", msg, severity="warning"))
    scenes = [(w, sc) for w, sc in scenes if set(sc.org + sc.compare) <= kept_orgs]
    tables = {f: [(w, r) for w, r in rows if (f, w) not in bad] for f, rows in tables.items()}
    org_ids = {o.id for _, o in orgs}
    for file, rows in tables.items():
        kept = []
        for where, rec in rows:
            if rec.organisation is not None and rec.organisation not in org_ids and (file, where) not in bad:
                if paths.ORGANISATIONS not in broken:  # else the one problem naming the file says it
                    msg = f"left out: organisation {rec.organisation!r} has errors"
                    problems.append(Problem(file, where, "organisation", msg, severity="warning"))
            else:
                kept.append((where, rec))
        tables[file] = kept
    member_records = [
        MemberRecord(rec, f"{file}, {where}", rec.id if file == paths.MEMBERS else _list_geo_id(rec))
        for file, rows in tables.items()
        if file == paths.MEMBERS or is_member_list(file)
        for where, rec in rows
    ]
    wanted = {r.id for _, r in tables[paths.OFFICES]} | {m.geo_id for m in member_records if m.geo_id}
    geocoded = [(w, g) for w, g in geocoded if (paths.GEOCODED, w) not in bad and g.id in wanted]
    geo_ids = {g.id for _, g in geocoded}
    warnings = [
        Problem(
            paths.OFFICES, where, "id", "has no coordinates yet: run `python -m geocoding`", rec.id, "warning"
        )
        for where, rec in tables[paths.OFFICES]
        if rec.id not in geo_ids
    ]
    warnings += _unplaced_warnings([m for m in member_records if m.geo_id and m.geo_id not in geo_ids])
    if paths.GEOCODED in broken:  # said once: geocoded.csv cannot be read
        warnings = []
    problems = _cap(problems + warnings)
    if not orgs:
        return None, problems
    if vocab is None:
        vocab = Vocabulary.model_construct(**_NO_VOCABULARY)

    source_records = {s.id: s for _, s in sources}
    org_records = {o.id: o for _, o in orgs}
    sources_df = _records_frame(source_records.values(), Source)
    orgs_df = _organisations_frame(org_records)
    frames = {
        file: _records_frame((r for _, r in tables[file]), model)
        for file, model in (
            (paths.OFFICES, Office),
            (paths.MEMBERSHIP, MembershipCount),
            (paths.EVENTS, Event),
        )
    }
    geocoded_df = _records_frame((g for _, g in geocoded), Geocoded)
    geo = geocoded_df.set_index("id")
    offices = office_points((r for _, r in tables[paths.OFFICES]), geo, vocab)
    members, _ = member_points(member_records, geo, vocab)
    points = points_frame(offices + members)
    events = frames[paths.EVENTS]
    events["year"] = [parse_partial_date(d)[0].year for d in events["date"]]
    membership = frames[paths.MEMBERSHIP]
    membership["as_of_date"] = pd.to_datetime(
        [parse_partial_date(d)[0] if nn(d) else None for d in membership["as_of"]]
    )
    atlas = Atlas(
        data_dir=data_dir,
        vocabulary=vocab,
        source_records=source_records,
        organisation_records=org_records,
        sources=sources_df,
        organisations=orgs_df,
        offices=frames[paths.OFFICES],
        members=memberships_frame(points),
        membership=membership,
        events=events,
        geocoded=geocoded_df,
        points=points,
        problems=problems,
        scenes=[sc for _, sc in scenes],
    )
    return atlas, problems


def validate(data_dir: Path | None = None) -> list[Problem]:
    """Every problem in a data folder (errors and warnings); an empty list means all is well."""
    return _load(data_dir or paths.data_dir())[1]


def load_atlas(data_dir: Path | None = None) -> Atlas:
    """Load and check the data folder; raise AtlasDataError listing every error found."""
    folder = data_dir or paths.data_dir()
    atlas, problems = _load(folder)
    errors = [p for p in problems if p.severity == "error"]
    if atlas is None or errors:
        raise AtlasDataError(errors or problems, folder)
    return atlas


def load_atlas_partial(data_dir: Path | None = None) -> tuple[Atlas | None, list[Problem]]:
    """Load what is valid and list every problem; entries with errors (and what needs them) are left out.

    The dashboard uses this so one bad row shows a message naming it while every page keeps working
    on the rest. None only when nothing usable is left (no vocabulary or no organisation).
    """
    return _load(data_dir or paths.data_dir())
