"""Broken networks and broken disks: the geocoder keeps what it got and says what failed.

Two ways to break things: the fake geocoder of tests/geocoding_fakes.py (exceptions on chosen
calls), and a real HTTP server on 127.0.0.1 that misbehaves on purpose, with geopy's own Nominatim
client pointed at it (``domain="127.0.0.1:PORT", scheme="http"``), so geopy's real error handling
(status codes, Retry-After, JSON parsing, socket timeouts) is exercised. The clock and the sleep
are fakes: retries and rate limiting never wait for real (only the socket timeouts do, 0.2 s each).

After every fault: the cache holds every answer obtained before it; geocoded.csv is the old file or
a complete new one, never half written; the summary names what failed.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from dashboard.core import paths
from geocoding import Cache, Gazetteer
from geocoding.cli import main
from geocoding.online import nominatim_geocode
from geocoding.text import normalise_query
from tests.geocoding_fakes import FakeClock, FakeGeocoder, copy_fixture, location

ROOT = Path(__file__).resolve().parent.parent
AGENT = "climate-networks-atlas-tests/0.1 (fault injection on loopback)"
NEAR_BONN = (50.7205, 7.1185)
RIO = (-22.9068, -43.1729)  # another continent
OLD_GEOCODED = "id,latitude,longitude,precision,provider,query,place,geocoded_at\n" + (
    'iclei-bonn,50.73438,7.09549,city,gazetteer,"Bonn, DE",Bonn,2025-01-01T00:00:00Z\n'
)


# ---------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return Gazetteer()


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = copy_fixture(tmp_path, monkeypatch)
    (folder / paths.GEOCODED).write_text(OLD_GEOCODED, encoding="utf-8")  # the previous run's output
    return folder


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def nominatim_place(lat: float, lon: float, name: str, country_code: str, rank: int = 30) -> dict:
    return {
        "place_id": 1,
        "osm_type": "way",
        "osm_id": 42,
        "lat": str(lat),
        "lon": str(lon),
        "display_name": name,
        "place_rank": rank,
        "addresstype": "building",
        "address": {"country_code": country_code},
    }


Reply = tuple[int, dict[str, str], bytes] | str  # (status, headers, body), or "hang"


class FakeNominatim:
    """A loopback HTTP server; ``reply(n, query)`` decides the answer to request number ``n``."""

    def __init__(self, reply: Callable[[int, dict[str, str]], Reply]) -> None:
        self.reply = reply
        self.requests: list[dict[str, str]] = []
        self.release = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}
                outer.requests.append(query)
                answer = outer.reply(len(outer.requests), query)
                if answer == "hang":
                    outer.release.wait(30)
                    return
                if answer == "slow":
                    time.sleep(1.0)  # longer than the client's 0.2 s timeout
                    answer = (200, {}, b"[]")
                status, headers, body = answer
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args) -> None:  # keep the test output clean
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeNominatim:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def geocode(self, timeout: float = 2.0):
        """The product's own Nominatim client (geopy), pointed at this server."""
        return nominatim_geocode(AGENT, timeout=timeout, domain=f"127.0.0.1:{self.port}", scheme="http")


def ok(places: list[dict]) -> Reply:
    return (200, {}, json.dumps(places).encode())


def bonn_or_nothing(_n: int, query: dict[str, str]) -> Reply:
    """Finds the Bonn office by its street; nothing else."""
    if query.get("street", "").startswith("Kaiser-Friedrich"):
        return ok([nominatim_place(*NEAR_BONN, "Kaiser-Friedrich-Straße 7, Bonn", "de")])
    return ok([])


def run(gazetteer, clock, geocode, *args: str) -> int:
    return main(
        [*args, "--no-progress"], geocode=geocode, clock=clock, sleep=clock.sleep, gazetteer=gazetteer
    )


def geocoded(folder: Path) -> dict[str, dict[str, str]]:
    text = (folder / paths.GEOCODED).read_text(encoding="utf-8")
    return {r["id"]: r for r in csv.DictReader(io.StringIO(text))}


