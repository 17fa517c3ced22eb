"""The geocoding cache: a committed JSON file that never loses a result.

Keyed by provider and normalised query. Rewritten atomically (temporary file in the same folder,
then ``os.replace``) after every new online result, so a run killed at any moment leaves either the
old or the new file, never half of one, and the next run resumes where it stopped without asking
Nominatim again. The offline gazetteer's results, which take it microseconds to find again, are
written with the next online result or once at the end of the run (``flush``): rewriting the whole
file for each of them made a new member list of 2,500 cities take minutes (bench/). A better precision
is never replaced by a worse one; "no result" is kept with its date; errors are never stored.
A file that cannot be read stops the run and is left exactly as it is.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from .files import atomic_write_text
from .records import PRECISIONS
from .text import precision_rank

FORMAT = "atlas-geocoding-cache"
VERSION = 1


class CacheError(Exception):
    """The cache file is unreadable or not a cache; the message names the file and the problem."""


@dataclass(frozen=True)
class Entry:
    provider: str  # nominatim, gazetteer
    query: str  # the query as sent (display form)
    found: bool
    checked_at: str  # ISO 8601 UTC: when the provider answered
    latitude: float | None = None
    longitude: float | None = None
    precision: str | None = None  # address, street, postcode, city, country
    place: str | None = None  # the name the provider returned
    country_code: str | None = None  # ISO alpha-2 the provider put the place in, when it says
    detail: str | None = None  # provider-specific: OSM object, GeoNames id, ...

    @property
    def rank(self) -> int:
        return precision_rank(self.precision) if self.found else 0


def cache_key(provider: str, query_key: str) -> str:
    return f"{provider}|{query_key}"


class Cache:
    """In memory: dict of key -> Entry. ``put`` writes the file at once (when a path is set)."""

    def __init__(self, path: Path | None, entries: dict[str, Entry] | None = None) -> None:
        self.path = path
        self.entries: dict[str, Entry] = dict(entries or {})
        self.writes = 0
        self.unsaved = 0  # entries put with save=False and not written yet

    @classmethod
    def load(cls, path: Path) -> Cache:
        """Read ``path`` (a missing file is an empty cache). Raises CacheError, never rewrites."""
        if not path.exists():
            return cls(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CacheError(f"{path}: cannot read the geocoding cache ({exc})") from exc
        if not text.strip():
            raise CacheError(_corrupt(path, "the file is empty"))
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CacheError(
                _corrupt(path, f"not valid JSON at line {exc.lineno}, column {exc.colno}")
            ) from exc
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise CacheError(_corrupt(path, f'no "format": "{FORMAT}" header'))
        if data.get("version") != VERSION:
            raise CacheError(_corrupt(path, f"version {data.get('version')!r}, this program reads {VERSION}"))
        raw_entries = data.get("entries")
        if not isinstance(raw_entries, dict):
            raise CacheError(_corrupt(path, '"entries" is not an object'))
        entries: dict[str, Entry] = {}
        for key, raw in raw_entries.items():
            try:
                entry = Entry(**raw)
            except TypeError as exc:
                raise CacheError(_corrupt(path, f"entry {key!r}: {exc}")) from exc
            problem = _check(entry)
            if problem:
                raise CacheError(_corrupt(path, f"entry {key!r}: {problem}"))
            entries[key] = entry
        return cls(path, entries)

    def get(self, provider: str, query_key: str) -> Entry | None:
        return self.entries.get(cache_key(provider, query_key))

    def put(self, key_provider: str, query_key: str, entry: Entry, *, save: bool = True) -> Entry:
        """Store ``entry`` unless the cache holds a better precision; return the entry kept.

        "No result" never replaces a result; a result replaces "no result"; among results the
        better precision stays (a tie is replaced, so a refresh updates the coordinates). The file is
        written at once, or with ``save=False`` at the next write or :meth:`flush`.
        """
        problem = _check(entry)
        if problem:
            raise ValueError(f"refusing to cache {entry}: {problem}")
        key = cache_key(key_provider, query_key)
        old = self.entries.get(key)
        if old is not None and old.found and entry.rank < old.rank:
            return old
        if old is not None and old.found and not entry.found:
            return old
        self.entries[key] = entry
        if save:
            self.save()
        else:
            self.unsaved += 1
        return entry

    def flush(self) -> None:
        """Write the entries put with ``save=False``, if any."""
        if self.unsaved:
            self.save()

    def save(self) -> None:
        if self.path is None:
            return
        data = {
            "format": FORMAT,
            "version": VERSION,
            "about": (
                "Answers of geocoding providers, keyed by provider|normalised query. Written by "
                "`python -m geocoding`; see the README. Safe to commit; do not edit by hand."
            ),
            "entries": {k: _compact(asdict(v)) for k, v in sorted(self.entries.items())},
        }
        atomic_write_text(self.path, json.dumps(data, ensure_ascii=False, indent=1) + "\n")
        self.writes += 1
        self.unsaved = 0


def _compact(d: dict) -> dict:
    return {k: v for k, v in d.items() if v is not None}


def _check(entry: Entry) -> str | None:
    if not entry.provider or not entry.query or not entry.checked_at:
        return "provider, query and checked_at are required"
    if entry.found:
        if entry.latitude is None or entry.longitude is None:
            return "a result without coordinates"
        if not (-90 <= entry.latitude <= 90 and -180 <= entry.longitude <= 180):
            return f"coordinates out of range ({entry.latitude}, {entry.longitude})"
        if entry.precision not in PRECISIONS:
            return f"precision {entry.precision!r} is not one of {', '.join(PRECISIONS)}"
    return None


def _corrupt(path: Path, why: str) -> str:
    return (
        f"{path}: the geocoding cache is corrupt ({why}). The file was left untouched for inspection; "
        "repair it (git diff / git checkout shows the committed version) or move it away to start an "
        "empty cache, then run again."
    )
