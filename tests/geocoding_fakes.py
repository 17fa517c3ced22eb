"""Fakes for the geocoding tests: a clock whose sleep only moves time, a geocoder that records calls.

The fake geocoder returns real ``geopy.location.Location`` objects shaped like Nominatim's answers
(``raw`` with ``place_rank``, ``addresstype`` and ``address.country_code``), so the code under test
reads them exactly as it reads the real thing.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from geopy.location import Location


class FakeClock:
    """``clock()`` returns the fake time; ``sleep(s)`` records ``s`` and moves time forward."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)


def location(
    lat: float,
    lon: float,
    address: str,
    *,
    country_code: str | None,
    place_rank: int = 30,
    addresstype: str = "building",
    osm_id: int = 1,
) -> Location:
    raw: dict[str, Any] = {
        "lat": str(lat),
        "lon": str(lon),
        "display_name": address,
        "place_rank": place_rank,
        "addresstype": addresstype,
        "osm_type": "way",
        "osm_id": osm_id,
        "address": {"country_code": country_code.lower()} if country_code else {},
    }
    return Location(address, (lat, lon), raw)


def query_text(query: str | dict[str, str]) -> str:
    """A query as one string, to match answers: free text, or structured values joined by ', '."""
    return query if isinstance(query, str) else ", ".join(query.values())


@dataclass
class Call:
    query: str | dict[str, str]
    kwargs: dict[str, Any]
    at: float  # the fake clock when the call was made


@dataclass
class FakeGeocoder:
    """Answers by the query's text (``query_text``): a Location, None, an exception, or a list of
    those consumed one per call (the last repeats). Unknown queries get ``default``.

    ``duration`` is how long each call takes on the fake clock.
    """

    answers: dict[str, Any] = field(default_factory=dict)
    default: Any = None
    clock: FakeClock | None = None
    duration: float = 0.0
    on_call: Callable[[int], None] | None = None  # called with the call number (1-based), before answering
    calls: list[Call] = field(default_factory=list)

    def __call__(self, query: str | dict[str, str], **kwargs: Any) -> Location | None:
        self.calls.append(Call(query, kwargs, self.clock() if self.clock else 0.0))
        if self.on_call:
            self.on_call(len(self.calls))
        if self.clock and self.duration:
            self.clock.now += self.duration
        answer = self.answers.get(query_text(query), self.default)
        if isinstance(answer, list):
            answer = answer.pop(0) if len(answer) > 1 else answer[0]
        if isinstance(answer, BaseException):
            raise answer
        return answer

    @property
    def queries(self) -> list[str]:
        return [query_text(c.query) for c in self.calls]


FIXTURE = Path(__file__).parent / "fixtures" / "geocoding"


def copy_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the geocoding fixture data, with ATLAS_DATA_DIR pointing at it."""
    folder = tmp_path / "data"
    shutil.copytree(FIXTURE, folder)
    monkeypatch.setenv("ATLAS_DATA_DIR", str(folder))
    return folder