def nominatim_entries(folder: Path) -> dict[str, dict]:
    entries = json.loads((folder / paths.GEOCODING_CACHE).read_text(encoding="utf-8"))["entries"]
    return {k: v for k, v in entries.items() if k.startswith("nominatim|")}


def assert_complete_output(folder: Path) -> None:
    """geocoded.csv has every office and member (the gazetteer fills in what the network did not)."""
    rows = geocoded(folder)
    assert len(rows) == 8, sorted(rows)
    assert not list(folder.glob(".*.tmp")), "a temporary file was left behind"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------------- the real client
def test_the_loopback_server_answers_like_nominatim(gazetteer, clock, data, capsys):
    with FakeNominatim(bonn_or_nothing) as server:
        assert run(gazetteer, clock, server.geocode()) == 0
    assert all(q.get("format") == "json" for q in server.requests)
    assert geocoded(data)["iclei-bonn"]["provider"] == "nominatim"
    assert_complete_output(data)


def test_connection_refused_falls_back_offline_without_waiting(gazetteer, clock, data, capsys):
    geocode = nominatim_geocode(AGENT, timeout=2, domain=f"127.0.0.1:{free_port()}", scheme="http")
    assert run(gazetteer, clock, geocode) == 0
    out = capsys.readouterr()
    assert "Nominatim unreachable from iclei-bonn" in out.out
    assert "GeocoderUnavailable" in out.out
    assert clock.sleeps[:1] == [2]  # backed off on the fake clock, not for real
    assert [s for s in clock.sleeps if s > 1] == [2, 4, 8]  # four tries, then offline
    assert nominatim_entries(data) == {}  # errors are never cached
    assert {r["provider"] for r in geocoded(data).values()} == {"gazetteer"}
    assert_complete_output(data)


def test_timeouts_are_retried_then_the_run_goes_offline(gazetteer, clock, data, capsys):
    with FakeNominatim(lambda _n, _q: "slow") as server:
        assert run(gazetteer, clock, server.geocode(timeout=0.2), "--timeout", "0.2") == 0
    assert len(server.requests) == 4  # the default policy: four tries, then offline
    out = capsys.readouterr()
    assert "GeocoderTimedOut" in out.out + out.err
    assert "Nominatim unreachable" in out.out
    assert_complete_output(data)


def test_429_honours_retry_after_on_the_fake_clock(gazetteer, clock, data, capsys):
    def reply(n: int, query: dict[str, str]) -> Reply:
        if n == 1:
            return (429, {"Retry-After": "37"}, b'{"error": "rate limited"}')
        return bonn_or_nothing(n, query)

    with FakeNominatim(reply) as server:
        assert run(gazetteer, clock, server.geocode()) == 0
    assert 37 in clock.sleeps  # the server's Retry-After, not the 2 s backoff, on the fake clock
    # only our retry asked again (geopy's transport layer would retry on its own, sleeping for real)
    assert server.requests[0] == server.requests[1]  # the same query asked again
    assert geocoded(data)["iclei-bonn"]["provider"] == "nominatim"
    assert "GeocoderRateLimited" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("body", "status", "named"),
    [
        (b"<html>Internal Server Error</html>", 500, "Non-successful status code 500"),
        (b'[{"lat": "50.7", "lon": "7.1", "display_na', 200, "Could not deserialize"),
        (b'{"unexpected": "shape"}', 200, "Nominatim"),
        (b'[{"lat": "not a number", "lon": "7.1", "display_name": "x"}]', 200, "Nominatim"),
        (b'[{"display_name": "no coordinates"}]', 200, "Nominatim"),
        (b"[42]", 200, "Nominatim"),
    ],
    ids=["http-500", "truncated-json", "wrong-shape", "bad-number", "no-coordinates", "not-an-object"],
)
def test_server_errors_and_malformed_answers_keep_earlier_results(
    gazetteer, clock, data, capsys, body, status, named
):
    # The first three requests are answered well; then the service breaks.
    def reply(n: int, query: dict[str, str]) -> Reply:
        return bonn_or_nothing(n, query) if n <= 3 else (status, {}, body)

    with FakeNominatim(reply) as server:
        code = run(gazetteer, clock, server.geocode())
    out = capsys.readouterr()
    assert code == 0, out.out + out.err
    assert "Traceback" not in out.err
    assert named in out.out, out.out
    answered = nominatim_entries(data)
    assert len(answered) == 3  # every answer before the fault is cached...
    assert any(e.get("found") for e in answered.values())  # ...Bonn's street address among them
    assert geocoded(data)["iclei-bonn"]["provider"] == "nominatim"
    assert_complete_output(data)
    assert len(server.requests) <= 4 + 3  # no hammering a broken service: offline after the fault


