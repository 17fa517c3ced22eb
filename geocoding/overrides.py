"""Manual coordinates from ``data/geocoding_overrides.yaml``: they always win, and each names its source."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .records import PartialDate, Precision, Slug


class OverrideError(Exception):
    """The overrides file is unreadable or an entry is invalid; the message names file, entry and field."""


class Override(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

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
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise OverrideError(f"{path}: cannot read the overrides ({exc})") from exc
    if data is None:
        return {}
    if not isinstance(data, list):
        raise OverrideError(
            f"{path}: expected a list of entries (id, latitude, longitude, precision, source, note)"
        )
    out: dict[str, Override] = {}
    for i, raw in enumerate(data, start=1):
        where = f"{path}: entry {i}"
        if isinstance(raw, dict) and raw.get("id"):
            where += f" (id {raw['id']})"
        try:
            item = Override.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'entry'}: {e['msg']}" for e in exc.errors()
            )
            raise OverrideError(f"{where}: {problems}") from exc
        if item.id in out:
            raise OverrideError(f"{where}: id {item.id} is listed twice")
        out[item.id] = item
    return out
