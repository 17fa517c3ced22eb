"""Run ``deploy/serve.py`` (``make serve``: Streamlit replicas behind nginx) for the load tests and the
tests of the supervisor itself, and read its state: which replica has which port and pid, their memory.

    with serving(tmp_path, replicas=2) as s:
        s.url, s.status(), s.replica_of(session.stream_replica), s.rss_mb()

Everything listens on 127.0.0.1; every wait is bounded.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from bench._server import free_port, stop
from dashboard.core import paths

NGINX = "/usr/sbin/nginx"
SERVE = paths.ROOT / "deploy" / "serve.py"


class ServeError(RuntimeError):
    """The supervisor did not reach the state waited for (its output is in the message)."""


def alive(pid: int) -> bool:
    """Is the process there and not a zombie?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(FileNotFoundError):  # a zombie has ended; only its parent must reap it
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    return False


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB (0 if it is gone)."""
    import psutil

    try:
        proc = psutil.Process(pid)
        total = proc.memory_info().rss
        for child in proc.children(recursive=True):
            with contextlib.suppress(psutil.NoSuchProcess):
                total += child.memory_info().rss
    except psutil.NoSuchProcess:
        return 0.0
    return total / 2**20


@dataclass
class Served:
    proc: subprocess.Popen
    port: int
    run_dir: Path
    out: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def status(self) -> dict:
        try:
            return json.loads((self.run_dir / "status.json").read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return {}

    def output(self) -> str:
        return self.out.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, what: str, condition: Callable[[dict], bool], timeout: float = 90) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.status()
            if status and condition(status):
                return status
            if self.proc.poll() is not None:
                raise ServeError(
                    f"the supervisor exited ({self.proc.returncode}) waiting for {what}:\n{self.output()}"
                )
            time.sleep(0.1)
        raise ServeError(
            f"no {what} within {timeout:.0f} s; status: {self.status()}\n{self.output()[-3000:]}"
        )

    def wait_rotation(self, indices: set[int], timeout: float = 90) -> dict:
        return self.wait_for(
            f"replicas {sorted(indices)} in rotation",
            lambda s: s["ready"] and {r["index"] for r in s["replicas"] if r["in_rotation"]} == indices,
            timeout,
        )

    def replica_of(self, upstream: str | None) -> int:
        """The index of the replica at ``127.0.0.1:port`` (nginx's X-Atlas-Replica)."""
        by_port = {f"127.0.0.1:{r['port']}": r["index"] for r in self.status()["replicas"]}
        if upstream not in by_port:
            raise ServeError(f"{upstream!r} is not a replica: {by_port}")
        return by_port[upstream]

    def pids(self) -> dict[int, int]:
        """Replica index -> pid, as the supervisor last wrote it."""
        return {r["index"]: r["pid"] for r in self.status().get("replicas", []) if r["pid"]}

    def rss_mb(self) -> dict[int, float]:
        """Replica index -> resident memory (MB) of its Streamlit process."""
        return {i: round(rss_mb(pid), 1) for i, pid in self.pids().items()}


@contextlib.contextmanager
def serving(
    tmp: Path,
    replicas: int,
    *extra: str,
    fast_checks: bool = True,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> Iterator[Served]:
    """``deploy/serve.py`` with ``replicas`` replicas on a free port, its output and at the end its
    logs in ``tmp``; stopped (SIGTERM) at the end, and any replica a failure left behind is killed.

    ``fast_checks``: health checked every 0.3 s, an answer within 0.6 s, two misses take a replica out
    (the supervisor's own tests); without, ``make serve``'s settings (the load tests measure those).
    The run folder is a new folder in the system's temporary folder (as root, nginx's workers run as
    another user and must be able to enter it; a test's ``tmp`` may be private), removed at the end
    unless something failed."""
    port = free_port()
    run_dir, out = Path(tempfile.mkdtemp(prefix="atlas-serve-")), tmp / "serve.out"
    checks = ["--interval", "0.3", "--fails", "2", "--health-timeout", "0.6"] if fast_checks else []
    cmd = [sys.executable, str(SERVE), "--replicas", str(replicas), "--port", str(port),
           "--run-dir", str(run_dir), *checks, *extra]  # fmt: skip
    full_env = {k: v for k, v in os.environ.items() if k != "ATLAS_DATA_DIR"}  # the shipped data
    full_env.update(env or {})
    with out.open("wb") as fh:
        proc = subprocess.Popen(cmd, cwd=paths.ROOT, stdout=fh, stderr=subprocess.STDOUT, env=full_env)
    served = Served(proc, port, run_dir, out)
    failed = True
    try:
        served.wait_rotation(set(range(replicas)), timeout=timeout)
        yield served
        failed = False
    finally:
        stop(proc, grace=40)  # the supervisor stops nginx and every replica first
        for r in served.status().get("replicas", []):  # never leave a replica behind a failure
            if r["pid"] and alive(r["pid"]):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(r["pid"], signal.SIGCONT)
                    os.kill(r["pid"], signal.SIGKILL)
        if failed:
            with out.open("a", encoding="utf-8") as fh:
                fh.write(f"\n(the run folder is kept: {run_dir})\n")
        else:  # its logs are kept beside the output
            with contextlib.suppress(OSError):
                for log in [*run_dir.glob("*.log"), *(run_dir / "logs").glob("*.log")]:
                    shutil.copy2(log, tmp / log.name)
            shutil.rmtree(run_dir, ignore_errors=True)
