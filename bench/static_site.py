"""The static site (``make site``) served by nginx with no Python running, on loopback: requests per second.

:func:`serve_static` runs Debian's nginx with ``deploy/nginx-site.conf.template`` on a free port of
127.0.0.1 over a site folder; :func:`measure` loads one address of it for a few seconds with ``wrk``
(Debian's package, ``make wrk``) when it is installed, else with a bounded Python client (asyncio,
keep-alive connections; it measures less than nginx can do, and says so). Every request asks for gzip,
as browsers do. A response that is not 200 counts as an error.

:func:`run_site` builds the site, checks that nginx serves every file of it, and measures the map page
(``ja/map.html``), the map's own page that it frames (``ja/map-view.html``, most of the bytes) and the
whole atlas's page (``ja/index.html``).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench._server import free_port, stop
from dashboard.core import paths
from deploy.serve import hidden_from_workers, listening, render, worker_user_line

NGINX = "/usr/sbin/nginx"
WRK = "/usr/bin/wrk"
TEMPLATE = paths.ROOT / "deploy" / "nginx-site.conf.template"
MIME_TYPES = "/etc/nginx/mime.types"
PAGES = ("ja/map.html", "ja/map-view.html", "ja/index.html")
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class Static:
    url: str
    root: Path
    run_dir: Path
    proc: subprocess.Popen


@contextlib.contextmanager
def serve_static(root: Path) -> Iterator[Static]:
    """nginx serving ``root`` on 127.0.0.1 (a free port) until the block ends; nothing outside a
    temporary run folder is written."""
    root = Path(root).resolve()
    hidden = hidden_from_workers(root)
    if hidden is not None:
        raise RuntimeError(f"nginx's workers (another user) cannot enter {hidden}: build the site elsewhere")
    run_dir = Path(tempfile.mkdtemp(prefix="atlas-site-"))
    run_dir.chmod(0o755)
    (run_dir / "tmp").mkdir()
    port = free_port()
    config = run_dir / "nginx.conf"
    config.write_text(
        render(
            TEMPLATE.read_text(encoding="utf-8"),
            user=worker_user_line(),
            run_dir=str(run_dir),
            mime_types=MIME_TYPES,
            listen=f"127.0.0.1:{port}",
            root=str(root),
        ),
        encoding="utf-8",
    )
    cmd = [NGINX, "-p", str(run_dir), "-c", str(config), "-e", str(run_dir / "nginx-error.log")]
    check = subprocess.run([*cmd, "-t", "-q"], capture_output=True, text=True, check=False)
    if check.returncode != 0:
        raise RuntimeError(f"nginx rejects {config}:\n{check.stderr}")
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        while not listening(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"nginx did not start: {(run_dir / 'nginx-error.log').read_text()[-1500:]}"
                )
            time.sleep(0.05)
        yield Static(f"http://127.0.0.1:{port}", root, run_dir, proc)
    finally:
        stop(proc)
        shutil.rmtree(run_dir, ignore_errors=True)


def get(url: str, gzip: bool = True) -> tuple[int, dict[str, str], bytes]:
    headers = {"Accept-Encoding": "gzip"} if gzip else {}
    with DIRECT.open(urllib.request.Request(url, headers=headers), timeout=30) as r:
        return r.status, dict(r.headers.items()), r.read()


# ---------------------------------------------------------------------------------- load
def measure(
    url: str, seconds: float = 10.0, connections: int = 50, tool: str | None = None
) -> dict[str, Any]:
    """Requests per second for ``url`` over ``seconds`` with ``connections`` keep-alive connections."""
    tool = tool or ("wrk" if shutil.which(WRK) else "python")
    if tool == "wrk":
        return _wrk(url, seconds, connections)
    # in a thread of its own: the caller's thread may already run an event loop (Playwright's sync API)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(_python_load(url, seconds, connections))).result()


def _wrk(url: str, seconds: float, connections: int) -> dict[str, Any]:
    threads = 2
    cmd = [WRK, f"-t{threads}", f"-c{max(connections, threads)}", f"-d{max(1, round(seconds))}s", "--latency",
           "-H", "Accept-Encoding: gzip", url]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout

    def number(pattern: str) -> float | None:
        m = re.search(pattern, out)
        return float(m.group(1)) if m else None

    def ms(label: str) -> float | None:
        m = re.search(rf"{label}\s+([\d.]+)(us|ms|s)\b", out)
        if not m:
            return None
        return round(float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)], 3)

    requests = number(r"(\d+) requests in")
    non_2xx = number(r"Non-2xx or 3xx responses: (\d+)") or 0
    socket_errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    transfer = re.search(r"Transfer/sec:\s+(\S+)", out)
    return {
        "tool": "wrk 4 (Debian)",
        "command": " ".join([*cmd[:-1], "URL"]),
        "seconds": seconds,
        "connections": connections,
        "requests": int(requests or 0),
        "rps": number(r"Requests/sec:\s+([\d.]+)"),
        "latency_ms": {"p50": ms("50%"), "p99": ms("99%")},
        "errors": int(non_2xx) + socket_errors,
        "transfer_per_s": transfer.group(1) if transfer else None,
    }


async def _python_load(url: str, seconds: float, connections: int) -> dict[str, Any]:
    """A bounded client: ``connections`` keep-alive connections asking for ``url`` until time is up."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    request = (f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\nAccept-Encoding: gzip\r\n"
               "User-Agent: atlas-bench\r\n\r\n").encode()  # fmt: skip
    deadline = time.monotonic() + seconds
    counts = {"ok": 0, "errors": 0}
    latencies: list[float] = []

    async def one() -> None:
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        try:
            while time.monotonic() < deadline:
                t0 = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head.split(b" ", 2)[1])
                length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))
                await reader.readexactly(length)
                latencies.append(time.perf_counter() - t0)
                counts["ok" if status == 200 else "errors"] += 1
        except (OSError, asyncio.IncompleteReadError, AttributeError):
            counts["errors"] += 1
        finally:
            writer.close()

    start = time.monotonic()
    await asyncio.gather(*(one() for _ in range(connections)))
    elapsed = time.monotonic() - start
    latencies.sort()

    def pick(q: float) -> float | None:
        return (
            round(latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000, 3)
            if latencies
            else None
        )

    return {
        "tool": "python asyncio client (one process; measures less than nginx can serve)",
        "seconds": round(elapsed, 2),
        "connections": connections,
        "requests": counts["ok"],
        "rps": round(counts["ok"] / elapsed, 1),
        "latency_ms": {"p50": pick(0.5), "p99": pick(0.99)},
        "errors": counts["errors"],
    }


