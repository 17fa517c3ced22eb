"""Manual coordinates from ``data/geocoding_overrides.yaml``: they always win, and each names its source."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .files import MAX_YAML_BYTES, FileMissing, FileProblem, load_yaml_limited, read_text_limited
from .records import PartialDate, Precision, Slug


class OverrideError(Exception):
    """The overrides file is unreadable or an entry is invalid; the message names file, entry and field."""


class Override(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, cache_strings=False)

    id: Slug  # an office or member id
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    precision: Precision
    # where the coordinate comes from: a URL or an id from sources.yaml
    source: str = Field(min_length=1)
    note: str | None = None
    as_of: PartialDate | None = None  # when the coordinate was read from the source


def load_overrides(path: Path) -> dict[str, Override]:
    """Overrides by id. A missing file means none; an empty file or ``[]`` too."""
    try:
        data, duplicates = load_yaml_limited(read_text_limited(path, MAX_YAML_BYTES), path)
    except FileMissing:
        return {}
    except FileProblem as exc:
        raise OverrideError(f"{exc} (the manual coordinates: fix the file, then run again)") from None
    if duplicates:
        d = duplicates[0]
        where = f"entry {d.entry}" if d.entry is not None else f"line {d.line}"
        raise OverrideError(
            f"{path}: {where}: {d.key} is given twice (line {d.first_line}, again on line {d.line}): keep one"
        )
    if data is None:
        return {}
    if not isinstance(data, list):
        raise OverrideError(
            f"{path}: expected a list of entries (id, latitude, longitude, precision, source, note)"
        )
    out: dict[str, Override] = {}
    for i, raw in enumerate(data, start=1):
        where = f"{path}: entry {i}"
        if isinstance(raw, dict) and isinstance(raw.get("id"), str) and raw["id"]:
            where += f" (id {raw['id'][:60]})"
        try:
            item = Override.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p)[:60] for p in e['loc']) or 'entry'}: {e['msg'][:200]}"
                for e in exc.errors(include_url=False)[:10]
            )
            raise OverrideError(f"{where}: {problems}") from None
        if item.id in out:
            raise OverrideError(f"{where}: id {item.id} is listed twice")
        out[item.id] = item
    return out