def test_a_result_on_the_wrong_continent_is_rejected_and_named(gazetteer, clock, data, capsys):
    def reply(_n: int, query: dict[str, str]) -> Reply:
        if "Bonn" in json.dumps(query):
            return ok([nominatim_place(*RIO, "Rio de Janeiro, Brazil", "br")])
        return ok([])

    with FakeNominatim(reply) as server:
        assert run(gazetteer, clock, server.geocode()) == 0
    out = capsys.readouterr().out
    assert "iclei-bonn: nominatim" in out
    assert "the provider places it in BR, not DE (Germany)" in out
    bonn = geocoded(data)["iclei-bonn"]
    assert (bonn["provider"], bonn["place"]) == ("gazetteer", "Bonn")  # not Rio


def test_a_wrong_continent_without_a_country_code_is_caught_by_the_bounding_box(
    gazetteer, clock, data, capsys
):
    def reply(_n: int, query: dict[str, str]) -> Reply:
        if "Bonn" in json.dumps(query):
            place = nominatim_place(*RIO, "somewhere", "de")
            place["address"] = {}  # no country code: only the coordinates can tell
            return ok([place])
        return ok([])

    with FakeNominatim(reply) as server:
        assert run(gazetteer, clock, server.geocode()) == 0
    assert "outside the bounding box of Germany" in capsys.readouterr().out
    assert geocoded(data)["iclei-bonn"]["provider"] == "gazetteer"


# ---------------------------------------------------------------------------------- killed mid-run
KILLED_RUN = """
import sys
sys.path.insert(0, {root!r})
from geopy.geocoders import Nominatim
from tests.geocoding_fakes import FakeClock
from geocoding.cli import main
from geocoding.online import nominatim_geocode

clock = FakeClock()
geocode = Nominatim(user_agent="atlas-tests", domain="127.0.0.1:{port}", scheme="http", timeout=60).geocode
sys.exit(main(["--no-progress"], geocode=geocode, clock=clock, sleep=clock.sleep))
"""


def test_a_run_killed_while_waiting_for_the_network_leaves_old_output_and_cached_answers(
    gazetteer, clock, data
):
    def reply(n: int, query: dict[str, str]) -> Reply:
        return bonn_or_nothing(n, query) if n <= 3 else "hang"  # the 4th request never returns

    old_cache = None
    with FakeNominatim(reply) as server:
        script = KILLED_RUN.format(root=str(ROOT), port=server.port)
        env = {**os.environ, "ATLAS_DATA_DIR": str(data)}
        proc = subprocess.Popen([sys.executable, "-c", script], env=env, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 60
            while len(server.requests) < 4 and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.05)
            assert len(server.requests) == 4, proc.stderr.read().decode() if proc.poll() is not None else ""
            os.kill(proc.pid, signal.SIGKILL)  # a power cut, kill -9
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)
            proc.stderr.close()
        assert proc.returncode == -signal.SIGKILL
        old_cache = nominatim_entries(data)

    assert (data / paths.GEOCODED).read_text(encoding="utf-8") == OLD_GEOCODED  # the old file, whole
    assert len(old_cache) == 3  # the three answers received before the kill
    assert not list(data.glob(".*.tmp"))

    # the next run resumes: what was answered is not asked again
    rerun = FakeGeocoder(clock=clock)
    assert run(gazetteer, clock, rerun) == 0
    assert len(rerun.calls) > 0
    answered = {key.split("|", 1)[1] for key in old_cache}
    asked_again = {normalise_query(q) for q in rerun.queries} & answered
    assert not asked_again, asked_again
    assert geocoded(data)["iclei-bonn"]["provider"] == "nominatim"
    assert_complete_output(data)