# ---------------------------------------------------------------------------------- the whole figure
def every_file_served(static: Static) -> list[str]:
    """Problems: a file of the site nginx does not serve as it is (gzip asked for, as browsers do)."""
    import gzip as gz

    problems = []
    for path in sorted(static.root.rglob("*")):
        if not path.is_file() or path.suffix == ".gz":
            continue
        rel = path.relative_to(static.root).as_posix()
        try:
            status, headers, body = get(f"{static.url}/{rel}")
        except OSError as exc:
            problems.append(f"{rel}: {exc}")
            continue
        if headers.get("Content-Encoding") == "gzip":
            body = gz.decompress(body)
        if status != 200 or body != path.read_bytes():
            problems.append(f"{rel}: HTTP {status}, {len(body)} bytes instead of {path.stat().st_size}")
    return problems


def run_site(
    seconds: float = 10.0, connections: int = 50, tool: str | None = None, log=print
) -> dict[str, Any]:
    """Build the site (shipped data; any scenes.yaml in it), serve it with nginx, measure."""
    from dashboard.core.data import load_atlas
    from dashboard.outputs.site import build_site

    atlas = load_atlas(paths.SHIPPED_DATA_DIR)  # the shipped data has no problems (tests/test_data.py)
    root = Path(tempfile.mkdtemp(prefix="atlas-site-build-")) / "site"
    root.parent.chmod(0o755)
    failures: list[str] = []
    try:
        t0 = time.perf_counter()
        report = build_site(root, atlas, scenes=atlas.scenes)
        out: dict[str, Any] = {
            "build_s": round(time.perf_counter() - t0, 2),
            "pages": len(report.pages),
            "files": report.files,
            "mb": round(report.bytes / 1e6, 2),
            "gz_mb": round(report.compressed_bytes / 1e6, 2),
            "scenes": len(report.scenes),
        }
        with serve_static(root) as static:
            served = every_file_served(static)
            failures += [f"site: not served as written: {p}" for p in served]
            out["every_file_served"] = not served
            out["pages_measured"] = {}
            for page in PAGES:
                _, headers, body = get(f"{static.url}/{page}")
                figure = measure(f"{static.url}/{page}", seconds, connections, tool)
                figure["bytes_sent"] = len(body)
                figure["content_encoding"] = headers.get("Content-Encoding")
                figure["file_bytes"] = (root / page).stat().st_size
                out["pages_measured"][page] = figure
                if figure["errors"]:
                    failures.append(f"site: {figure['errors']} errors loading /{page}")
                log(
                    f"  site: /{page} ({figure['file_bytes'] / 1e3:.0f} kB, {len(body) / 1e3:.0f} kB sent): "
                    f"{figure['rps']} requests/s, p99 {figure['latency_ms']['p99']} ms, "
                    f"{figure['errors']} errors ({figure['tool'].split(' (')[0]}, {connections} connections, "
                    f"{seconds:.0f} s)"
                )
    finally:
        shutil.rmtree(root.parent, ignore_errors=True)
    out["failures"] = failures
    return out
