"""Start and stop a Streamlit server for the browser benchmarks (cwd = repo root, so
.streamlit/config.toml's static serving applies)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from dashboard.core import paths

APP = paths.DASHBOARD_DIR / "app.py"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-default-apps",
    "--disable-extensions",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SERVER_ERROR = ("Traceback", "Error", "Exception")


def stop(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM, then SIGKILL if it has not ended after ``grace`` seconds."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


@dataclass
class Server:
    proc: subprocess.Popen
    port: int
    stdout: Path
    stderr: Path
    base_path: str = ""  # Streamlit's server.baseUrlPath ("atlas" for /atlas/...)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}" + (f"/{self.base_path}" if self.base_path else "")

    def errors(self) -> list[str]:
        """Lines of the server's output that report an error."""
        text = self.stderr.read_text(encoding="utf-8", errors="replace")
        text += self.stdout.read_text(encoding="utf-8", errors="replace")
        return [ln for ln in text.splitlines() if any(word in ln for word in SERVER_ERROR)]

    def rss_bytes(self) -> int:
        """Resident memory of the server and its children."""
        import psutil

        proc = psutil.Process(self.proc.pid)
        return proc.memory_info().rss + sum(c.memory_info().rss for c in proc.children(recursive=True))


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


@contextlib.contextmanager
def streamlit_server(
    script: str | Path = APP,
    env: dict[str, str] | None = None,
    *,
    data_dir: Path | None = None,
    log_dir: Path | None = None,
    timeout: float = 90,
    base_path: str = "",
) -> Iterator[Server]:
    """Run ``streamlit run script`` on 127.0.0.1 (a free port) until the block ends.

    The one launcher of the benchmarks and the browser and load tests (datasette's pattern: a real
    server on a free port, its health endpoint polled, stopped after). Started from the repository
    root so .streamlit/config.toml (static serving) applies. ``data_dir`` sets ATLAS_DATA_DIR; without
    it the shipped data is served, whatever the caller's environment says. ``base_path`` serves the app
    under ``/<base_path>/`` (as behind a proxy that keeps a prefix); ``Server.url`` includes it.
    """
    port = free_port()
    logs = log_dir or Path(tempfile.mkdtemp(prefix=f"atlas-streamlit-{port}-"))
    logs.mkdir(parents=True, exist_ok=True)
    # the atlas through its launcher (dashboard/shell/server.py: Streamlit's command line, the link
    # guard installed first); any other script (the minimal baseline app) through Streamlit itself
    launcher = "dashboard.shell.server" if Path(script).resolve() == APP.resolve() else "streamlit"
    cmd = [
        sys.executable, "-m", launcher, "run", str(script),
        "--server.port", str(port), "--server.address", "127.0.0.1",
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none", "--server.runOnSave", "false",
        *(["--server.baseUrlPath", base_path] if base_path else []),
    ]  # fmt: skip
    full_env = {k: v for k, v in os.environ.items() if k != "ATLAS_DATA_DIR"}
    full_env.update(env or {})
    full_env["PYTHONUNBUFFERED"] = "1"
    if data_dir is not None:
        full_env["ATLAS_DATA_DIR"] = str(data_dir)
    out_path, err_path = logs / "server.out", logs / "server.err"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        proc = subprocess.Popen(cmd, cwd=paths.ROOT, env=full_env, stdout=out, stderr=err)
    server = Server(proc, port, out_path, err_path, base_path)
    try:
        deadline = time.monotonic() + timeout
        while not _healthy(server.url):
            if proc.poll() is not None:
                tail = err_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"streamlit exited ({proc.returncode}); see {logs}:\n{tail}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not become healthy in {timeout} s; see {logs}")
            time.sleep(0.2)
        yield server
    finally:
        stop(proc)


@contextlib.contextmanager
def chromium() -> Iterator:
    """A headless Debian Chromium driven by Playwright (never downloads a browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
