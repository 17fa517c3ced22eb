"""``make serve``: deploy/serve.py runs Streamlit replicas behind Debian's nginx on loopback.

The supervisor is started as ``make serve`` starts it (``python deploy/serve.py``), with a short
health interval; its ``status.json`` tells which replica has which port and pid. Which replica
answered is nginx's ``X-Atlas-Replica`` header. Everything is on 127.0.0.1, every wait is bounded.

Without nginx the tests skip (``make nginx`` installs it), except under CI=true, where a missing
nginx fails them, as a missing Chromium fails the browser tests.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import urllib.request
from collections import Counter
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

import pytest

from bench._serve import NGINX, Served, ServeError, alive, serving
from bench._server import free_port
from bench.wsclient import ROUTE_COOKIE, open_session
from dashboard.atlasmap import builder as mapping
from dashboard.core import paths
from deploy import serve

pytestmark = pytest.mark.serve

DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def need_nginx() -> None:
    if shutil.which(NGINX) is None:
        message = f"{NGINX} is missing: `make nginx` installs Debian's nginx"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI must test make serve)")
        pytest.skip(message)


# ---------------------------------------------------------------------------------- helpers
def get(url: str, route: str | None = None) -> tuple[int, Message, bytes]:
    headers = {"Cookie": f"{ROUTE_COOKIE}={route}"} if route else {}
    with DIRECT.open(urllib.request.Request(url, headers=headers), timeout=30) as r:
        return r.status, r.headers, r.read()


def answered_by(served: Served, route: str | None = None) -> tuple[int, str]:
    """(replica index, the route nginx set) for one health request."""
    status, headers, body = get(served.url + "/_stcore/health", route)
    assert (status, body) == (200, b"ok")
    cookies = [c for c in headers.get_all("Set-Cookie") if c.startswith(f"{ROUTE_COOKIE}=")]
    assert len(cookies) == 1, headers.get_all("Set-Cookie")
    return served.replica_of(headers["X-Atlas-Replica"]), cookies[0].split(";")[0].split("=", 1)[1]


def listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def family(pid: int) -> list[int]:
    """A process and all its descendants (nginx's master and workers)."""
    import psutil

    proc = psutil.Process(pid)
    return [pid] + [c.pid for c in proc.children(recursive=True)]


@contextlib.contextmanager
def supervisor(tmp: Path, replicas: int, *extra: str) -> Iterator[Served]:
    need_nginx()
    try:
        with serving(tmp, replicas, *extra) as served:
            yield served
    except ServeError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with supervisor(tmp_path_factory.mktemp("serve"), 2, "--restart-delay", "3") as s:
        yield s


# ---------------------------------------------------------------------------------- the config
def test_the_config_pins_by_cookie_proxies_websockets_and_marks_dead_replicas_down(tmp_path):
    sup = serve.Supervisor(replicas=3, port=8599, address="127.0.0.1", run_dir=tmp_path, nginx=NGINX)
    sup._replicas = [serve.Replica(i, 40000 + i, tmp_path / f"r{i}.log") for i in range(3)]
    sup._replicas[0].in_rotation = sup._replicas[2].in_rotation = True
    text = sup.config_text()
    assert "server 127.0.0.1:40000 max_fails=1 fail_timeout=5s;" in text
    assert "server 127.0.0.1:40001 max_fails=1 fail_timeout=5s down;" in text
    assert "server 127.0.0.1:40002 max_fails=1 fail_timeout=5s;" in text
    assert "hash $atlas_route consistent;" in text
    assert "map $cookie_atlas_route $atlas_route" in text
    assert "ip_hash" not in text.replace("Not ip_hash", "")
    assert "proxy_set_header Upgrade $http_upgrade;" in text
    assert "proxy_set_header Connection $connection_upgrade;" in text
    assert "proxy_read_timeout 1d;" in text
    assert "listen 127.0.0.1:8599;" in text
    assert "daemon off;" in text
    assert "{{" not in text
    # every path nginx writes is in the run folder
    for directive in ("pid", "error_log", "access_log", "client_body_temp_path", "proxy_temp_path"):
        lines = [ln.strip() for ln in text.splitlines() if ln.strip().startswith(directive + " ")]
        assert lines, directive
        assert all(ln.split()[1].startswith((str(tmp_path), "stderr")) for ln in lines), lines


def test_nginx_accepts_the_generated_config(tmp_path):
    need_nginx()
    sup = serve.Supervisor(replicas=2, port=free_port(), address="127.0.0.1", run_dir=tmp_path, nginx=NGINX)
    sup._replicas = [serve.Replica(i, free_port(), tmp_path / f"r{i}.log") for i in range(2)]
    sup._replicas[1].in_rotation = True
    for sub in ("logs", "tmp"):
        (tmp_path / sub).mkdir()
    sup._write_config()
    check = subprocess.run(sup._nginx_cmd("-t"), capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stderr


# ---------------------------------------------------------------------------------- serving
def test_the_app_is_served_through_nginx_health_page_and_websocket_session(served):
    assert f"open {served.url}" in served.output()  # where to open it is printed
    status, headers, body = get(served.url + "/_stcore/health")
    assert (status, body) == (200, b"ok")
    assert headers["Server"] == "nginx"
    status, headers, body = get(served.url + "/map?lang=en")
    assert status == 200
    assert b'<div id="root">' in body  # Streamlit's page
    s = open_session(served.url, "map", "lang=en", timeout=120)
    assert s.status == "finished"
    assert s.exceptions() == []
    assert mapping.shown_points(s.components("st_folium")[0]["feature_group"]) > 0
    assert s.stream_replica == s.replica  # the websocket went where the page came from (the cookie)
    assert ROUTE_COOKIE in s.cookies


def test_streamlit_s_own_files_are_kept_by_nginx_and_sent_compressed(served):
    """A fresh browser asks for about 110 of Streamlit's files; 50 browsers at once would cost the
    replicas more than the pages' script runs. nginx asks a replica once and keeps the file."""
    _, _, page = get(served.url + "/map?lang=en")
    script = re.search(rb'src="\.?/?(static/js/index\.[\w-]+\.js)"', page)
    assert script, page[:2000]
    url = f"{served.url}/{script.group(1).decode()}"
    first = DIRECT.open(urllib.request.Request(url, headers={"Accept-Encoding": "gzip"}), timeout=30)
    again = DIRECT.open(urllib.request.Request(url, headers={"Accept-Encoding": "gzip"}), timeout=30)
    plain = DIRECT.open(urllib.request.Request(url), timeout=30)
    with first, again, plain:
        assert first.headers["X-Atlas-Cache"] in ("MISS", "HIT")  # HIT if an earlier test asked for it
        assert again.headers["X-Atlas-Cache"] == "HIT"
        assert again.headers["X-Atlas-Replica"] in (None, "")  # no replica was asked
        assert again.headers["Content-Encoding"] == "gzip"
        body, packed = plain.read(), again.read()
        assert gzip.decompress(packed) == body
        assert len(packed) < len(body) / 2
    # what is not one of those files is never kept: the page, the health check
    for path in ("/map?lang=en", "/_stcore/health"):
        status, headers, _ = get(served.url + path)
        assert status == 200
        assert headers.get("X-Atlas-Cache") in (None, "", "BYPASS"), (path, headers.get("X-Atlas-Cache"))


def test_the_cookie_pins_a_client_and_clients_without_it_spread(served):
    served.wait_rotation({0, 1})
    first = [answered_by(served) for _ in range(24)]
    spread = Counter(replica for replica, _ in first)
    assert set(spread) == {0, 1}, spread  # 24 new clients all on one replica: 2 in 2**24
    for replica, route in (next(f for f in first if f[0] == i) for i in (0, 1)):
        again = [answered_by(served, route) for _ in range(8)]
        assert {r for r, _ in again} == {replica}
        assert {rt for _, rt in again} == {route}  # nginx gives the same route back
    # a whole session (page, health, websocket) with a route stays on its replica
    replica, route = first[0]
    s = open_session(served.url, "", "lang=en", cookies={ROUTE_COOKIE: route}, timeout=120)
    assert served.replica_of(s.replica) == served.replica_of(s.stream_replica) == replica


def test_a_replica_that_stops_answering_leaves_the_rotation_and_comes_back(served):
    served.wait_rotation({0, 1})
    routes = {}
    for _ in range(40):
        replica, route = answered_by(served)
        routes.setdefault(replica, route)
        if len(routes) == 2:
            break
    pid = served.status()["replicas"][0]["pid"]
    os.kill(pid, signal.SIGSTOP)  # alive but not answering its health check
    try:
        served.wait_rotation({1}, timeout=30)
        assert {answered_by(served)[0] for _ in range(10)} == {1}
        assert answered_by(served, routes[0])[0] == 1  # its clients are served by the other
    finally:
        os.kill(pid, signal.SIGCONT)
    served.wait_rotation({0, 1}, timeout=30)
    assert served.status()["replicas"][0]["pid"] == pid  # the same process, back in
    assert answered_by(served, routes[0])[0] == 0  # and its clients go back to it


def test_when_no_replica_answers_in_time_they_stay_in_the_rotation(served):
    """Fail open: replicas too busy to answer their health check (a room opening the link at once)
    stay in nginx's rotation while they run; taking them all out would answer everyone with 502."""
    served.wait_rotation({0, 1})
    pids = [r["pid"] for r in served.status()["replicas"]]
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        status = served.wait_for(
            "both replicas unhealthy", lambda s: all(r["state"] == "unhealthy" for r in s["replicas"]), 30
        )
        assert all(r["in_rotation"] for r in status["replicas"]), status
        assert "no replica answers in time: replicas [0, 1] stay in rotation" in served.output()
        config = (served.run_dir / "nginx.conf").read_text(encoding="utf-8")
        assert " down;" not in config  # nginx still sends requests to them
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)
    served.wait_for("both healthy", lambda s: all(r["state"] == "healthy" for r in s["replicas"]), 30)
    assert answered_by(served)[0] in (0, 1)


def test_a_killed_replica_new_sessions_go_to_the_live_one_and_it_is_restarted(served):
    served.wait_rotation({0, 1})
    before = served.status()["replicas"][1]
    os.kill(before["pid"], signal.SIGKILL)
    status = served.wait_for("replica 1 out", lambda s: s["replicas"][1]["state"] == "dead", timeout=20)
    assert not status["replicas"][1]["in_rotation"]
    # within the restart delay (3 s): every new session lands on replica 0
    sessions = [open_session(served.url, "", "lang=en", timeout=60) for _ in range(3)]
    assert {served.replica_of(s.stream_replica) for s in sessions} == {0}
    assert all(s.status == "finished" for s in sessions)
    after = served.wait_rotation({0, 1}, timeout=60)["replicas"][1]
    assert after["restarts"] == before["restarts"] + 1
    assert after["pid"] != before["pid"]
    assert "replica 1: process ended" in served.output()


def test_a_replica_hung_for_too_long_is_restarted(tmp_path):
    with supervisor(tmp_path, 1, "--hung-after", "1", "--restart-delay", "0.5") as s:
        before = s.status()["replicas"][0]
        os.kill(before["pid"], signal.SIGSTOP)
        try:
            # the only replica stays in the rotation while it runs (fail open) until it is restarted
            hung = s.wait_for("replica 0 unhealthy", lambda st: st["replicas"][0]["state"] == "unhealthy", 30)
            assert hung["replicas"][0]["in_rotation"]
            s.wait_for(
                "replica 0 restarted", lambda st: st["replicas"][0]["pid"] != before["pid"], timeout=30
            )
            after = s.wait_rotation({0}, timeout=60)["replicas"][0]
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(before["pid"], signal.SIGCONT)
        assert after["pid"] != before["pid"]
        assert after["restarts"] == 1
        assert not alive(before["pid"])
        assert "not answering for 1 s: restarting it" in s.output()
        assert answered_by(s)[0] == 0


def test_as_root_a_run_folder_nginx_s_workers_cannot_enter_is_refused(tmp_path):
    """As root nginx's workers run as another user: in a private folder they could keep no cached or
    temporary file (every large response would fail). The supervisor says so and starts nothing."""
    need_nginx()
    if os.geteuid() != 0:
        pytest.skip("only as root do nginx's workers run as another user")
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    done = subprocess.run(
        [sys.executable, str(serve.__file__), "--replicas", "1", "--port", str(free_port()),
         "--run-dir", str(private / "run")],
        cwd=paths.ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "nginx's workers run as another user and cannot enter /" in done.stdout
    assert "choose a --run-dir" in done.stdout
    assert "replica 0: started" not in done.stdout


# ---------------------------------------------------------------------------------- stopping
@pytest.mark.parametrize(
    ("sig", "replicas"), [(signal.SIGTERM, 2), (signal.SIGINT, 1)], ids=["SIGTERM", "SIGINT"]
)
def test_a_signal_stops_everything_and_frees_every_port(tmp_path, sig, replicas):
    with supervisor(tmp_path, replicas) as s:
        status = s.status()
        pids = family(status["nginx_pid"]) + [p for r in status["replicas"] for p in family(r["pid"])]
        assert len(pids) > 1 + replicas  # nginx's workers are counted too
        ports = [s.port] + [r["port"] for r in status["replicas"]]
        assert all(listening(p) for p in ports)
        open_session(s.url, "", "lang=en", timeout=120)  # with a session open on it
        s.proc.send_signal(sig)
        assert s.proc.wait(40) == 0
        assert [p for p in pids if alive(p)] == []
        assert [p for p in ports if listening(p)] == []
        assert "nothing listening on ports" in s.output()
        assert all(r["state"] == "stopped" for r in s.status()["replicas"])


@pytest.mark.browser
def test_a_browser_draws_the_map_through_nginx_on_one_replica(served, browser):
    """Chromium opens the map page through nginx: the map's assets, the component's frame and the
    websocket all pass, every marker is drawn, and the whole page stayed on one replica."""
    from tests.browser.conftest import open_watched
    from tests.browser.pageutil import map_frame, settled_map_state, wait_idle

    served.wait_rotation({0, 1})
    b = open_watched(browser)
    replicas: set[str] = set()
    b.page.on("response", lambda r: replicas.add(r.headers.get("x-atlas-replica", "")))
    try:
        b.page.goto(served.url + "/map?lang=en")
        wait_idle(b.page, timeout=60_000)
        expected = open_session(served.url, "map", "lang=en", timeout=120)
        points = mapping.shown_points(expected.components("st_folium")[0]["feature_group"])
        state = settled_map_state(map_frame(b.page), expected=points)
        assert state["drawn"] == points
        assert b.watch.problems(allow_basemap=True) == []
        route = next(c["value"] for c in b.context.cookies() if c["name"] == ROUTE_COOKIE)
        port = served.status()["replicas"][answered_by(served, route)[0]]["port"]
        assert replicas - {""} == {f"127.0.0.1:{port}"}  # page, assets, frame and websocket alike
    finally:
        b.context.close()