# ---------------------------------------------------------------------------------- disk full
class DiskFull:
    """Makes ``os.fdopen(..., "w"|"wb")`` hand out files that fill the disk from write number ``after``+1.

    Such a file writes half of what it is given, then raises OSError(ENOSPC), as a full disk does,
    so the real ``atomic_write_text`` has to cope with a half-written temporary file.
    """

    def __init__(self, after: int) -> None:
        self.after = after
        self.opened = 0
        self.real = os.fdopen

    def __call__(self, fd, mode="r", *args, **kwargs):
        fh = self.real(fd, mode, *args, **kwargs)
        if "w" not in mode:
            return fh
        self.opened += 1
        if self.opened <= self.after:
            return fh
        real_write = fh.write

        def write(text):
            real_write(text[: len(text) // 2])
            fh.flush()
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        fh.write = write
        return fh


def test_disk_full_while_caching_keeps_what_was_saved_and_the_old_output(
    gazetteer, clock, data, capsys, monkeypatch
):
    monkeypatch.setattr("geocoding.files.os.fdopen", DiskFull(after=3))
    fake = FakeGeocoder(
        answers={
            "Kaiser-Friedrich-Str. 7, 53113, Bonn, Germany": location(*NEAR_BONN, "Bonn", country_code="de")
        },
        clock=clock,
    )
    code = run(gazetteer, clock, fake)
    out = capsys.readouterr()
    assert code == 2
    assert "No space left on device" in out.err
    assert str(data / paths.GEOCODING_CACHE) in out.err  # names the file it could not write
    assert "Traceback" not in out.err
    monkeypatch.undo()
    cache = Cache.load(data / paths.GEOCODING_CACHE)  # a valid file: the last complete write
    assert len(cache.entries) == 3  # the three answers saved before the disk filled up
    assert (data / paths.GEOCODED).read_text(encoding="utf-8") == OLD_GEOCODED
    assert not list(data.glob(".*.tmp"))


def test_disk_full_while_writing_the_output_keeps_the_old_file(gazetteer, clock, data, capsys, monkeypatch):
    assert run(gazetteer, clock, None, "--offline") == 0  # fills the cache; writes geocoded.csv
    before = (data / paths.GEOCODED).read_text(encoding="utf-8")
    cache_before = (data / paths.GEOCODING_CACHE).read_text(encoding="utf-8")
    capsys.readouterr()
    (data / paths.MEMBERS).write_text(
        (data / paths.MEMBERS).read_text(encoding="utf-8")
        + "iclei-freiburg,iclei,Freiburg,,DE,europe,,,,2025-01,seed-lgma,\n",
        encoding="utf-8",
    )
    disk = DiskFull(after=1)  # the cache write for Freiburg succeeds, geocoded.csv does not fit
    monkeypatch.setattr("geocoding.files.os.fdopen", disk)
    code = run(gazetteer, clock, None, "--offline")
    out = capsys.readouterr()
    assert code == 2
    assert "No space left on device" in out.err
    assert str(data / paths.GEOCODED) in out.err
    assert (data / paths.GEOCODED).read_text(encoding="utf-8") == before  # old file, whole
    assert not list(data.glob(".*.tmp"))
    monkeypatch.undo()
    cache = Cache.load(data / paths.GEOCODING_CACHE)
    assert len(cache.entries) == len(json.loads(cache_before)["entries"]) + 1  # Freiburg was kept
